"""iCalendar import jobs, stored in the calendars table, read and written as
:class:`~teamcal.models.import_job.ImportJobRecord`.

Item shape (calendars table keys ``pk``/``sk``; no index):

* a job: ``pk = "JOB#<id>"``, ``sk = "JOB"``; attributes ``id``, ``calendarId``, ``sourceId``,
  ``user`` (who started it), ``origin`` (``inline`` | ``upload``), ``key`` (the S3 object of an
  upload), ``status``, ``total``, ``processed``, ``created``, ``updated``, ``skipped``,
  ``failed`` (counts of VEVENTs), ``errors`` (``[{uid, recurrenceId?, reason}]``, at most
  :data:`MAX_ERRORS`), ``errorsOmitted``, ``warnings``, ``message``, ``checkpoint`` (VEVENTs
  before this ordinal are done: where a resumed run starts), ``submitted``/``started``/
  ``finished`` (epoch ms), and while a worker runs it ``runId`` + ``leaseUntil`` (epoch ms).

A job is read with one GetItem. Exactly one worker runs a job at a time: :meth:`claim` is a
conditional UpdateItem that succeeds for a job waiting for its upload, an interrupted job, or a
running job whose lease has expired (its worker died); every later write of that worker is
conditioned on its ``runId``, so a worker that lost its lease cannot overwrite the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from teamcal.errors import ConflictError
from teamcal.models.import_job import ImportJobRecord
from teamcal.models.stored import require_records
from teamcal.storage.dynamo import deserialize, serialize, translate, value
from teamcal.storage.versioned import error_code

SK = "JOB"
#: The most per-VEVENT errors a job keeps (the rest are counted in ``errorsOmitted``).
MAX_ERRORS = 100
_KEYS = ("pk", "sk")


def _key(job_id: int) -> dict[str, Any]:
    return {"pk": value(f"JOB#{job_id}"), "sk": value(SK)}


def _record(item: Mapping[str, Any]) -> ImportJobRecord:
    return ImportJobRecord.from_item({k: v for k, v in item.items() if k not in _KEYS})


def _item(job: ImportJobRecord) -> dict[str, Any]:
    """The item to put for ``job`` (its attributes and the table keys).

    Raises:
        TypeError: ``job`` is not an :class:`ImportJobRecord` (a plain dict, say).
    """
    require_records(ImportJobRecord, job)
    return {**job.item(), "pk": f"JOB#{job.id}", "sk": SK}


class ImportJobRepository:
    """Stores import jobs (:class:`ImportJobRecord`, see the module docstring).

    ``client`` is a boto3 DynamoDB client; ``table`` the calendars table name.
    """

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def create(self, job: ImportJobRecord) -> None:
        """Insert a new job.

        Raises:
            ConflictError: the id is taken (the caller draws another).
            TypeError: ``job`` is not an :class:`ImportJobRecord`.
        """
        item = _item(job)
        try:
            self._client.put_item(
                TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as e:
            raise translate(e, f"import job id {job.id} is taken") from e

    def get(self, job_id: int) -> ImportJobRecord | None:
        """The job (strongly consistent read), or ``None``."""
        try:
            out = self._client.get_item(TableName=self._table, Key=_key(job_id), ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        return _record(deserialize(out["Item"])) if "Item" in out else None

    def claim(self, job_id: int, run_id: str, now_ms: int, lease_until_ms: int) -> ImportJobRecord | None:
        """Make ``run_id`` the job's only worker until ``lease_until_ms`` (epoch ms UTC; a lease
        ended before ``now_ms`` is expired); returns the job, or ``None`` when another worker
        holds a live lease, the job is finished, or it does not exist."""
        try:
            out = self._client.update_item(
                TableName=self._table,
                Key=_key(job_id),
                UpdateExpression="SET #status = :running, runId = :run, leaseUntil = :lease",
                ConditionExpression=(
                    "attribute_exists(pk) AND (#status IN (:pending, :interrupted)"
                    " OR (#status = :running AND leaseUntil < :now))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":running": value("RUNNING"),
                    ":pending": value("PENDING_UPLOAD"),
                    ":interrupted": value("INTERRUPTED"),
                    ":run": value(run_id),
                    ":lease": value(lease_until_ms),
                    ":now": value(now_ms),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return None
            raise translate(e) from e
        return _record(deserialize(out["Attributes"]))

    def save(self, job: ImportJobRecord, run_id: str | None) -> None:
        """Replace the job with ``job``, on condition that ``run_id`` still owns it (``None``: that
        no worker does — for a job nobody has claimed).

        Raises:
            ConflictError: another worker owns the job now.
            TypeError: ``job`` is not an :class:`ImportJobRecord`.
        """
        item = _item(job)
        if run_id is None:
            condition, values = "attribute_exists(pk) AND attribute_not_exists(runId)", None
        else:
            condition, values = "runId = :run", {":run": value(run_id)}
        kwargs: dict[str, Any] = {"TableName": self._table, "Item": serialize(item), "ConditionExpression": condition}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._client.put_item(**kwargs)
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise ConflictError(f"import job {job.id} is run by another worker now") from e
            raise translate(e) from e
