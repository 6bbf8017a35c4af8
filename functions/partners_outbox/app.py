"""The outbox of event replication: the events table's stream → the sync queue (issue 7).

Triggered by the DynamoDB stream of EventsTable (NEW_AND_OLD_IMAGES, filtered to events' main
items, ``sk = "EV"``). Each record becomes one message per mapping that pushes the event's
calendar to a partner (:func:`teamcal.services.replication.outbox.publish`). A record that cannot be
queued is reported with ReportBatchItemFailures: the stream retries from it, in order.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import aws
from teamcal.observability import logger, metrics, tracer
from teamcal.services.replication import outbox
from teamcal.settings import get_partner_settings, get_settings
from teamcal.storage.invitations import InvitationRepository
from teamcal.storage.sync_queue import SyncQueue

settings = get_settings()
queue_url = get_partner_settings().require_queue_url()


@lru_cache(maxsize=1)
def invitations() -> InvitationRepository:
    return InvitationRepository(aws.client("dynamodb"), settings.invitations_table)


@lru_cache(maxsize=1)
def queue() -> SyncQueue:
    return SyncQueue(aws.client("sqs"), queue_url)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """``{"Records": [...]}`` (DynamoDB stream event) → ``{"batchItemFailures": [...]}``."""
    failed = outbox.publish(invitations(), queue(), DynamoDBStreamEvent(event))
    return {"batchItemFailures": [] if failed is None else [{"itemIdentifier": failed}]}
