"""The sender of event replication: the sync queue → the partner's webhook (issue 7).

Triggered by the FIFO sync queue (batches of up to 10, ReportBatchItemFailures). Each message is
one change for one partner: it is signed and POSTed (:func:`teamcal.services.replication.sender.deliver`);
a change the partner could not take now is delayed with exponential backoff and retried, in
order per event, until the queue's dead-letter queue takes it (after 100 receives).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import aws
from teamcal.observability import logger, metrics, tracer
from teamcal.services.replication import sender
from teamcal.services.sync_context import SyncContext, connect_from_settings
from teamcal.settings import get_partner_settings, get_settings
from teamcal.storage.sync_queue import SyncQueue

settings = get_settings()
partner_settings = get_partner_settings()
queue_url = partner_settings.require_queue_url()


@lru_cache(maxsize=1)
def context() -> SyncContext:
    return connect_from_settings(aws.client("dynamodb"), aws.client("secretsmanager"), settings, partner_settings)


@lru_cache(maxsize=1)
def queue() -> SyncQueue:
    return SyncQueue(aws.client("sqs"), queue_url)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context_: LambdaContext) -> dict[str, Any]:
    """``{"Records": [...]}`` (SQS event) → ``{"batchItemFailures": [{"itemIdentifier": messageId}]}``."""
    failed = sender.deliver(
        context(),
        queue(),
        event.get("Records") or [],
        partner_settings.sync_retry_base_seconds,
        seconds_left=lambda: context_.get_remaining_time_in_millis() / 1000,
    )
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
