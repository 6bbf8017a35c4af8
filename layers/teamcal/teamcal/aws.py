"""boto3 client factories, created lazily and once per process.

Clients are not built at import time: a function pays for botocore's service model only when it
first talks to AWS. Retries use botocore's ``standard`` mode (exponential backoff with jitter on
throttling and transient errors), configured here once for every client. The endpoint comes from
boto3's own configuration (``AWS_ENDPOINT_URL``), so the same code runs on AWS and on the local
stack.

Lambda SnapStart (the API functions) restores many execution environments from one snapshot taken
after init. No client exists at that point (nothing here runs at import), and an after-restore hook
drops any cached client all the same, so no connection or credential is shared between restored
environments. ``snapshot_restore_py`` exists only in Lambda's Python runtimes (3.12 and later).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config

if TYPE_CHECKING:  # types-boto3 (a development dependency): typed clients for the services used
    from types_boto3_cloudformation import CloudFormationClient
    from types_boto3_dynamodb import DynamoDBClient
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient
    from types_boto3_s3 import S3Client
    from types_boto3_scheduler import EventBridgeSchedulerClient
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_sqs import SQSClient

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@overload
def client(service: Literal["cloudformation"]) -> CloudFormationClient: ...
@overload
def client(service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def client(service: Literal["dynamodbstreams"]) -> DynamoDBStreamsClient: ...
@overload
def client(service: Literal["s3"]) -> S3Client: ...
@overload
def client(service: Literal["scheduler"]) -> EventBridgeSchedulerClient: ...
@overload
def client(service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
@overload
def client(service: Literal["sqs"]) -> SQSClient: ...
@overload
def client(service: str) -> Any: ...  # a service without stubs in requirements-dev.txt's types-boto3
def client(service: str) -> Any:
    """Return the process-wide boto3 client for ``service`` (e.g. ``"dynamodb"``, ``"s3"``)."""
    return _client(service)


@cache
def _client(service: str) -> Any:
    return boto3.client(service, config=RETRY_CONFIG)  # type: ignore[call-overload]


#: For bulk writers (the iCalendar import): their requests are built by code from records that
#: were validated on the way in, and botocore's client-side parameter validation of thousands of
#: BatchWriteItem requests costs about as much CPU as the rest of the write path.
BULK_CONFIG = RETRY_CONFIG.merge(Config(parameter_validation=False))


@cache
def bulk_client(service: Literal["dynamodb"]) -> DynamoDBClient:
    """A process-wide client for ``service`` without client-side parameter validation (see
    :data:`BULK_CONFIG`); the service still validates every request."""
    return boto3.client(service, config=BULK_CONFIG)


#: S3 with SigV4 for presigned URLs and POST policies (botocore signs those with SigV2 in
#: us-east-1 unless told; SigV2 is deprecated and carries no region or date scope).
S3_CONFIG = RETRY_CONFIG.merge(Config(signature_version="s3v4"))


@cache
def s3_client() -> S3Client:
    """The process-wide S3 client whose presigned URLs and POST forms are signed with SigV4."""
    return boto3.client("s3", config=S3_CONFIG)


def forget_clients() -> None:
    """Drop every cached client (the next call builds a new one, with new connections)."""
    _client.cache_clear()
    bulk_client.cache_clear()
    s3_client.cache_clear()


try:
    from snapshot_restore_py import register_after_restore
except ImportError:  # not on Lambda
    pass
else:
    register_after_restore(forget_clients)
