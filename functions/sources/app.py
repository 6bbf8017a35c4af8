"""Sources: ``/source`` (CCJ reference, "POST /api/1/source" … "DELETE /api/1/source/{id}").

POST adds a source to a calendar; PUT updates one (``id`` in the body, optional ``version`` /
``If-Match``); GET reads one; DELETE removes it and its events (resumable; returns the deleted
source). A source whose calendar is outside the token is a 404.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Header, Path
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.models.sources import Source, SourceCreate, SourceUpdate
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.services import sources as service
from teamcal.services.stores import ConfigStores
from teamcal.settings import get_settings
from teamcal.storage.events import EventRepository

settings = get_settings()
app = api.make_resolver()


@lru_cache(maxsize=1)
def stores() -> ConfigStores:
    return ConfigStores.connect(aws.client("dynamodb"), settings.calendars_table, settings.sources_table)


@lru_cache(maxsize=1)
def events() -> EventRepository:
    return EventRepository(aws.client("dynamodb"), settings.events_table)


@app.post("/source")
def create_source(body: SourceCreate) -> Source:
    created = service.create_source(stores(), api.principal(app), body)
    metrics.add_metric(name="SourceCreated", unit="Count", value=1)
    return created


@app.put("/source")
def update_source(body: SourceUpdate, if_match: Annotated[str | None, Header(alias="If-Match")] = None) -> Source:
    return service.update_source(stores(), api.principal(app), body, if_match)


@app.get("/source/<sourceId>")
def get_source(source_id: Annotated[str, Path(alias="sourceId")]) -> Source:
    return service.get_source(stores(), api.principal(app), path_id(source_id, "source"))


@app.delete("/source/<sourceId>")
def delete_source(source_id: Annotated[str, Path(alias="sourceId")]) -> Source:
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
