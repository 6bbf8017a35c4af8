"""Token administration: ``/token`` (teamcal's own admin routes; admin tokens only).

POST /token creates a token and returns its plaintext once; GET /token lists tokens (never the
plaintext or hash); DELETE /token/{tokenId} revokes one and flushes the stage's authorizer cache (the token gets 401
on its next request).
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

    from teamcal.models import common
    from teamcal.models import tokens as models
    from teamcal.services import tokens as service
    from teamcal.storage import authorizer_cache as authorizer_cache_storage
    from teamcal.storage import tokens as storage
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    common = lazy_import("teamcal.models.common")
    models = lazy_import("teamcal.models.tokens")
    service = lazy_import("teamcal.services.tokens")
    authorizer_cache_storage = lazy_import("teamcal.storage.authorizer_cache")
    storage = lazy_import("teamcal.storage.tokens")

settings = get_settings()
app = api.make_resolver()


@lru_cache(maxsize=1)
def repository() -> storage.TokenRepository:
    return storage.TokenRepository(aws.client("dynamodb"), settings.tokens_table)


@app.post(
    "/token",
    responses={
        201: {
            "description": "created; the plaintext token is in `token` (shown this once)",
            "content": {"application/json": {"model": "models.CreatedToken"}},
        }
    },
)
def create_token(body: models.TokenCreate) -> tuple[dict[str, Any], int]:
    created = service.create_token_as(api.principal(app), repository(), body)
    metrics.add_metric(name="TokenCreated", unit="Count", value=1)
    return created.model_dump(by_alias=True), 201


@app.get("/token")
def list_tokens(
    start_at: Annotated[int, params.Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int | None, params.Query(alias="maxResults", ge=1, le=1000)] = None,
) -> common.Page[models.Token]:
    return common.Page[models.Token].of(service.list_tokens(repository(), api.principal(app)), start_at, max_results)


@app.delete("/token/<tokenId>")
def revoke_token(token_id: Annotated[str, params.Path(alias="tokenId")]) -> models.Token:
    return service.revoke_token(repository(), path_id(token_id, "token"), api.principal(app), authorizer_cache())


def authorizer_cache() -> authorizer_cache_storage.StageAuthorizerCache | None:
    """The authorizer cache of the API stage this request came through (``None`` for an event
    without ``requestContext.apiId``/``stage``: not from API Gateway)."""
    context = app.current_event.raw_event.get("requestContext") or {}
    api_id, stage = context.get("apiId"), context.get("stage")
    if not api_id or not stage:
        return None
    return authorizer_cache_storage.StageAuthorizerCache(aws.client("apigateway"), str(api_id), str(stage))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
