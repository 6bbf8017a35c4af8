"""iCalendar export, subscription feeds and import (issue 5; calendar-integrations.txt).

Routes (relative to ``/rest/brizo-calendar/api/1``; all behind the token authorizer except the
feed itself, whose secret in the path is the credential):

* ``POST /calendar/{calendarId}/export`` → 201 ``{snapshotId, key, url, expires, events}``: an
  .ics snapshot in the bucket and a presigned GET URL.
* ``GET /calendar/{calendarId}/export`` → 200 ``text/calendar``: the .ics itself (303 to a
  presigned URL when it is too large for a Lambda response).
* ``POST /calendar/{calendarId}/import[?sourceId=]`` with a ``text/calendar`` body → 202 with the
  import job (finished within the request, or, past the inline budget, handed to the upload worker
  that finishes it by itself); 400 for a file that is not usable.
* ``POST /calendar/{calendarId}/import-url[?sourceId=]`` → 201 ``{jobId, url, method, key,
  expires, maxBytes, job}``: PUT the file to ``url``; its arrival in the bucket runs the import
  (this function's S3 event).
* ``GET /import/{jobId}`` → the job: status, ``processed``/``total``, counts, errors.
* ``POST``/``GET``/``DELETE /calendar/{calendarId}/feed`` → create (or replace) / show / revoke
  the calendar's subscription feed; ``GET /feed/{feedToken}`` → the feed's ``text/calendar``
  (no Authorization; unknown or revoked → 404).

``lambda_handler`` also takes the S3 ``ObjectCreated`` events of ``imports/`` (the upload worker).
icalendar is imported by this function only (through ``teamcal.services.ical``).
"""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.s3_event import S3Event
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.errors import ConflictError, UnsupportedMediaTypeError
from teamcal.ids import MAX_ID, now_ms
from teamcal.lazy import lazy_import
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.settings import get_ical_settings, get_settings

if TYPE_CHECKING:  # the same modules, loaded on first use (cold start: teamcal.lazy)
    from aws_lambda_powertools.event_handler.openapi import params

    from teamcal.models import ical as models
    from teamcal.services import stores as config_stores
    from teamcal.services.ical import export, feeds, import_jobs
    from teamcal.services.ical import stores as ical_stores
    from teamcal.storage import events as event_storage
    from teamcal.storage import feeds as feed_storage
    from teamcal.storage import ics_files
    from teamcal.storage import import_jobs as job_storage
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    models = lazy_import("teamcal.models.ical")
    export = lazy_import("teamcal.services.ical.export")
    feeds = lazy_import("teamcal.services.ical.feeds")
    import_jobs = lazy_import("teamcal.services.ical.import_jobs")
    ical_stores = lazy_import("teamcal.services.ical.stores")
    config_stores = lazy_import("teamcal.services.stores")
    event_storage = lazy_import("teamcal.storage.events")
    feed_storage = lazy_import("teamcal.storage.feeds")
    ics_files = lazy_import("teamcal.storage.ics_files")
    job_storage = lazy_import("teamcal.storage.import_jobs")

settings = get_settings()
ical_settings = get_ical_settings()
app = api.make_resolver()

