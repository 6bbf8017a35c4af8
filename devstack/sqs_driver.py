"""The SQS driver: runs the template's ``Type: SQS`` event sources.

moto keeps queues, visibility timeouts, FIFO message groups and redrive to a dead-letter queue
(a message received ``maxReceiveCount`` times moves there on the next receive), but never invokes
a consumer. This driver does what Lambda's event source mapping does, per source:

* polls ``ReceiveMessage`` (at most ``BatchSize``, capped at 10, messages; every ``poll_seconds``,
  backing off to once a second while the queue stays empty) with every system attribute;
* invokes the function with Lambda's SQS event shape (``messageId``, ``receiptHandle``, ``body``,
  ``attributes`` with ``ApproximateReceiveCount``, ``SentTimestamp``, ``MessageGroupId``, …,
  ``messageAttributes``, ``md5OfBody``, ``eventSource``, ``eventSourceARN``, ``awsRegion``);
* on success deletes the batch's messages, except, with ``FunctionResponseTypes:
  [ReportBatchItemFailures]``, those named in ``{"batchItemFailures": [{"itemIdentifier":
  <messageId>}]}`` (a malformed answer fails the whole batch, as on Lambda); on an error or a
  timeout deletes nothing: the messages come back when their visibility timeout ends (the queue's
  ``VisibilityTimeout``, or what the function set with ChangeMessageVisibility), and moto's
  redrive policy moves them to the dead-letter queue in the end.

``MaximumBatchingWindowInSeconds`` and ``ScalingConfig`` are not emulated (one poller per source,
one batch at a time, which keeps a FIFO queue's order trivially).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.drivers import FunctionError, FunctionTimeout, Invoke, PollingDriver
from devstack.routing import TemplateError
from devstack.stream_driver import idle_wait
from devstack.template import REGION, Template

log = logging.getLogger("devstack.sqs")


@dataclass(frozen=True)
class QueueSource:
    """One ``Type: SQS`` event of a function, as read from the template."""

    function: str
    event: str
    queue: str
    arn: str
    batch_size: int = 10
    report_failures: bool = False


def queue_sources(tpl: Template) -> list[QueueSource]:
    """Every ``Type: SQS`` event of the template's functions.

    Raises:
        TemplateError: ``Queue`` is not ``!GetAtt <a queue of the template>.Arn``.
    """
    found = []
    for logical_id, resource in tpl.of_type("AWS::Serverless::Function"):
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") != "SQS":
                continue
            props = event.get("Properties") or {}
            target = (props.get("Queue") or {}).get("Fn::GetAtt") if isinstance(props.get("Queue"), Mapping) else None
            if isinstance(target, str):
                target = target.split(".", 1)
            if (
                not isinstance(target, list)
                or len(target) != 2
                or target[1] != "Arn"
                or tpl.resources.get(target[0], {}).get("Type") != "AWS::SQS::Queue"
            ):
                raise TemplateError(f"{logical_id}.{name}: Queue must be !GetAtt <a queue of the template>.Arn")
            found.append(
                QueueSource(
                    function=logical_id,
                    event=name,
                    queue=tpl.physical_name(target[0]),
                    arn=tpl.arn(target[0]),
                    batch_size=min(int(tpl.resolve(props.get("BatchSize", 10))), 10),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                )
            )
    return found


def _attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode("ascii") if isinstance(binary, bytes | bytearray) else None,
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [],
        "dataType": value.get("DataType"),
    }


def lambda_record(message: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """A ``ReceiveMessage`` message (as botocore returns it) in the shape Lambda delivers."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {str(k): str(v) for k, v in (message.get("Attributes") or {}).items()},
        "messageAttributes": {k: _attribute(v) for k, v in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }


def failed_ids(result: Any, batch: list[dict[str, Any]]) -> set[str] | None:
    """The message ids ReportBatchItemFailures names; None when the answer is malformed."""
    failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
    if not failures:
        return set()
    ids = {r["messageId"] for r in batch}
    try:
        named = {str(f["itemIdentifier"]) for f in failures}
    except (KeyError, TypeError):
        return None
    return named if named <= ids else None


class SqsDriver(PollingDriver):
    """Drive ``tpl``'s SQS event sources; ``endpoint`` has ``client(service)`` (boto3 pointed at
    the moto server), ``invoke`` runs a function by logical id."""

    _thread_name = "devstack-sqs"
    _join_seconds = 65.0

    def __init__(self, tpl: Template, invoke: Invoke, endpoint: Any, *, poll_seconds: float = 0.2) -> None:
        super().__init__(queue_sources(tpl))
        self._invoke = invoke
        self._endpoint = endpoint
        self._poll = poll_seconds

    def _run(self, source: QueueSource) -> None:
        sqs = self._endpoint.client("sqs")
        try:
            url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
        except (ClientError, BotoCoreError) as e:
            log.error("%s.%s: cannot find queue %s: %s", source.function, source.event, source.queue, e)
            return
        idle = 0
        while not self._stopping.is_set():
            try:
                busy = self.poll_once(source, sqs, url)
            except (ClientError, BotoCoreError) as e:
                log.warning("%s.%s: queue read failed: %s", source.function, source.event, e)
                busy = False
            idle = 0 if busy else idle + 1
            if not busy:
                self._stopping.wait(idle_wait(self._poll, idle))

    def poll_once(self, source: QueueSource, sqs: Any, url: str) -> bool:
        """Receive one batch and deliver it; True when there was one."""
        out = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=source.batch_size,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        messages = out.get("Messages") or []
        if not messages:
            return False
        batch = [lambda_record(m, source.arn) for m in messages]
        try:
            result = self._invoke(source.function, {"Records": batch})
        except (FunctionError, FunctionTimeout) as e:
            log.warning("%s.%s failed on %d messages: %s", source.function, source.event, len(batch), e)
            return True
        keep = failed_ids(result, batch) if source.report_failures else set()
        if keep is None:
            log.warning("%s.%s: malformed batchItemFailures; the batch is retried", source.function, source.event)
            return True
        done = [r for r in batch if r["messageId"] not in keep]
        for start in range(0, len(done), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done[start : start + 10])
            ]
            sqs.delete_message_batch(QueueUrl=url, Entries=entries)
        return True
