"""The local stack as an object (``devstack.stack.LocalStack``), started in-process on loopback,
with a template parameter override; and the command line's argument checks."""

from __future__ import annotations

import multiprocessing

import pytest
import requests

from devstack.__main__ import main
from devstack.stack import LocalStack

pytestmark = pytest.mark.integration

BASE = "/rest/brizo-calendar/api/1"


def test_with_authorizer_ttl_zero_a_revoked_token_is_refused_at_once() -> None:
    # Given a stack whose authorizer answers are never cached
    with LocalStack(port=0, parameters={"AuthorizerResultTtl": "0"}, workers=1) as stack:
        http = requests.Session()
        http.trust_env = False
        admin = {"Authorization": f"Bearer {stack.admin_token}"}
        created = http.post(f"{stack.url}{BASE}/token", json={"name": "t", "user": "u"}, headers=admin).json()
        mine = {"Authorization": f"Bearer {created['token']}"}
        # And a token that has just been used
        assert http.get(f"{stack.url}{BASE}/token", headers=mine).status_code == 403
        # When the admin revokes it
        assert http.delete(f"{stack.url}{BASE}/token/{created['id']}", headers=admin).status_code == 200
        # Then the very next request with it is refused
        assert http.get(f"{stack.url}{BASE}/token", headers=mine).status_code == 401
        url = stack.url
    # And stopping the stack ends its worker processes and closes its port
    assert multiprocessing.active_children() == []
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=2)


def test_short_admin_token_stops_the_stack_with_exit_code_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TOKEN", "too-short")
    assert main(["--port", "0"]) == 1
    assert multiprocessing.active_children() == []


@pytest.mark.parametrize(
    "override",
    ["NoSuchParameter=1", "LogLevel=LOUD", "AuthorizerResultTtl"],
)
def test_bad_parameter_overrides_are_usage_errors(override: str) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--parameter-overrides", override])
    assert caught.value.code == 2
