"""Every sample event under events/<resource>/ drives its function without a server error.

The samples are what `sam local invoke -e events/<resource>/<file>.json` feeds a function; a sample
that no longer matches its routes would send users chasing ghosts.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEMPLATE

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
API_SAMPLES = [
    pytest.param(TEMPLATE.function_module(lid), path, id=f"{path.parent.name}/{path.name}")
    for lid, res in TEMPLATE.of_type("AWS::Serverless::Function")
    for path in sorted((ROOT / "events" / Path(res["Properties"]["CodeUri"]).name).glob("*.json"))
    if lid != "AuthorizerFunction"
    and any(e.get("Type") == "Api" for e in (res["Properties"].get("Events") or {}).values())
]


def test_every_function_has_samples() -> None:
    for _, res in TEMPLATE.of_type("AWS::Serverless::Function"):
        name = Path(res["Properties"]["CodeUri"]).name
        assert list((ROOT / "events" / name).glob("*.json")), f"events/{name}/ has no sample event"


@pytest.mark.parametrize(("module", "path"), API_SAMPLES)
def test_sample_event_is_answered_without_5xx(aws: None, lambda_context: Any, module: str, path: Path) -> None:
    handler = importlib.import_module(module).lambda_handler
    out = handler(json.loads(path.read_text()), lambda_context)
    assert out["statusCode"] < 500, out.get("body")
    assert out["statusCode"] != 404 or "No such resource" not in out["body"], "the sample matches no route"


def test_authorizer_sample_is_refused_with_unauthorized(aws: None, lambda_context: Any) -> None:
    from functions.authorizer import app

    with pytest.raises(Exception, match="^Unauthorized$"):
        app.lambda_handler(json.loads((ROOT / "events/authorizer/token.json").read_text()), lambda_context)
