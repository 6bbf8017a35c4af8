"""Events: ``/event`` (CCJ reference, "POST /api/1/event" … "POST /api/1/event/search").

POST creates a single or recurring event (or, with parentId + recurrenceId, an exception); GET
reads one (ours); PUT edits (``select`` all / current / following); DELETE removes an event, a
series with its exceptions, or cancels one occurrence; DELETE …/recur handles the reference's
three recurring cases; POST /event/search returns every occurrence in a window under 92 days.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.lazy import lazy_import
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.settings import get_settings

if TYPE_CHECKING:  # the same modules, loaded on first use (cold start: teamcal.lazy)
    from aws_lambda_powertools.event_handler.openapi import params

    from teamcal.models import events as models
    from teamcal.services import events as service
    from teamcal.services import stores as config
    from teamcal.storage import events as event_storage
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    models = lazy_import("teamcal.models.events")
    service = lazy_import("teamcal.services.events")
    config = lazy_import("teamcal.services.stores")
    event_storage = lazy_import("teamcal.storage.events")

settings = get_settings()
app = api.make_resolver()


@lru_cache(maxsize=1)
def stores() -> service.EventStores:
    client = aws.client("dynamodb")
    return service.EventStores(
        config=config.ConfigStores.connect(client, settings.calendars_table, settings.sources_table),
        events=event_storage.EventRepository(client, settings.events_table),
    )


@app.post("/event/search")
def search(body: models.SearchRequest) -> models.SearchPage:
    page = service.search(stores(), api.principal(app), body)
    metrics.add_metric(name="SearchOccurrences", unit="Count", value=page.total)
    return page


@app.post("/event")
def create_event(body: models.EventRequest) -> models.Event:
    created = service.create_event(stores(), api.principal(app), body)
    metrics.add_metric(name="EventCreated", unit="Count", value=1)
    return created


@app.get("/event/<eventId>")
def get_event(event_id: Annotated[str, params.Path(alias="eventId")]) -> models.Event:
    return service.get_event(stores(), api.principal(app), path_id(event_id, "event"))


@app.put("/event")
def edit_event(body: models.EventRequest) -> models.Event:
    return service.edit_event(stores(), api.principal(app), body)


@app.delete("/event/<eventId>")
def delete_event(event_id: Annotated[str, params.Path(alias="eventId")]) -> models.Event:
    return service.delete_event(stores(), api.principal(app), path_id(event_id, "event"))


@app.delete("/event/<eventId>/recur")
def delete_recurring(
    event_id: Annotated[str, params.Path(alias="eventId")],
    body: Annotated[models.EventRequest | None, params.Body()] = None,
) -> models.Event:
    request = body if body is not None else models.EventRequest()
    return service.delete_recurring(stores(), api.principal(app), path_id(event_id, "event"), request)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
