"""API Gateway's authorizer result cache: flushed when a token stops being valid.

The TOKEN authorizer's results are cached per token for ``AuthorizerResultTtl`` seconds (300 by
default) for throughput. Revoking a token flushes the stage's whole cache
(``FlushStageAuthorizersCache``, ``DELETE /restapis/{restApiId}/stages/{stageName}/cache/authorizers``;
the function's role may do that on its own stage only, see template.yaml), so the revoked token
gets 401 on its very next request. The local stack's gateway answers the same call.
"""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from teamcal.observability import logger


class AuthorizerCache(Protocol):
    """What the token service needs: forget every cached authorizer result of this stage."""

    def flush(self) -> bool:
        """Flush; ``True`` when done, ``False`` when it failed (the cache then expires by itself)."""
        ...


class StageAuthorizerCache:
    """The authorizer cache of one REST API stage, through an ``apigateway`` boto3 client.

    ``rest_api_id`` and ``stage`` come from the request's ``requestContext`` (``apiId``,
    ``stage``): the API that authorized the revoking request is the one to flush.
    """

    def __init__(self, client: Any, rest_api_id: str, stage: str) -> None:
        self._client = client
        self.rest_api_id = rest_api_id
        self.stage = stage

    def flush(self) -> bool:
        """``FlushStageAuthorizersCache`` on the stage. A failure (throttled: the call allows few
        requests per second) is logged, not raised: the revocation itself is done, and the
        cached result expires after ``AuthorizerResultTtl`` seconds at the latest."""
        try:
            self._client.flush_stage_authorizers_cache(restApiId=self.rest_api_id, stageName=self.stage)
        except (ClientError, BotoCoreError) as e:
            logger.error(
                "authorizer cache not flushed; a revoked token works until its cached result expires",
                extra={"restApiId": self.rest_api_id, "stage": self.stage, "reason": str(e)},
            )
            return False
        return True
