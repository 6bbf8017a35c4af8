"""The local stack as an object: moto server, template resources, functions, drivers.

    with LocalStack(port=0) as stack:          # or stack = LocalStack().start(); …; stack.stop()
        requests.get(stack.url + "/rest/brizo-calendar/api/1/token",
                     headers={"Authorization": f"Bearer {stack.admin_token}"})

Start order: moto server on 127.0.0.1, any free port, in its own process
(:mod:`devstack.motoserver`) → the template's tables, bucket and queues
(:func:`devstack.template.create_resources`) → the bootstrap admin token → the function runtime
(:class:`devstack.lambdas.Lambdas`) → the drivers (the API gateway). Stop runs in reverse.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

from devstack.drivers import Driver, undriven_event_sources
from devstack.gateway import ApiGateway
from devstack.lambdas import AWS_BASICS, Lambdas
from devstack.routing import ApiSpec
from devstack.s3_driver import S3Driver
from devstack.scheduler_driver import SchedulerDriver
from devstack.sqs_driver import SqsDriver
from devstack.stream_driver import StreamDriver
from devstack.template import REGION, ROOT, TEMPLATE, Template, create_resources

log = logging.getLogger("devstack")

#: Template parameters the local stack sets unless told otherwise: partners on loopback over http.
LOCAL_PARAMETERS = {"AllowLoopbackPartners": "true"}


class _Endpoint:
    """A stand-in for a boto3 session whose clients all talk to the moto server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._session = boto3.session.Session(
            aws_access_key_id=AWS_BASICS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=AWS_BASICS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=AWS_BASICS["AWS_SESSION_TOKEN"],
            region_name=REGION,
        )

    def client(self, service: str, **kwargs: Any) -> Any:
        return self._session.client(service, endpoint_url=self.url, **kwargs)  # type: ignore[call-overload]


class LocalStack:
    """teamcal on loopback: ``url`` is the API's base (no stage prefix), ``admin_token`` the
    plaintext of an admin, all-calendars token with every flag on.

    ``port`` 0 picks a free port; ``parameters`` override template parameters
    (``{"AuthorizerResultTtl": "0"}``); ``admin_token`` fixes the admin token's plaintext (at
    least 20 characters), otherwise a random one is created; ``workers`` is the largest number of
    worker processes per function.
    """

    def __init__(
        self,
        port: int = 3000,
        host: str = "127.0.0.1",
        parameters: Mapping[str, str] | None = None,
        admin_token: str | None = None,
        workers: int = 2,
        template: Path = TEMPLATE,
        stack_name: str = "teamcal-local",
    ) -> None:
        self.template = Template.from_file(
            template, stack=stack_name, parameters={**LOCAL_PARAMETERS, **(parameters or {})}
        )
        self.api = ApiSpec.from_template(self.template)
        self._host = host
        self._port = port
        self._fixed_token = admin_token
        self._workers = workers
        self._moto: subprocess.Popen[str] | None = None
        self.endpoint: _Endpoint | None = None
        self.lambdas: Lambdas | None = None
        self.gateway: ApiGateway | None = None
        self.drivers: list[Driver] = []
        self.admin_token = ""

    @property
    def url(self) -> str:
        """``http://host:port`` of the API gateway (127.0.0.1 when bound to every interface)."""
        if self.gateway is None:
            raise RuntimeError("the stack is not started")
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"http://{host}:{self.gateway.port}"

    def start(self) -> LocalStack:
        """Start everything; on any failure, stop what was started and re-raise.

        Raises:
            OSError: the port is taken.
            RuntimeError: the moto server process did not start.
            devstack.routing.TemplateError: (from the constructor) an API construct not emulated.
            teamcal.errors.InvalidInputError: ``admin_token`` is shorter than 20 characters.
        """
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._moto = subprocess.Popen(
            [sys.executable, "-m", "devstack.motoserver"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._moto.stdout is not None
        port = self._moto.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the moto server did not start (exit code {self._moto.wait()})")
        self.endpoint = _Endpoint(f"http://127.0.0.1:{port}")
        create_resources(self.template, self.endpoint)
        self.admin_token = self._bootstrap_admin()
        # the gateway listens first: the functions' API Gateway calls (FlushStageAuthorizersCache
        # on revocation) go to it, as they go to API Gateway on AWS
        self.gateway = ApiGateway(self.api, self._invoke, host=self._host, port=self._port)
        self.gateway.start()
        self.drivers = [self.gateway]
        env = {**AWS_BASICS, "AWS_ENDPOINT_URL": self.endpoint.url, "AWS_ENDPOINT_URL_API_GATEWAY": self.url}
        self.lambdas = Lambdas(self.template, env, workers=self._workers)
        self.drivers.append(SchedulerDriver(self.template, self.lambdas.invoke, self.endpoint))
        self.drivers += [
            cls(self.template, self.lambdas.invoke, self.endpoint) for cls in (StreamDriver, SqsDriver, S3Driver)
        ]
        for driver in self.drivers[1:]:
            driver.start()
        for source in undriven_event_sources(self.template):
            log.warning("event source not driven by the local stack yet: %s", source)

    def _invoke(self, logical_id: str, event: Mapping[str, Any], timeout: float | None = None) -> Any:
        if self.lambdas is None:
            raise RuntimeError("the stack is not started")
        return self.lambdas.invoke(logical_id, event, timeout=timeout)

    def _bootstrap_admin(self) -> str:
        from teamcal.models.tokens import TokenCreate
        from teamcal.services.tokens import create_token
        from teamcal.storage.tokens import TokenRepository

        assert self.endpoint is not None
        repo = TokenRepository(self.endpoint.client("dynamodb"), self.template.physical_name("TokensTable"))
        request = TokenCreate.model_validate(
            {
                "name": "devstack admin",
                "user": "admin",
                "allCalendars": True,
                "editCalendars": True,
                "deleteCalendars": True,
                "editSources": True,
                "deleteSources": True,
                "admin": True,
            }
        )
        plaintext = create_token(repo, request, created_by=None, plaintext=self._fixed_token).token
        assert plaintext is not None  # a token is created with its plaintext; only replays lack it
        return plaintext

    def stop(self) -> None:
        """Stop drivers, worker processes and the moto server (safe to call twice)."""
        for driver in reversed(self.drivers):
            driver.stop()
        self.drivers = []
        if self.lambdas is not None:
            self.lambdas.close()
            self.lambdas = None
        if self._moto is not None:
            self._stop_moto(self._moto)
            self._moto = None

    @staticmethod
    def _stop_moto(proc: subprocess.Popen[str]) -> None:
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.close()  # EOF: the server stops
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
