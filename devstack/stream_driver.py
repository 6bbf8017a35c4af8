"""The DynamoDB Streams driver: runs the template's ``Type: DynamoDB`` event sources.

moto records stream records for every write (PutItem, UpdateItem, DeleteItem, the items of a
TransactWriteItems, BatchWriteItem) and serves them through the ``dynamodbstreams`` API, but never
invokes a consumer. This driver does what Lambda's event source mapping does, per source:

* reads the table's latest stream (the template's ``Stream: !GetAtt <Table>.StreamArn``) from
  ``StartingPosition`` (``TRIM_HORIZON`` or ``LATEST``), polling ``GetRecords`` every
  ``poll_seconds``, backing off to once a second while nothing happens (:func:`idle_wait`);
* drops records that match none of ``FilterCriteria.Filters`` (Lambda event filtering: nested
  keys, exact values, ``prefix``, ``exists``, ``anything-but``; any other operator is refused at
  start with :class:`~devstack.routing.TemplateError` rather than filtered differently);
* invokes the function with batches of at most ``BatchSize`` records in Lambda's event shape
  (``eventID``, ``eventName``, ``eventSource``, ``eventSourceARN``, ``dynamodb`` with ``Keys``,
  ``NewImage``, ``OldImage``, ``SequenceNumber``, ``ApproximateCreationDateTime`` in epoch seconds);
* in order, per shard: a batch is retried (after ``retry_seconds``) until it succeeds; with
  ``FunctionResponseTypes: [ReportBatchItemFailures]`` the function's
  ``{"batchItemFailures": [{"itemIdentifier": <SequenceNumber>}]}`` makes it retry from the
  lowest failed record (a malformed answer fails the whole batch, as on Lambda);
  ``BisectBatchOnFunctionError`` halves the batch after an error; ``MaximumRetryAttempts`` (when
  set and not -1) drops a batch after that many retries, logged. ``DestinationConfig`` and
  ``MaximumRecordAgeInSeconds`` are not emulated (moto keeps every record).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from devstack.drivers import FunctionError, FunctionTimeout, Invoke, PollingDriver
from devstack.routing import TemplateError
from devstack.template import REGION, Template

log = logging.getLogger("devstack.streams")

_LEAF_OPERATORS = frozenset({"prefix", "exists", "anything-but"})
#: The longest a driver waits between two polls of an idle source (seconds).
MAX_IDLE_WAIT = 1.0


def idle_wait(poll_seconds: float, idle_polls: int) -> float:
    """The wait after ``idle_polls`` empty polls in a row: ``poll_seconds``, doubling, at most
    :data:`MAX_IDLE_WAIT` (an idle stack costs the moto server little; a busy one is served at once)."""
    return float(min(MAX_IDLE_WAIT, poll_seconds * 2 ** min(max(idle_polls - 1, 0), 10)))


@dataclass(frozen=True)
class StreamSource:
    """One ``Type: DynamoDB`` event of a function, as read from the template."""

    function: str
    event: str
    table: str
    starting_position: str = "TRIM_HORIZON"
    batch_size: int = 100
    filters: tuple[dict[str, Any], ...] = ()
    report_failures: bool = False
    bisect: bool = False
    max_retries: int | None = None


def _check_pattern(pattern: Any, where: str) -> None:
    if not isinstance(pattern, Mapping):
        raise TemplateError(f"{where}: a filter pattern must be a JSON object")
    for key, cond in pattern.items():
        if isinstance(cond, Mapping):
            _check_pattern(cond, where)
        elif isinstance(cond, list):
            for leaf in cond:
                if isinstance(leaf, Mapping) and (len(leaf) != 1 or next(iter(leaf)) not in _LEAF_OPERATORS):
                    raise TemplateError(f"{where}: filter operator {leaf!r} on {key!r} is not emulated")
        else:
            raise TemplateError(f"{where}: filter values must be lists or objects ({key!r})")


def stream_sources(tpl: Template) -> list[StreamSource]:
    """Every ``Type: DynamoDB`` event of the template's functions.

    Raises:
        TemplateError: ``Stream`` is not ``!GetAtt <a table of the template>.StreamArn``, or a
            filter uses an operator that is not emulated.
    """
    found = []
    for logical_id, resource in tpl.of_type("AWS::Serverless::Function"):
        for name, event in ((resource.get("Properties") or {}).get("Events") or {}).items():
            if event.get("Type") != "DynamoDB":
                continue
            where = f"{logical_id}.{name}"
            props = event.get("Properties") or {}
            target = (props.get("Stream") or {}).get("Fn::GetAtt") if isinstance(props.get("Stream"), Mapping) else None
            if isinstance(target, str):
                target = target.split(".", 1)
            if not isinstance(target, list) or len(target) != 2 or target[1] != "StreamArn":
                raise TemplateError(f"{where}: Stream must be !GetAtt <Table>.StreamArn")
            if tpl.resources.get(target[0], {}).get("Type") != "AWS::DynamoDB::Table":
                raise TemplateError(f"{where}: {target[0]!r} is not a table of the template")
            filters = []
            for spec in (props.get("FilterCriteria") or {}).get("Filters") or []:
                pattern = json.loads(str(tpl.resolve(spec.get("Pattern"))))
                _check_pattern(pattern, where)
                filters.append(pattern)
            retries = props.get("MaximumRetryAttempts")
            found.append(
                StreamSource(
                    function=logical_id,
                    event=name,
                    table=tpl.physical_name(target[0]),
                    starting_position=str(tpl.resolve(props.get("StartingPosition", "TRIM_HORIZON"))),
                    batch_size=int(tpl.resolve(props.get("BatchSize", 100))),
                    filters=tuple(filters),
                    report_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
                    bisect=bool(tpl.resolve(props.get("BisectBatchOnFunctionError", False))),
                    max_retries=None if retries is None or int(retries) < 0 else int(retries),
                )
            )
    return found


def _leaf(cond: Any, value: Any, present: bool) -> bool:
    if isinstance(cond, Mapping):
        ((op, arg),) = cond.items()
        if op == "exists":
            return present == bool(arg)
        if op == "prefix":
            return isinstance(value, str) and value.startswith(str(arg))
        return present and value not in (arg if isinstance(arg, list) else [arg])  # anything-but
    return present and value == cond


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether ``record`` matches one Lambda event-filtering ``pattern`` (see the module doc)."""
    for key, cond in pattern.items():
        present = isinstance(record, Mapping) and key in record
        value = record.get(key) if present else None
        if isinstance(cond, Mapping):
            if not isinstance(value, Mapping) or not matches(cond, value):
                return False
        elif not any(_leaf(c, value, present) for c in cond):
            return False
    return True


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    return value


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A ``GetRecords`` record (as botocore returns it) in the shape Lambda delivers."""
    out: dict[str, Any] = _jsonable(record)
    out.update(eventSourceARN=stream_arn, eventVersion="1.1", eventSource="aws:dynamodb", awsRegion=REGION)
    return out


@dataclass
class _Shard:
    iterator: str | None
    pending: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    limit: int = 0


class StreamDriver(PollingDriver):
    """Drive ``tpl``'s DynamoDB stream event sources; ``endpoint`` has ``client(service)``
    (boto3 pointed at the moto server), ``invoke`` runs a function by logical id."""

    _thread_name = "devstack-stream"
    _join_seconds = 35.0

    def __init__(
        self,
        tpl: Template,
        invoke: Invoke,
        endpoint: Any,
        *,
        poll_seconds: float = 0.2,
        retry_seconds: float = 1.0,
    ) -> None:
        super().__init__(stream_sources(tpl))
        self._invoke = invoke
        self._endpoint = endpoint
        self._poll = poll_seconds
        self._retry = retry_seconds
        # per source (function, event): empty polls so far (None: its stream cannot be read)
        self._empty_polls: dict[tuple[str, str], int | None] = {}
        self._polled = threading.Condition()

    def _count_empty_poll(self, source: StreamSource, unreadable: bool = False) -> None:
        with self._polled:
            key = (source.function, source.event)
            count = self._empty_polls.get(key, 0)
            self._empty_polls[key] = None if unreadable or count is None else count + 1
            self._polled.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every source has delivered every record written before the call: two
        polls of each finding nothing new after the call (the first may have begun before it).
        ``timeout`` in seconds; ``False`` when some source was still busy then (a source whose
        stream cannot be read counts as idle). For benches and tools that time what follows a
        bulk write, not the stream work it sets off."""
        deadline = time.monotonic() + timeout
        keys = [(s.function, s.event) for s in self.sources]
        with self._polled:
            start = {k: self._empty_polls.get(k, 0) for k in keys}

            def done() -> bool:
                for k in keys:
                    now, then = self._empty_polls.get(k, 0), start[k]
                    if now is not None and then is not None and now < then + 2:
                        return False
                return True

            return self._polled.wait_for(done, timeout=max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------------ polling
    def _open(self, source: StreamSource) -> tuple[Any, str, list[_Shard]]:
        streams = self._endpoint.client("dynamodbstreams")
        arn = self._endpoint.client("dynamodb").describe_table(TableName=source.table)["Table"]["LatestStreamArn"]
        shards = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType=source.starting_position
            )["ShardIterator"]
            shards.append(_Shard(iterator=iterator, limit=source.batch_size))
        return streams, arn, shards

    def _run(self, source: StreamSource) -> None:
        try:
            streams, arn, shards = self._open(source)
        except (ClientError, BotoCoreError, KeyError) as e:
            log.error("%s.%s: cannot read the stream of %s: %s", source.function, source.event, source.table, e)
            self._count_empty_poll(source, unreadable=True)
            return
        idle = 0
        while not self._stopping.is_set():
            busy = False
            for shard in shards:
                try:
                    busy = self._step(source, streams, arn, shard) or busy
                except (ClientError, BotoCoreError) as e:
                    log.warning("%s.%s: stream read failed: %s", source.function, source.event, e)
            idle = 0 if busy else idle + 1
            if not busy and not any(shard.pending for shard in shards):
                self._count_empty_poll(source)
            if not busy:
                self._stopping.wait(idle_wait(self._poll, idle))

    def _step(self, source: StreamSource, streams: Any, arn: str, shard: _Shard) -> bool:
        """One polling step of a shard; True when there was work (poll again at once)."""
        if not shard.pending:
            if shard.iterator is None:
                return False
            out = streams.get_records(ShardIterator=shard.iterator, Limit=1000)
            shard.iterator = out.get("NextShardIterator")
            records = [lambda_record(r, arn) for r in out.get("Records") or []]
            shard.pending = [r for r in records if not source.filters or any(matches(f, r) for f in source.filters)]
            if not shard.pending:
                return bool(records)
        batch = shard.pending[: max(shard.limit, 1)]
        done, errored = self._deliver(source, batch)
        shard.pending = shard.pending[done:]
        if done == len(batch):
            shard.attempts, shard.limit = 0, source.batch_size
            return True
        if errored and source.bisect and len(batch) > 1:
            shard.limit = max(1, len(batch) // 2)  # BisectBatchOnFunctionError
        shard.attempts += 1
        if source.max_retries is not None and shard.attempts > source.max_retries:
            dropped = len(batch) - done
            log.error("%s.%s: dropped %d stream records after retries", source.function, source.event, dropped)
            shard.pending = shard.pending[dropped:]
            shard.attempts = 0
            return True
        self._stopping.wait(self._retry)
        return False

    def _deliver(self, source: StreamSource, batch: list[dict[str, Any]]) -> tuple[int, bool]:
        """Invoke the function with ``batch``: how many records from its start are done, and
        whether the function itself failed (raised or timed out)."""
        try:
            result = self._invoke(source.function, {"Records": batch})
        except (FunctionError, FunctionTimeout) as e:
            log.warning("%s.%s failed on %d stream records: %s", source.function, source.event, len(batch), e)
            return 0, True
        if not source.report_failures:
            return len(batch), False
        failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
        if not failures:
            return len(batch), False
        sequence = [str(r["dynamodb"]["SequenceNumber"]) for r in batch]
        try:
            failed = [sequence.index(str(f["itemIdentifier"])) for f in failures]
        except (KeyError, TypeError, ValueError):
            log.warning("%s.%s: malformed batchItemFailures; the batch is retried", source.function, source.event)
            return 0, False
        return min(failed), False