#: Largest .ics a response carries inline; bigger ones are redirected to the bucket (a Lambda
#: response is capped at 6 MB, JSON-encoded).
MAX_INLINE_RESPONSE_BYTES = 4_500_000
ICS = "text/calendar; charset=utf-8"
#: Clients may reuse an .ics for 5 minutes, then revalidate with If-None-Match (a 304 is cheap).
CACHE_CONTROL = "private, max-age=300"
_ACCEPTED_BODIES = ("text/calendar", "text/plain", "application/octet-stream", "application/ics", "text/x-vcalendar")
#: The documented 200 of the routes that answer with the .ics itself, and their 303.
ICS_RESPONSES: dict[int, Any] = {
    200: {
        "description": "the calendar as an iCalendar (RFC 5545) file",
        "content": {"text/calendar": {"schema": {"type": "string"}}},
    },
    303: {
        "description": "the file is too large for a response: fetch it from the presigned URL in `Location`",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    304: {"description": "not modified since the client's copy (If-None-Match / If-Modified-Since); no body"},
}


@lru_cache(maxsize=1)
def stores() -> ical_stores.IcalStores:
    client = aws.client("dynamodb")
    return ical_stores.IcalStores(
        config=config_stores.ConfigStores.connect(client, settings.calendars_table, settings.sources_table),
        events=event_storage.EventRepository(aws.bulk_client("dynamodb"), settings.events_table),
        jobs=job_storage.ImportJobRepository(client, settings.calendars_table),
        feeds=feed_storage.FeedRepository(client, settings.calendars_table),
        files=ics_files.IcsFiles(aws.s3_client(), settings.snapshots_bucket),
    )


def _ics(text: str, filename: str, calendar_id: int) -> Response[str]:
    if len(text) > MAX_INLINE_RESPONSE_BYTES // 4 and len(text.encode("utf-8")) > MAX_INLINE_RESPONSE_BYTES:
        url = export.store_large_export(stores(), calendar_id, text, now_ms(), ical_settings.url_expiry_seconds)
        return Response(status_code=303, content_type="application/json", body="{}", headers={"Location": url})
    return Response(
        status_code=200,
        content_type=ICS,
        body=text,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": CACHE_CONTROL},
    )


def _conditions() -> dict[str, str | None]:
    """The request's ``If-None-Match`` / ``If-Modified-Since`` (RFC 9110 §13.1)."""
    headers = app.current_event.headers
    return {"if_none_match": headers.get("if-none-match"), "if_modified_since": headers.get("if-modified-since")}


def _ics_answer(answer: export.IcsAnswer, filename: str) -> Response[str]:
    """200 with the .ics, or 304 without a body; ETag, Last-Modified and Cache-Control on both
    (RFC 9110 §15.4.5). A HEAD gets the headers of its GET and no body."""
    validators = answer.validators.headers()
    if answer.text is None:
        return Response(status_code=304, body="", headers={**validators, "Cache-Control": CACHE_CONTROL})
    response = _ics(answer.text, filename, answer.calendar_id)
    response.headers.update(validators)
    if app.current_event.http_method.upper() == "HEAD":
        response.body = ""
    return response


def _body() -> bytes:
    """The raw request body (base64-decoded when API Gateway encoded it)."""
    event = app.current_event
    content_type = (event.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if content_type and content_type not in _ACCEPTED_BODIES:
        raise UnsupportedMediaTypeError(
            f"Unsupported Content-Type {content_type[:60]!r}: send the .ics file as text/calendar"
        )
    raw = event.body or ""
    return base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")


def _base_url() -> str:
    """The public base URL of the API, for feed links (``ICAL_PUBLIC_BASE_URL`` or the request's
    host; the stage is part of the path on execute-api hosts)."""
    if ical_settings.public_base_url:
        return ical_settings.public_base_url.rstrip("/")
    event = app.current_event
    host = event.request_context.domain_name or event.headers.get("host") or "localhost"
    aws_host = ".execute-api." in host
    proto = event.headers.get("x-forwarded-proto") or ("https" if aws_host else "http")
    stage = f"/{event.request_context.stage}" if aws_host and event.request_context.stage else ""
    return f"{proto}://{host}{stage}"


# ---------------------------------------------------------------------------- export
@app.post(
    "/calendar/<calendarId>/export",
    responses={
        201: {
            "description": "the snapshot and its download URL",
            "content": {"application/json": {"model": "models.Snapshot"}},
        }
    },
)
def create_snapshot(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> tuple[dict[str, Any], int]:
    snapshot: models.Snapshot = export.create_snapshot(
        stores(), api.principal(app), path_id(calendar_id, "calendar"), now_ms(), ical_settings.url_expiry_seconds
    )
    metrics.add_metric(name="IcsSnapshot", unit="Count", value=1)
    return snapshot.model_dump(by_alias=True), 201


@app.get("/calendar/<calendarId>/export", responses=ICS_RESPONSES)
def export_calendar(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> Response[str]:
    cid = path_id(calendar_id, "calendar")
    answer = export.export_answer(stores(), api.principal(app), cid, now_ms(), **_conditions())
    return _ics_answer(answer, f"calendar-{cid}.ics")


# ---------------------------------------------------------------------------- import
@app.post(
    "/calendar/<calendarId>/import",
    responses={
        202: {
            "description": "the import job: finished, or INTERRUPTED past the inline budget and finished by the upload"
            " worker (send the .ics as the body, Content-Type text/calendar)",
            "content": {"application/json": {"model": "models.ImportJob"}},
        }
    },
)
def import_calendar(
    calendar_id: Annotated[str, params.Path(alias="calendarId")],
    source_id: Annotated[
        int | None, params.Query(alias="sourceId", gt=0, le=MAX_ID, description="the source to import into")
    ] = None,
) -> tuple[dict[str, Any], int]:
    job: models.ImportJob = import_jobs.import_inline(
        stores(), api.principal(app), path_id(calendar_id, "calendar"), source_id, _body()
    )
    metrics.add_metric(name="IcsImportedEvents", unit="Count", value=job.created + job.updated)
    return job.model_dump(by_alias=True), 202


@app.post(
    "/calendar/<calendarId>/import-url",
    responses={
        201: {
            "description": "the upload URL and its job",
            "content": {"application/json": {"model": "models.UploadTicket"}},
        }
    },
)
def import_url(
    calendar_id: Annotated[str, params.Path(alias="calendarId")],
    source_id: Annotated[
        int | None, params.Query(alias="sourceId", gt=0, le=MAX_ID, description="the source to import into")
    ] = None,
) -> tuple[dict[str, Any], int]:
    ticket: models.UploadTicket = import_jobs.request_upload(
        stores(),
        api.principal(app),
        path_id(calendar_id, "calendar"),
        source_id,
        max_bytes=ical_settings.max_upload_bytes,
        expires_seconds=ical_settings.upload_expiry_seconds,
    )
    return ticket.model_dump(by_alias=True), 201


@app.get("/import/<jobId>")
def get_job(job_id: Annotated[str, params.Path(alias="jobId")]) -> models.ImportJob:
    return import_jobs.get_job(stores(), api.principal(app), path_id(job_id, "import job"), now_ms())


# ---------------------------------------------------------------------------- feeds
@app.post(
    "/calendar/<calendarId>/feed",
    responses={
        201: {
            "description": "the feed, with its secret URL (once)",
            "content": {"application/json": {"model": "models.Feed"}},
        }
    },
)
def create_feed(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> tuple[dict[str, Any], int]:
    feed, secret = feeds.create_feed(stores(), api.principal(app), path_id(calendar_id, "calendar"), now_ms())
    url = f"{_base_url()}{api.BASE_PATH}/feed/{secret}.ics"
    feed = feed.model_copy(update={"url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]})
    return feed.model_dump(by_alias=True), 201


@app.get("/calendar/<calendarId>/feed")
def get_feed(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.Feed:
    return feeds.get_feed(stores(), api.principal(app), path_id(calendar_id, "calendar"))


@app.delete("/calendar/<calendarId>/feed")
def revoke_feed(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.Feed:
    return feeds.revoke_feed(stores(), api.principal(app), path_id(calendar_id, "calendar"))


@app.route("/feed/<feedToken>", method=["GET", "HEAD"], responses=ICS_RESPONSES)
def feed(feed_token: Annotated[str, params.Path(alias="feedToken")]) -> Response[str]:
    secret = feed_token.removesuffix(".ics")
    answer = feeds.feed_answer(stores(), secret, now_ms(), **_conditions())
    return _ics_answer(answer, f"calendar-{answer.calendar_id}.ics")


# ---------------------------------------------------------------------------- the upload worker
def _uploads(event: S3Event) -> list[str]:
    """The object keys (URL-decoded: S3 notifications encode them) of an S3 event's
    ``ObjectCreated`` records for the snapshots bucket."""
    return [
        unquote_plus(record.s3.get_object.key)
        for record in event.records
        if record.event_source == "aws:s3"
        and record.event_name.startswith("ObjectCreated")
        and record.s3.bucket.name == settings.snapshots_bucket
    ]


def handle_uploads(event: S3Event, context: LambdaContext) -> dict[str, Any]:
    """Run the import of every uploaded object in an S3 event (Lambda retries a failed
    invocation; a retry resumes the job from its checkpoint)."""
    done = []
    for key in _uploads(event):
        try:
            job = import_jobs.run_upload(
                stores(),
                key,
                max_bytes=ical_settings.max_upload_bytes,
                time_left_ms=context.get_remaining_time_in_millis,
            )
        except ConflictError as e:
            logger.warning("import handed over to another worker", extra={"key": key, "reason": e.message})
            continue
        if job is None:
            logger.info("nothing to import", extra={"key": key})
            continue
        logger.info("import ran", extra={"key": key, "job": job.id, "status": job.status, "processed": job.processed})
        metrics.add_metric(name="IcsImportedEvents", unit="Count", value=job.created + job.updated)
        if job.status == "FAILED":  # the ImportFailed alarm of template.yaml watches this
            metrics.add_metric(name="ImportFailed", unit="Count", value=1)
        done.append({"jobId": job.id, "status": job.status})
    return {"jobs": done}


def _is_s3(event: dict[str, Any]) -> bool:
    records = event.get("Records")
    return isinstance(records, list) and bool(records) and records[0].get("eventSource") == "aws:s3"


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if _is_s3(event):
        return handle_uploads(S3Event(event), context)
    return api.resolve(app, event, context)
