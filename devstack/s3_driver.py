"""The S3 driver: runs the template's ``Type: S3`` event sources (bucket notifications).

moto keeps a bucket's notification configuration and, for a *queue* target, sends S3's event
message to that queue whenever an object is created — also through a presigned PUT URL — but it
never invokes a Lambda target. So the driver routes the template's S3 events through SQS in moto:

* at start, for every bucket an S3 event names (``Bucket: !Ref <bucket>``, as SAM requires), it
  creates the queue ``<stack>-s3-<bucket logical id>`` and puts the bucket's notification
  configuration: one QueueConfiguration per function event, ``Id = <Function>.<Event>``, with the
  event's ``Events`` and ``Filter.S3Key.Rules`` (prefix / suffix), all to that queue;
* a poller thread per bucket long-polls the queue and, for every record, invokes the function
  whose ``<Function>.<Event>`` is the record's ``s3.configurationId`` with ``{"Records":
  [record]}`` — the event Lambda gets from S3 — asynchronously, as S3 invokes Lambda (``Event``
  invocation type): the poller does not wait for the function, and a function error or timeout
  is retried twice (Lambda's default for asynchronous invocations, with seconds instead of
  minutes between attempts). ``s3:TestEvent`` messages are dropped.

Why notifications rather than polling the bucket: a prefix listing would miss an object written
again under the same key (an interrupted import copies its object onto itself to continue) and
costs more as the bucket grows; this way the local stack sees exactly the events S3 would send.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.drivers import FunctionError, FunctionTimeout, Invoke
from devstack.routing import TemplateError
from devstack.template import ACCOUNT, REGION, Template

log = logging.getLogger("devstack.s3")

#: Attempts of an asynchronous invocation (the first and Lambda's two retries).
ATTEMPTS = 3


@dataclass(frozen=True)
class S3Source:
    """One ``Type: S3`` event of a function: its bucket (logical id), events and key filter."""

    function: str
    event: str
    bucket: str
    events: tuple[str, ...]
    rules: tuple[tuple[str, str], ...] = ()

    @property
    def configuration_id(self) -> str:
        return f"{self.function}.{self.event}"


def s3_sources(tpl: Template) -> list[S3Source]:
    """Every ``Type: S3`` event of the template's functions.

    Raises:
        TemplateError: ``Bucket`` is not ``!Ref <a bucket of the template>`` (SAM's own rule).
    """
    found = []
    for logical_id, resource in tpl.of_type("AWS::Serverless::Function"):
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") != "S3":
                continue
            props = event.get("Properties") or {}
            bucket = props.get("Bucket")
            target = bucket.get("Ref") if isinstance(bucket, Mapping) else None
            if not isinstance(target, str) or tpl.resources.get(target, {}).get("Type") != "AWS::S3::Bucket":
                raise TemplateError(f"{logical_id}.{name}: Bucket must be !Ref <a bucket of the template>")
            events = props.get("Events")
            rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
            found.append(
                S3Source(
                    function=logical_id,
                    event=name,
                    bucket=target,
                    events=tuple([events] if isinstance(events, str) else events or ()),
                    rules=tuple((str(r["Name"]).lower(), str(tpl.resolve(r["Value"]))) for r in rules),
                )
            )
    return found


@dataclass
class _Bucket:
    name: str
    queue_url: str
    sources: dict[str, S3Source] = field(default_factory=dict)


class S3Driver:
    """Drive ``tpl``'s S3 events against the emulator behind ``endpoint`` (a boto3 session-like
    object with ``client(service)``), invoking functions through ``invoke``."""

    def __init__(self, tpl: Template, invoke: Invoke, endpoint: Any, poll_seconds: int = 1) -> None:
        self._tpl = tpl
        self._invoke = invoke
        self._endpoint = endpoint
        self._poll_seconds = poll_seconds
        self._sources = s3_sources(tpl)
        self._buckets: list[_Bucket] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Create the queues and notification configurations, then start polling."""
        if not self._sources:
            return
        sqs = self._endpoint.client("sqs", region_name=REGION)
        s3 = self._endpoint.client("s3", region_name=REGION)
        by_bucket: dict[str, list[S3Source]] = {}
        for source in self._sources:
            by_bucket.setdefault(source.bucket, []).append(source)
        for logical_id, sources in by_bucket.items():
            queue = f"{self._tpl.stack}-s3-{logical_id}"[:80]
            url = sqs.create_queue(QueueName=queue)["QueueUrl"]
            arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"
            name = self._tpl.physical_name(logical_id)
            configurations = []
            for source in sources:
                configuration: dict[str, Any] = {
                    "Id": source.configuration_id,
                    "QueueArn": arn,
                    "Events": list(source.events),
                }
                if source.rules:
                    configuration["Filter"] = {
                        "Key": {"FilterRules": [{"Name": n, "Value": v} for n, v in source.rules]}
                    }
                configurations.append(configuration)
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": configurations}
            )
            self._buckets.append(_Bucket(name, url, {s.configuration_id: s for s in sources}))
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="devstack-s3-invoke")
        for bucket in self._buckets:
            thread = threading.Thread(
                target=self._poll, args=(bucket, sqs), name=f"devstack-s3-{bucket.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop polling; invocations under way finish first."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # ------------------------------------------------------------------ polling
    def _poll(self, bucket: _Bucket, sqs: Any) -> None:
        while not self._stop.is_set():
            try:
                out = sqs.receive_message(
                    QueueUrl=bucket.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=self._poll_seconds
                )
            except (BotoCoreError, ClientError) as e:
                if self._stop.is_set():
                    return
                log.warning("s3 events of %s: receive failed: %s", bucket.name, e)
                time.sleep(self._poll_seconds)
                continue
            for message in out.get("Messages") or []:
                self._dispatch(bucket, message.get("Body") or "")
                try:
                    sqs.delete_message(QueueUrl=bucket.queue_url, ReceiptHandle=message["ReceiptHandle"])
                except (BotoCoreError, ClientError) as e:
                    log.warning("s3 events of %s: delete failed: %s", bucket.name, e)

    def _dispatch(self, bucket: _Bucket, body: str) -> None:
        try:
            payload = json.loads(body)
        except ValueError:
            log.warning("s3 events of %s: not JSON: %.200s", bucket.name, body)
            return
        if not isinstance(payload, dict) or payload.get("Event") == "s3:TestEvent":
            return
        for record in payload.get("Records") or []:
            configuration = str((record.get("s3") or {}).get("configurationId", ""))
            source = bucket.sources.get(configuration)
            if source is None:
                log.warning("s3 events of %s: no function for configuration %r", bucket.name, configuration)
                continue
            if self._pool is not None:
                self._pool.submit(self._invoke_async, source, {"Records": [record]})

    def _invoke_async(self, source: S3Source, event: dict[str, Any]) -> None:
        key = event["Records"][0].get("s3", {}).get("object", {}).get("key")
        for attempt in range(1, ATTEMPTS + 1):
            try:
                self._invoke(source.function, event)
                return
            except (FunctionError, FunctionTimeout) as e:
                log.warning("%s (S3 %s, attempt %d of %d): %s", source.function, key, attempt, ATTEMPTS, e)
            if self._stop.wait(attempt):
                return
