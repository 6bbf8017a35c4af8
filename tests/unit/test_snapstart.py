"""SnapStart safety (issue 13): many execution environments are restored from one memory snapshot
taken after init, so nothing unique per environment may come from state captured at init.

A ``fork`` models a restore: the child starts from a copy of the parent's memory, as two restored
environments start from one snapshot."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from devstack.template import Template
from teamcal.auth.tokens import generate_token
from teamcal.ids import new_id

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def in_parent_and_forked_child(draw: Callable[[], object]) -> tuple[str, str]:
    """``draw()`` in this process and in a fork of it (a restored copy), as strings."""
    draw()  # any generator state exists before the "snapshot"
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write, repr(draw()).encode())
        finally:
            os._exit(0)
    os.close(write)
    try:
        with os.fdopen(read, "rb") as pipe:
            child = pipe.read().decode()
    finally:
        os.waitpid(pid, 0)
    return repr(draw()), child


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork models a snapshot restore (POSIX)")
def test_a_forked_copy_repeats_a_seeded_generator_so_the_model_can_fail() -> None:
    generator = random.Random(1959)
    parent, child = in_parent_and_forked_child(generator.random)
    assert parent == child


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork models a snapshot restore (POSIX)")
@pytest.mark.parametrize("draw", [new_id, generate_token], ids=["new_id", "generate_token"])
def test_ids_and_tokens_differ_between_copies_restored_from_one_snapshot(draw: Callable[[], object]) -> None:
    random.seed(0)  # a seeded module-level generator must not matter
    results = {tuple(in_parent_and_forked_child(draw)) for _ in range(3)}
    assert all(parent != child for parent, child in results)


def test_ids_and_tokens_come_from_the_operating_systems_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both draw through ``secrets`` (os.urandom), never through ``random``'s seeded state."""
    import secrets

    calls: list[str] = []
    real_randbelow, real_token = secrets.randbelow, secrets.token_urlsafe

    def randbelow(n: int) -> int:
        calls.append("randbelow")
        return real_randbelow(n)

    def token_urlsafe(n: int) -> str:
        calls.append("token_urlsafe")
        return real_token(n)

    monkeypatch.setattr(secrets, "randbelow", randbelow)
    monkeypatch.setattr(secrets, "token_urlsafe", token_urlsafe)
    monkeypatch.setattr(random, "random", lambda: pytest.fail("random.random used"))
    monkeypatch.setattr(random, "randrange", lambda *a: pytest.fail("random.randrange used"))
    new_id()
    generate_token()
    assert calls == ["randbelow", "token_urlsafe"]


def test_no_function_creates_an_aws_client_while_it_initializes() -> None:
    """The snapshot is taken after init: a client (with its connections) made then would be shared
    by every restored environment. Each function module is imported with client creation refused."""
    tpl = Template.from_file(stack="snapstart")
    functions = [lid for lid, _ in tpl.of_type("AWS::Serverless::Function")]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONPATH": str(ROOT)})
    for logical_id in functions:
        env.update(tpl.function_environment(logical_id))
    modules = [tpl.function_module(lid) for lid in functions]
    code = textwrap.dedent(
        f"""
        import botocore.session
        def refuse(*args, **kwargs):
            raise AssertionError("a boto3 client was created at import")
        botocore.session.Session.create_client = refuse
        import importlib
        for module in {modules!r}:
            importlib.import_module(module)
        print("imported", len({modules!r}))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"imported {len(modules)}"


def test_the_after_restore_hook_drops_cached_clients() -> None:
    code = textwrap.dedent(
        """
        import sys, types
        hooks = []
        sys.modules["snapshot_restore_py"] = types.SimpleNamespace(register_after_restore=hooks.append)
        from teamcal import aws
        first = aws.client("dynamodb")
        assert aws.client("dynamodb") is first
        assert hooks == [aws.forget_clients]
        for hook in hooks:
            hook()
        assert aws.client("dynamodb") is not first
        print("ok")
        """
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr[-3000:]


def test_the_google_client_libraries_load_on_first_use_or_before_the_snapshot() -> None:
    """Cold start: importing the Google function does not import google-api-python-client; under
    SnapStart a before-snapshot hook imports it, so restored environments have it loaded."""
    tpl = Template.from_file(stack="snapstart")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONPATH": str(ROOT)})
    env.update(tpl.function_environment("GoogleFunction"))
    code = textwrap.dedent(
        """
        import sys, types
        hooks = []
        sys.modules["snapshot_restore_py"] = types.SimpleNamespace(register_before_snapshot=hooks.append)
        import functions.google.app as app
        assert "googleapiclient" not in sys.modules and "google.oauth2" not in sys.modules
        assert len(hooks) == 2  # the client libraries; the routes' lazy modules (teamcal.api.warm)
        for hook in hooks:
            hook()
        assert "googleapiclient.discovery" in sys.modules
        assert type(app.gateway()).__name__ == "GoogleApi"
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr[-3000:]


def test_no_runtime_module_uses_the_seeded_random_module() -> None:
    """Environments restored from one snapshot share ``random``'s state (the same jitter, the same
    "random" values everywhere): runtime code draws from ``secrets`` / ``os.urandom`` instead."""
    import ast

    offenders = []
    for folder in (ROOT / "layers" / "teamcal" / "teamcal", ROOT / "functions"):
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module == "random":
                    names = ["random"]
                if "random" in names:
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_function_builds_a_teamcal_model_schema_while_it_initializes() -> None:
    """Cold start: every teamcal model defers its schema build (``defer_build``) and no module
    validates an instance at import, so importing a function builds none of them."""
    tpl = Template.from_file(stack="snapstart")
    functions = [lid for lid, _ in tpl.of_type("AWS::Serverless::Function")]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONPATH": str(ROOT)})
    for logical_id in functions:
        env.update(tpl.function_environment(logical_id))
    modules = [tpl.function_module(lid) for lid in functions]
    code = textwrap.dedent(
        f"""
        import importlib
        from pydantic import BaseModel
        for module in {modules!r}:
            importlib.import_module(module)
        def every(cls):
            for sub in cls.__subclasses__():
                yield sub
                yield from every(sub)
        ours = {{m for m in every(BaseModel) if m.__module__.startswith("teamcal.") and "settings" not in m.__module__}}
        assert len(ours) > 50, len(ours)
        print(sorted(f"{{m.__module__}}.{{m.__qualname__}}" for m in ours if m.__pydantic_complete__))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", (done.stdout + done.stderr)[-3000:]


def test_the_google_services_empty_grant_is_an_empty_permission_grant() -> None:
    from teamcal.models.values import PermissionGrant
    from teamcal.services import google

    assert PermissionGrant().model_dump() == google._EMPTY_GRANT


def test_the_authorizer_loads_neither_the_access_gate_nor_calendar_models() -> None:
    """Cold start of the function on every uncached request's path: it only authenticates."""
    tpl = Template.from_file(stack="snapstart")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "POWERTOOLS_TRACE_DISABLED": "true", "PYTHONPATH": str(ROOT)})
    env.update(tpl.function_environment("AuthorizerFunction"))
    heavy = "{'teamcal.access', 'teamcal.models.calendars'}"
    code = f"import sys, functions.authorizer.app\nprint(sorted({heavy} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stderr[-3000:]
