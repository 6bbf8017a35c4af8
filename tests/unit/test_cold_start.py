"""Cold start (issue 13): what a REST function imports at init, and what it defers to its first
request or, under SnapStart, to the before-snapshot hook (:func:`teamcal.api.warm`)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from devstack.template import Template
from teamcal import api, lazy

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
#: The REST functions (those with a resolver) and modules their import must not run.
REST_FUNCTIONS = ("calendars", "event_types", "events", "google", "ical", "jira", "partners", "sources", "tokens")
NEVER_AT_IMPORT = (
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    "aws_lambda_powertools.event_handler.openapi.dependant",
    "aws_lambda_powertools.event_handler.openapi.compat",
    "icalendar",
    "dateutil.rrule",
    "recurring_ical_events",
)
#: Functions whose import loads no pydantic model machinery at all (settings are dataclasses;
#: about 60 ms): all of them, since ``responses=`` names its models (:func:`api.complete_responses`).
NO_PYDANTIC_AT_IMPORT = REST_FUNCTIONS


def test_a_lazy_module_runs_on_first_attribute_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a module whose code leaves a mark
    (tmp_path / "cold_start_probe.py").write_text("import os\nos.environ['COLD_START_PROBE'] = 'ran'\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("COLD_START_PROBE", raising=False)
    monkeypatch.delitem(sys.modules, "cold_start_probe", raising=False)
    # When it is imported lazily, its code has not run
    module = lazy.lazy_import("cold_start_probe")
    assert "COLD_START_PROBE" not in os.environ
    # Then the first attribute read runs it, once
    assert module.VALUE == 42
    assert os.environ["COLD_START_PROBE"] == "ran"
    assert lazy.lazy_import("cold_start_probe") is sys.modules["cold_start_probe"]


def test_load_all_runs_every_deferred_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cold_start_probe2.py").write_text("import os\nos.environ['COLD_START_PROBE2'] = 'ran'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("COLD_START_PROBE2", raising=False)
    monkeypatch.delitem(sys.modules, "cold_start_probe2", raising=False)
    lazy.lazy_import("cold_start_probe2")
    assert "COLD_START_PROBE2" not in os.environ
    assert "cold_start_probe2" in lazy.load_all()
    assert os.environ["COLD_START_PROBE2"] == "ran"


def test_a_missing_module_fails_at_once() -> None:
    with pytest.raises(ModuleNotFoundError):
        lazy.lazy_import("teamcal.no_such_module")


class _Probe(BaseModel):
    count: int


def _event(body: str) -> dict[str, object]:
    return {
        "httpMethod": "POST",
        "path": f"{api.BASE_PATH}/probe",
        "resource": f"{api.BASE_PATH}/probe",
        "headers": {"Content-Type": "application/json"},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"stage": "test", "requestId": "r"},
    }


def test_the_resolver_validates_from_its_first_request() -> None:
    # Given a resolver whose validation machinery is not loaded yet
    app = api.make_resolver()

    @app.post("/probe")
    def probe(body: _Probe) -> _Probe:
        return body

    assert app._enable_validation is True  # Powertools reads it for routes and the OpenAPI document
    assert not hasattr(app, "_request_validation_middleware")
    # When the first request has an invalid body, Then it gets a 400 with Jira's body
    bad = app.resolve(_event('{"count": "many"}'), None)  # type: ignore[arg-type]
    assert bad["statusCode"] == 400
    assert json.loads(bad["body"])["errors"] == {
        "count": "Input should be a valid integer, unable to parse string as an integer"
    }
    # and a valid one is answered by the route
    good = app.resolve(_event('{"count": 3}'), None)  # type: ignore[arg-type]
    assert (good["statusCode"], json.loads(good["body"])) == (200, {"count": 3})


def test_warm_does_what_the_first_request_would() -> None:
    app = api.make_resolver()

    @app.post("/probe")
    def probe(body: _Probe) -> _Probe:
        return body

    api.warm(app)
    route = app._static_routes[0]
    assert route._dependant is not None
    assert route.body_field is not None
    assert hasattr(app, "_request_validation_middleware")


def _function_env(name: str) -> dict[str, str]:
    """The environment ``functions/<name>/app.py`` runs with (template.yaml's), this checkout's layer first."""
    tpl = Template.from_file(stack="coldstart")
    functions = {tpl.function_module(lid): lid for lid, _ in tpl.of_type("AWS::Serverless::Function")}
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    layer = ROOT / "layers" / "teamcal"
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{layer}",
        }
    )
    env.update(tpl.function_environment(functions[f"functions.{name}.app"]))
    return env


@pytest.mark.parametrize("name", REST_FUNCTIONS)
def test_a_rest_function_defers_its_routes_work_to_the_first_request_or_the_snapshot(name: str) -> None:
    """Import: no validation machinery, no route analysis, no iCalendar / recurrence libraries.
    The before-snapshot hooks then load all of it, analyse every route and build every teamcal
    model whose build was deferred, so a restored environment builds nothing on its first request."""
    env = _function_env(name)
    plain = name in NO_PYDANTIC_AT_IMPORT
    code = textwrap.dedent(
        f"""
        import sys, types
        hooks = []
        sys.modules["snapshot_restore_py"] = types.SimpleNamespace(register_before_snapshot=hooks.append)
        import functions.{name}.app as module
        early = sorted(m for m in {NEVER_AT_IMPORT!r} if m in sys.modules)
        assert early == [], early
        assert not {plain!r} or "pydantic.main" not in sys.modules
        routes = [*module.app._static_routes, *module.app._dynamic_routes]
        assert routes and all(r._dependant is None for r in routes)
        for hook in hooks:
            hook()
        assert all(r._dependant is not None for r in routes)
        assert "aws_lambda_powertools.event_handler.middlewares.openapi_validation" in sys.modules
        from pydantic import BaseModel
        deferred = sorted(
            name + "." + v.__name__
            for name, m in list(sys.modules.items()) if name.startswith("teamcal.")
            for v in list(vars(m).values())
            if isinstance(v, type) and issubclass(v, BaseModel) and v.__module__ == name and not v.__pydantic_complete__
        )
        assert deferred == [], deferred
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr[-3000:]


_PROBE_MODELS = """
import os
from pydantic import BaseModel
os.environ["COLD_START_MODELS_PROBE"] = "ran"
class Body(BaseModel):
    count: int
class Created(BaseModel):
    id: int
"""
_PROBE_APP = """
from __future__ import annotations
from typing import Any
from teamcal import api
from teamcal.lazy import lazy_import
models = lazy_import("cold_start_models_probe")
CREATED = {201: {"description": "created", "content": {"application/json": {"model": "models.Created"}}}}
app = api.make_resolver()

@app.post("/probe", responses=CREATED)
def probe(body: models.Body) -> tuple[dict[str, Any], int]:
    return {"id": body.count}, 201

@app.get("/other")
def other() -> dict[str, Any]:
    return {}

def eager() -> api.Resolver:
    # the same routes with the model class itself in responses=
    same = api.make_resolver()
    created = {201: {"description": "created", "content": {"application/json": {"model": models.Created}}}}
    same.post("/probe", responses=created)(probe)
    same.get("/other")(other)
    return same

def misnamed() -> api.Resolver:
    wrong = api.make_resolver()
    bad = {201: {"description": "created", "content": {"application/json": {"model": "nowhere.Created"}}}}
    wrong.post("/probe", responses=bad)(probe)
    return wrong
"""


def _probe_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    (tmp_path / "cold_start_models_probe.py").write_text(_PROBE_MODELS)
    (tmp_path / "cold_start_app_probe.py").write_text(_PROBE_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("COLD_START_MODELS_PROBE", raising=False)
    for name in ("cold_start_models_probe", "cold_start_app_probe"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return importlib.import_module("cold_start_app_probe")


def _request(method: str, path: str, body: str | None = None) -> dict[str, object]:
    return {**_event(body or ""), "httpMethod": method, "path": f"{api.BASE_PATH}{path}", "resource": path}


def test_a_model_named_in_responses_is_imported_by_its_routes_first_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a route whose responses= names its model through a lazy module
    probe = _probe_app(tmp_path, monkeypatch)
    route = next(r for r in probe.app.routes() if r.path == "/probe")
    # When the module is imported, Then the models are not
    assert "COLD_START_MODELS_PROBE" not in os.environ
    # nor when another route answers
    assert probe.app.resolve(_request("GET", "/other"), None)["statusCode"] == 200
    assert "COLD_START_MODELS_PROBE" not in os.environ
    assert route.responses[201]["content"]["application/json"]["model"] == "models.Created"
    # When the route's first request is invalid, Then it gets the 400 with Jira's body
    bad = probe.app.resolve(_request("POST", "/probe", '{"count": "many"}'), None)
    assert bad["statusCode"] == 400
    assert json.loads(bad["body"]) == {
        "errorMessages": ["count: Input should be a valid integer, unable to parse string as an integer"],
        "errors": {"count": "Input should be a valid integer, unable to parse string as an integer"},
    }
    # and the route's responses now hold the class; the declared dict is left as it was
    models = sys.modules["cold_start_models_probe"]
    assert route.responses[201]["content"]["application/json"]["model"] is models.Created
    assert probe.CREATED[201]["content"]["application/json"]["model"] == "models.Created"
    good = probe.app.resolve(_request("POST", "/probe", '{"count": 3}'), None)
    assert (good["statusCode"], json.loads(good["body"])) == (201, {"id": 3})


def test_a_named_model_documents_the_route_as_the_class_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = _probe_app(tmp_path, monkeypatch)
    named = probe.app.get_openapi_json_schema(title="t", version="1")
    assert "COLD_START_MODELS_PROBE" in os.environ  # generating the document resolved the name
    assert '"#/components/schemas/Created"' in named
    assert named == probe.eager().get_openapi_json_schema(title="t", version="1")


def test_warm_resolves_named_models_and_a_wrong_name_fails_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = _probe_app(tmp_path, monkeypatch)
    api.warm(probe.app)
    route = next(r for r in probe.app.routes() if r.path == "/probe")
    assert (
        route.responses[201]["content"]["application/json"]["model"] is sys.modules["cold_start_models_probe"].Created
    )
    assert route.dependant.response_extra_models  # Powertools analysed the 201's model
    with pytest.raises(NameError):
        api.warm(probe.misnamed())


def test_the_replication_outbox_imports_no_models() -> None:
    """The outbox turns stream records into queue messages from their plain images: its import
    loads neither pydantic's model machinery nor the event model and the sync context (which the
    sender and the receiver need)."""
    code = textwrap.dedent(
        """
        import sys
        import functions.partners_outbox.app
        loaded = sorted(
            m for m in ("pydantic.main", "teamcal.models.event_record", "teamcal.services.sync_context")
            if m in sys.modules
        )
        print(loaded)
        """
    )
    env = _function_env("partners_outbox")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr[-3000:]
