"""The API Gateway TOKEN authorizer.

Input: ``{"type": "TOKEN", "authorizationToken": "Bearer <token>", "methodArn": "arn:…"}``.
Output: an IAM policy allowing every method of the API stage (so API Gateway may cache the answer
for the token and reuse it on every route) with the principal in ``context``; an unknown, revoked
or malformed token raises ``Exception("Unauthorized")``, which API Gateway turns into 401.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import aws
from teamcal.auth.tokens import parse_bearer
from teamcal.errors import UnauthorizedError
from teamcal.observability import logger, metrics, tracer
from teamcal.services.tokens import authenticate
from teamcal.settings import get_settings
from teamcal.storage.tokens import TokenRepository

settings = get_settings()


@lru_cache(maxsize=1)
def repository() -> TokenRepository:
    return TokenRepository(aws.client("dynamodb"), settings.tokens_table)


class Unauthorized(Exception):  # noqa: N818 - the name API Gateway matches on
    """Raised with the exact message ``Unauthorized``: API Gateway's signal for a 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def stage_wildcard(method_arn: str) -> str:
    """``arn:aws:execute-api:region:acct:apiId/stage/VERB/path`` → ``…/apiId/stage/*``."""
    prefix, _, path = method_arn.partition(":execute-api:")
    parts = path.split("/")
    return f"{prefix}:execute-api:{'/'.join(parts[:2])}/*"


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # the policy names the principal
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        principal = authenticate(repository(), parse_bearer(event.get("authorizationToken")))
    except UnauthorizedError as e:
        logger.info("token refused", extra={"reason": e.message})
        metrics.add_metric(name="TokenRefused", unit="Count", value=1)
        raise Unauthorized() from e
    logger.append_keys(token_id=str(principal.token_id))
    return {
        "principalId": principal.user or str(principal.token_id),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": stage_wildcard(event["methodArn"]),
                }
            ],
        },
        "context": principal.to_context(),
    }
