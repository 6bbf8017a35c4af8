"""template.yaml's packaging and runtime defaults (issue 13): SnapStart behind an alias for every
API function, a log group with a retention and JSON logs for every function.

Generic over the template: a function added later is checked without editing this file."""

from __future__ import annotations

import pytest

from devstack.template import Template

pytestmark = pytest.mark.unit

TPL = Template.from_file()
FUNCTIONS = dict(TPL.of_type("AWS::Serverless::Function"))
GLOBALS = TPL.data["Globals"]["Function"]
API = next(props for _, res in TPL.of_type("AWS::Serverless::Api") if (props := res["Properties"]))


def has_api_event(props: dict[str, object]) -> bool:
    events = props.get("Events") or {}
    assert isinstance(events, dict)
    return any(e["Type"] == "Api" for e in events.values())


def test_every_api_function_restores_from_a_snapstart_snapshot_through_its_alias() -> None:
    authorizer = API["Auth"]["Authorizers"]["TokenAuthorizer"]["FunctionArn"]
    api_functions = {lid for lid, res in FUNCTIONS.items() if has_api_event(res["Properties"])}
    api_functions.add(authorizer["Ref"].removesuffix(".Alias"))
    assert len(api_functions) >= 9
    for logical_id in api_functions:
        props = FUNCTIONS[logical_id]["Properties"]
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}, logical_id
        # SnapStart snapshots published versions only: Api events and the authorizer use the alias.
        assert props["AutoPublishAlias"] == "live", logical_id
    assert authorizer == {"Ref": "AuthorizerFunction.Alias"}
    assert GLOBALS["Runtime"] in ("python3.12", "python3.13")  # SnapStart for Python: 3.12 and later


def test_every_function_logs_json_into_its_own_group_kept_for_the_retention_parameter() -> None:
    assert GLOBALS["LoggingConfig"]["LogFormat"] == "JSON"
    groups = set()
    for logical_id, res in FUNCTIONS.items():
        config = res["Properties"]["LoggingConfig"]
        assert "LogFormat" not in config or config["LogFormat"] == "JSON", logical_id
        group = config["LogGroup"]["Ref"]
        group_props = TPL.resources[group]["Properties"]
        assert TPL.resources[group]["Type"] == "AWS::Logs::LogGroup", logical_id
        assert group_props["RetentionInDays"] == {"Ref": "FunctionLogRetentionDays"}, logical_id
        groups.add(group)
    assert len(groups) == len(FUNCTIONS)
    retention = TPL.data["Parameters"]["FunctionLogRetentionDays"]
    assert retention["Default"] in retention["AllowedValues"]
