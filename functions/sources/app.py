"""Sources: ``/source`` (CCJ reference, "POST /api/1/source" … "DELETE /api/1/source/{id}").

POST adds a source to a calendar; PUT updates one (``id`` in the body, optional ``version`` /
``If-Match``); GET reads one; DELETE removes it and its events (resumable; returns the deleted
source). A source whose calendar is outside the token is a 404.
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

    from teamcal.models import sources as models
    from teamcal.services import sources as service
    from teamcal.services import stores as config
    from teamcal.storage import events as event_storage
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    models = lazy_import("teamcal.models.sources")
    service = lazy_import("teamcal.services.sources")
    config = lazy_import("teamcal.services.stores")
    event_storage = lazy_import("teamcal.storage.events")

settings = get_settings()
app = api.make_resolver()


@lru_cache(maxsize=1)
def stores() -> config.ConfigStores:
    return config.ConfigStores.connect(aws.client("dynamodb"), settings.calendars_table, settings.sources_table)


@lru_cache(maxsize=1)
def events() -> event_storage.EventRepository:
    return event_storage.EventRepository(aws.client("dynamodb"), settings.events_table)


@app.post("/source")
def create_source(body: models.SourceCreate) -> models.Source:
    created = service.create_source(stores(), api.principal(app), body)
    metrics.add_metric(name="SourceCreated", unit="Count", value=1)
    return created


@app.put("/source")
def update_source(
    body: models.SourceUpdate, if_match: Annotated[str | None, params.Header(alias="If-Match")] = None
) -> models.Source:
    return service.update_source(stores(), api.principal(app), body, if_match)


@app.get("/source/<sourceId>")
def get_source(source_id: Annotated[str, params.Path(alias="sourceId")]) -> models.Source:
    return service.get_source(stores(), api.principal(app), path_id(source_id, "source"))


@app.delete("/source/<sourceId>")
def delete_source(source_id: Annotated[str, params.Path(alias="sourceId")]) -> models.Source:
    deleted = service.delete_source(
        stores(),
        events(),
        api.principal(app),
        path_id(source_id, "source"),
        time_left_ms=app.lambda_context.get_remaining_time_in_millis,
    )
    metrics.add_metric(name="SourceDeleted", unit="Count", value=1)
    return deleted


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
