"""Event types: ``/eventypes`` (the CCJ reference's own spelling) and ``/eventtypes``.

GET lists the predefined types and the custom ones (a plain JSON array). Admin tokens manage
custom types: POST creates, PUT updates (``key`` or ``id`` in the body, optional ``version`` /
``If-Match``), DELETE /eventypes/{eventTypeId} removes one no source uses (409 otherwise).
Predefined types cannot be changed or deleted (403).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.lazy import lazy_import
from teamcal.observability import logger, metrics, tracer
from teamcal.settings import get_settings

if TYPE_CHECKING:  # the same modules, loaded on first use (cold start: teamcal.lazy)
    from aws_lambda_powertools.event_handler.openapi import params

    from teamcal.models import event_types as models
    from teamcal.services import event_types as service
    from teamcal.storage import event_types as storage
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    models = lazy_import("teamcal.models.event_types")
    service = lazy_import("teamcal.services.event_types")
    storage = lazy_import("teamcal.storage.event_types")

settings = get_settings()
app = api.make_resolver()


@lru_cache(maxsize=1)
def repository() -> storage.EventTypeRepository:
    return storage.EventTypeRepository(aws.client("dynamodb"), settings.sources_table)


@app.get("/eventypes")
@app.get("/eventtypes")
def list_event_types() -> list[models.EventType]:
    api.principal(app)
    return service.list_event_types(repository())


@app.post("/eventypes")
@app.post("/eventtypes")
def create_event_type(body: models.EventTypeCreate) -> models.EventType:
    return service.create_event_type(repository(), api.principal(app), body)


@app.put("/eventypes")
@app.put("/eventtypes")
def update_event_type(
    body: models.EventTypeUpdate, if_match: Annotated[str | None, params.Header(alias="If-Match")] = None
) -> models.EventType:
    return service.update_event_type(repository(), api.principal(app), body, if_match)


@app.delete("/eventypes/<eventTypeId>")
@app.delete("/eventtypes/<eventTypeId>")
def delete_event_type(event_type_id: Annotated[str, params.Path(alias="eventTypeId")]) -> models.EventType:
    return service.delete_event_type(repository(), api.principal(app), event_type_id)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
