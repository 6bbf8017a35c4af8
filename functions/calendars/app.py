"""Calendars: ``/calendar`` (CCJ reference, "GET /api/1/calendar" … "DELETE /api/1/calendar/{id}").

GET /calendar lists the calendars tied to the token (a plain JSON array, sources embedded);
GET /calendar/{calendarId} adds the permission properties; POST creates (all-calendars token);
PUT updates (``id`` in the body, optional ``version`` / ``If-Match``); DELETE removes the calendar,
its sources and their events (resumable; returns the deleted calendar).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.lazy import lazy_import
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.settings import get_settings

if TYPE_CHECKING:  # the same modules, loaded on first use (cold start: teamcal.lazy)
    from aws_lambda_powertools.event_handler.openapi import params

    from teamcal.models import calendars as models
    from teamcal.services import calendars as service
    from teamcal.services import stores as config
    from teamcal.storage import events as event_storage
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    models = lazy_import("teamcal.models.calendars")
    service = lazy_import("teamcal.services.calendars")
    config = lazy_import("teamcal.services.stores")
    event_storage = lazy_import("teamcal.storage.events")

settings = get_settings()
#: ``startAt`` of ``GET /calendar`` is an index into the listing (ids stay below 2^53).
MAX_START_AT = 10_000_000
app = api.make_resolver()


@lru_cache(maxsize=1)
def stores() -> config.ConfigStores:
    return config.ConfigStores.connect(aws.client("dynamodb"), settings.calendars_table, settings.sources_table)


@lru_cache(maxsize=1)
def events() -> event_storage.EventRepository:
    return event_storage.EventRepository(aws.client("dynamodb"), settings.events_table)


@app.get("/calendar")
def list_calendars(
    start_at: Annotated[int, params.Query(alias="startAt", ge=0, le=MAX_START_AT, description="ours: see Link")] = 0,
) -> Response[list[models.CalendarSummary]]:
    listing = service.list_calendars(stores(), api.principal(app), start_at)
    # CCJ's plain array; past the byte budget the rest is announced as RFC 8288's rel="next"
    headers = {} if listing.next_start_at is None else {"Link": f'<?startAt={listing.next_start_at}>; rel="next"'}
    return Response(status_code=200, content_type="application/json", body=listing.values, headers=headers)


@app.get("/calendar/<calendarId>")
def get_calendar(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.CalendarDetail:
    return service.get_calendar(stores(), api.principal(app), path_id(calendar_id, "calendar"))


@app.post("/calendar")
def create_calendar(body: models.CalendarCreate) -> models.CalendarDetail:
    created = service.create_calendar(stores(), api.principal(app), body)
    metrics.add_metric(name="CalendarCreated", unit="Count", value=1)
    return created


@app.put("/calendar")
def update_calendar(
    body: models.CalendarUpdate, if_match: Annotated[str | None, params.Header(alias="If-Match")] = None
) -> models.CalendarDetail:
    return service.update_calendar(stores(), api.principal(app), body, if_match)


@app.delete("/calendar/<calendarId>")
def delete_calendar(calendar_id: Annotated[str, params.Path(alias="calendarId")]) -> models.CalendarDetail:
    deleted = service.delete_calendar(
        stores(),
        events(),
        api.principal(app),
        path_id(calendar_id, "calendar"),
        time_left_ms=app.lambda_context.get_remaining_time_in_millis,
    )
    metrics.add_metric(name="CalendarDeleted", unit="Count", value=1)
    return deleted


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
