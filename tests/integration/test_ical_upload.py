"""Large imports through the bucket: POST /calendar/{id}/import-url, the object landing in S3, the
function's S3 event, and a job that fails with reasons or stops and resumes without duplicates."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from functions.ical import app as ical_app
from teamcal.errors import RetryableError
from teamcal.services.ical import import_jobs, importer
from tests.conftest import TEMPLATE
from tests.integration.ical import fixture, ical, moto_resources, search, zoned_calendar

pytestmark = pytest.mark.integration

BUCKET = TEMPLATE.physical_name("SnapshotsBucket")
SAMPLE = Path(__file__).resolve().parents[2] / "events" / "ical" / "s3" / "import-uploaded.json"


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    with moto_resources():
        yield


def s3_event(key: str, size: int, bucket: str = BUCKET) -> dict[str, Any]:
    """The event S3 sends Lambda for ``key`` (the shape of the sample event)."""
    event: dict[str, Any] = json.loads(SAMPLE.read_text())
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = bucket
    record["s3"]["object"].update(key=key.replace(" ", "+"), size=size)
    return event


def upload(calendar_id: int, ctx: Any, **query: str) -> dict[str, Any]:
    status, ticket, _ = ical("POST", f"/calendar/{calendar_id}/import-url", ctx, query=query or None)
    assert status == 201, ticket
    return dict(ticket)


def put(key: str, data: bytes) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=BUCKET, Key=key, Body=data)


def job(job_id: int, ctx: Any) -> dict[str, Any]:
    status, body, _ = ical("GET", f"/import/{job_id}", ctx)
    assert status == 200, body
    return dict(body)


def test_upload_url_then_object_created_runs_the_import(aws: None, lambda_context: Any) -> None:
    # Given an upload ticket
    cal = zoned_calendar(lambda_context)
    ticket = upload(cal["id"], lambda_context)
    assert ticket["method"] == "POST"
    assert ticket["key"] == f"imports/{cal['id']}/{ticket['jobId']}.ics"
    assert ticket["fields"]["key"] == ticket["key"]
    assert ticket["maxBytes"] == 25 * 1024 * 1024
    assert job(ticket["jobId"], lambda_context)["status"] == "PENDING_UPLOAD"
    # When the file lands in the bucket and S3 notifies the function
    data = fixture("google.ics").encode()
    put(ticket["key"], data)
    out = ical_app.lambda_handler(s3_event(ticket["key"], len(data)), lambda_context)
    # Then the job ran to the end and the events are in the calendar
    assert out == {"jobs": [{"jobId": ticket["jobId"], "status": "SUCCEEDED"}]}
    done = job(ticket["jobId"], lambda_context)
    assert (done["origin"], done["total"], done["processed"], done["created"]) == ("upload", 5, 5, 4)
    assert done["finished"] >= done["started"] >= done["submitted"]
    assert len(search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")) == 6
    # and the same notification delivered again does nothing
    assert ical_app.lambda_handler(s3_event(ticket["key"], len(data)), lambda_context) == {"jobs": []}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<html><body>Error 500</body></html>", "HTML"),
        (b"", "empty"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n", "truncated"),
        (b"\x00\x01\x02binary", "binary"),
    ],
)
def test_an_unusable_upload_fails_its_job_with_the_reason(
    aws: None, lambda_context: Any, data: bytes, reason: str
) -> None:
    cal = zoned_calendar(lambda_context)
    ticket = upload(cal["id"], lambda_context)
    put(ticket["key"], data)
    ical_app.lambda_handler(s3_event(ticket["key"], len(data)), lambda_context)
    failed = job(ticket["jobId"], lambda_context)
    assert failed["status"] == "FAILED"
    assert reason in failed["message"]
    assert failed["created"] == 0


def test_an_upload_over_the_limit_fails_before_it_is_read(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    cal = zoned_calendar(lambda_context)
    ticket = upload(cal["id"], lambda_context)
    put(ticket["key"], b"BEGIN:VCALENDAR\r\n" + b"X" * 2048)
    monkeypatch.setattr(ical_app, "ical_settings", ical_app.ical_settings.model_copy(update={"max_upload_bytes": 1024}))
    ical_app.lambda_handler(s3_event(ticket["key"], 2065), lambda_context)
    failed = job(ticket["jobId"], lambda_context)
    assert failed["status"] == "FAILED"
    assert "at most 1024 bytes" in failed["message"]


def test_the_upload_form_is_sigv4_with_size_and_type_conditions_and_a_short_expiry(
    aws: None, lambda_context: Any
) -> None:
    # Given an upload ticket
    cal = zoned_calendar(lambda_context)
    before = int(time.time() * 1000)
    ticket = upload(cal["id"], lambda_context)
    # Then it is a presigned POST signed with SigV4 (not a reusable SigV2 PUT URL)
    fields = ticket["fields"]
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert "AWSAccessKeyId" not in fields
    assert fields["Content-Type"] == "text/calendar"
    # whose policy makes S3 enforce the size range, the content type and the key
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", 1, 25 * 1024 * 1024] in policy["conditions"]
    assert {"Content-Type": "text/calendar"} in policy["conditions"]
    assert {"key": ticket["key"]} in policy["conditions"]
    # and that expires within five minutes
    assert ticket["expires"] - before <= 300_000 + 5_000


def test_a_rejected_upload_is_deleted_at_once(aws: None, lambda_context: Any) -> None:
    # Given an upload that is not an iCalendar file
    cal = zoned_calendar(lambda_context)
    ticket = upload(cal["id"], lambda_context)
    put(ticket["key"], b"<html><body>Error 500</body></html>")
    # When the worker refuses it
    ical_app.lambda_handler(s3_event(ticket["key"], 35), lambda_context)
    assert job(ticket["jobId"], lambda_context)["status"] == "FAILED"
    # Then the object is gone (not kept a week for the lifecycle rule)
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=BUCKET, Prefix=ticket["key"])
    assert listed.get("KeyCount", 0) == 0


def test_the_worker_stops_reading_past_the_cap_whatever_the_size_said(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an object of 5 MiB whose size the worker cannot trust (it may be replaced at any time)
    from teamcal.storage.ics_files import IcsFiles

    client = boto3.client("s3", region_name="us-east-1")
    key = "imports/1/2.ics"
    client.put_object(Bucket=BUCKET, Key=key, Body=b"X" * (5 * 1024 * 1024))
    read_bytes = 0
    real_get = client.get_object

    def counting_get(**kwargs: Any) -> Any:
        out = real_get(**kwargs)
        body = out["Body"]
        real_read = body.read

        def read(amount: int | None = None) -> bytes:
            nonlocal read_bytes
            chunk: bytes = real_read(amount)
            read_bytes += len(chunk)
            return chunk

        body.read = read
        return out

    monkeypatch.setattr(client, "get_object", counting_get)
    # When it reads with a 1 MiB cap
    with pytest.raises(ValueError, match="more than 1048576 bytes"):
        IcsFiles(client, BUCKET).read(key, 1024 * 1024)
    # Then it stopped right after the cap, not at the end of the object
    assert read_bytes <= 2 * 1024 * 1024


def test_events_for_other_keys_and_buckets_are_ignored(aws: None, lambda_context: Any) -> None:
    assert ical_app.lambda_handler(s3_event("imports/1/2.ics", 10), lambda_context) == {"jobs": []}
    assert ical_app.lambda_handler(s3_event("snapshots/1/x.ics", 10), lambda_context) == {"jobs": []}
    assert ical_app.lambda_handler(json.loads(SAMPLE.read_text()), lambda_context) == {"jobs": []}


def test_an_interrupted_upload_resumes_from_its_checkpoint_without_duplicates(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an upload of 9 VEVENTs and chunks of 2
    monkeypatch.setattr(importer, "CHUNK", 2)
    cal = zoned_calendar(lambda_context)
    ticket = upload(cal["id"], lambda_context)
    put(ticket["key"], fixture("google.ics").replace("END:VCALENDAR", "").encode() + _singles(4))
    stores = ical_app.stores()
    calls = iter([10**6] * 3)

    def short_time() -> int:  # enough time for the claim and two chunks, then none
        return next(calls, 0)

    # When the worker runs out of time
    first = import_jobs.run_upload(stores, ticket["key"], max_bytes=10**6, time_left_ms=short_time)
    assert first is not None
    assert first.status == "INTERRUPTED"
    assert 0 < first.processed < first.total == 9
    # Then the job says how far it got, and the object was touched to trigger a new run
    versions = boto3.client("s3", region_name="us-east-1").list_object_versions(Bucket=BUCKET, Prefix=ticket["key"])
    assert len(versions["Versions"]) == 2
    # When the next invocation runs with time to spare
    second = import_jobs.run_upload(stores, ticket["key"], max_bytes=10**6, time_left_ms=lambda: 10**6)
    # Then every VEVENT was counted once and nothing was duplicated
    assert second is not None
    assert (second.status, second.processed, second.created, second.skipped) == ("SUCCEEDED", 9, 8, 0)
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    # (8 weekly occurrences, one of them moved, the offsite, the call and the 4 singles)
    assert len(found) == 14
    assert len({(v["id"], v.get("recurrenceId")) for v in found}) == 14


def _singles(count: int) -> bytes:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:single-{i}@test\r\nDTSTAMP:20260301T000000Z\r\nDTSTART:202604{10 + i}T100000Z\r\n"
        f"DTEND:202604{10 + i}T110000Z\r\nSUMMARY:Single {i}\r\nEND:VEVENT\r\n"
        for i in range(count)
    )
    return (body + "END:VCALENDAR\r\n").encode()


def test_a_second_worker_cannot_take_a_running_job(aws: None, lambda_context: Any) -> None:
    cal = zoned_calendar(lambda_context)
    ticket = upload(cal["id"], lambda_context)
    jobs = ical_app.stores().jobs
    assert jobs.claim(ticket["jobId"], "run-1", 1_000, 60_000) is not None
    assert jobs.claim(ticket["jobId"], "run-2", 2_000, 60_000) is None
    # once the first worker's lease has expired, another may take over
    assert jobs.claim(ticket["jobId"], "run-3", 61_000, 120_000) is not None


def test_throttling_leaves_the_job_to_the_retried_invocation(
    aws: None, lambda_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an upload whose second chunk of writes hits throttling that outlasts the retries
    monkeypatch.setattr(importer, "CHUNK", 3)
    cal = zoned_calendar(lambda_context)
    ticket = upload(cal["id"], lambda_context)
    put(ticket["key"], fixture("google.ics").replace("END:VCALENDAR", "").encode() + _singles(4))
    stores = ical_app.stores()
    real_put = stores.events.batch_put
    writes = iter([real_put, _throttled])
    monkeypatch.setattr(stores.events, "batch_put", lambda *a, **k: next(writes, real_put)(*a, **k))
    # When the worker runs, it fails like a throttled Lambda invocation
    with pytest.raises(RetryableError):
        ical_app.lambda_handler(s3_event(ticket["key"], 1), lambda_context)
    # Then the job is left INTERRUPTED at its last checkpoint, and the retried invocation finishes it
    assert job(ticket["jobId"], lambda_context)["status"] == "INTERRUPTED"
    out = ical_app.lambda_handler(s3_event(ticket["key"], 1), lambda_context)
    assert out == {"jobs": [{"jobId": ticket["jobId"], "status": "SUCCEEDED"}]}
    done = job(ticket["jobId"], lambda_context)
    assert (done["processed"], done["created"] + done["updated"] + done["skipped"], done["failed"]) == (9, 9, 0)
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert len({(v["id"], v.get("recurrenceId")) for v in found}) == len(found) == 14


def _throttled(*args: Any, **kwargs: Any) -> int:
    raise RetryableError("the data store kept refusing writes; retry the request")
