"""The sync queue (SQS FIFO) between the events stream and the sender.

Messages are JSON bodies (see :mod:`teamcal.services.replication`); ``MessageGroupId`` orders
them per synchronization and event series, ``MessageDeduplicationId`` makes a re-published stream
record (streams deliver at least once) a no-op within SQS's five-minute window.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from teamcal.errors import RetryableError
from teamcal.observability import logger


class SyncQueue:
    """Sends to and manages messages of the sync queue; ``client`` is a boto3 SQS client."""

    def __init__(self, client: Any, url: str) -> None:
        self._client = client
        self._url = url

    def send(self, group: str, dedup: str, body: Mapping[str, Any]) -> None:
        """Send one message (one at a time: a partial batch failure could reorder a group).

        Raises:
            RetryableError: SQS refused or failed; the stream batch is retried from this record.
        """
        try:
            self._client.send_message(
                QueueUrl=self._url,
                MessageBody=json.dumps(body, separators=(",", ":")),
                MessageGroupId=group,
                MessageDeduplicationId=dedup,
            )
        except (ClientError, BotoCoreError) as e:
            raise RetryableError("the sync queue refused a message; retry") from e

    def delay(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again in ``seconds`` (the retry backoff). A failure is
        logged only: the message then comes back after the queue's visibility timeout."""
        try:
            self._client.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except (ClientError, BotoCoreError) as e:
            logger.warning("could not delay a sync message", extra={"reason": str(e)})
