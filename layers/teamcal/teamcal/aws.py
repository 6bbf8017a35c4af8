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
from typing import Any

import boto3
from botocore.config import Config

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    """Return the process-wide boto3 client for ``service`` (e.g. ``"dynamodb"``, ``"s3"``)."""
    return boto3.client(service, config=RETRY_CONFIG)


#: For bulk writers (the iCalendar import): their requests are built by code from records that
#: were validated on the way in, and botocore's client-side parameter validation of thousands of
#: BatchWriteItem requests costs about as much CPU as the rest of the write path.
BULK_CONFIG = RETRY_CONFIG.merge(Config(parameter_validation=False))


@cache
def bulk_client(service: str) -> Any:
    """A process-wide client for ``service`` without client-side parameter validation (see
    :data:`BULK_CONFIG`); the service still validates every request."""
    return boto3.client(service, config=BULK_CONFIG)


def forget_clients() -> None:
    """Drop every cached client (the next call builds a new one, with new connections)."""
    client.cache_clear()
    bulk_client.cache_clear()


try:
    from snapshot_restore_py import register_after_restore
except ImportError:  # not on Lambda
    pass
else:
    register_after_restore(forget_clients)
