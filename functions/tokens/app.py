"""Token administration: ``/token`` (teamcal's own admin routes; admin tokens only).

POST /token creates a token and returns its plaintext once; GET /token lists tokens (never the
plaintext or hash); DELETE /token/{tokenId} revokes one and flushes the stage's authorizer cache (the token gets 401
on its next request).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.models.common import Page
from teamcal.models.tokens import CreatedToken, Token, TokenCreate
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.services import tokens as service
from teamcal.settings import get_settings
from teamcal.storage.authorizer_cache import StageAuthorizerCache
from teamcal.storage.tokens import TokenRepository

settings = get_settings()
app = api.make_resolver()


@lru_cache(maxsize=1)
def repository() -> TokenRepository:
    return TokenRepository(aws.client("dynamodb"), settings.tokens_table)


@app.post(
    "/token",
    responses={
        201: {
            "description": "created; the plaintext token is in `token` (shown this once)",
            "content": {"application/json": {"model": CreatedToken}},
        }
    },
)
def create_token(body: TokenCreate) -> tuple[dict[str, Any], int]:
    created = service.create_token_as(api.principal(app), repository(), body)
    metrics.add_metric(name="TokenCreated", unit="Count", value=1)
    return created.model_dump(by_alias=True), 201


@app.get("/token")
def list_tokens(
    start_at: Annotated[int, Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int | None, Query(alias="maxResults", ge=1, le=1000)] = None,
) -> Page[Token]:
    return Page[Token].of(service.list_tokens(repository(), api.principal(app)), start_at, max_results)


@app.delete("/token/<tokenId>")
def revoke_token(token_id: Annotated[str, Path(alias="tokenId")]) -> Token:
    return service.revoke_token(repository(), path_id(token_id, "token"), api.principal(app), authorizer_cache())


def authorizer_cache() -> StageAuthorizerCache | None:
    """The authorizer cache of the API stage this request came through (``None`` for an event
    without ``requestContext.apiId``/``stage``: not from API Gateway)."""
    context = app.current_event.raw_event.get("requestContext") or {}
    api_id, stage = context.get("apiId"), context.get("stage")
    if not api_id or not stage:
        return None
    return StageAuthorizerCache(aws.client("apigateway"), str(api_id), str(stage))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)


__all__ = ["CreatedToken", "lambda_handler"]
