"""template.yaml checks that cfn-lint does not make (see shared/ECOSYSTEM.md): intrinsics inside
Auth.Authorizers and policies name real resources, every function's code and handler exist, and
IAM stays least-privilege."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.template import Template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
TPL = Template.from_file()
PSEUDO = {
    "AWS::Region",
    "AWS::AccountId",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
    "AWS::Partition",
    "AWS::NoValue",
}


def intrinsics(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, arg in node.items():
            if key in ("Ref", "Fn::GetAtt", "Fn::Sub"):
                yield key, arg
            yield from intrinsics(arg)
    elif isinstance(node, list):
        for item in node:
            yield from intrinsics(item)


def test_every_ref_getatt_and_sub_names_a_resource_or_parameter() -> None:
    names = set(TPL.resources) | set(TPL.data.get("Parameters", {})) | PSEUDO
    for key, arg in intrinsics(TPL.data):
        if key == "Ref" and arg.endswith(".Alias"):  # SAM: the alias of a function's AutoPublishAlias
            assert TPL.resources[arg.removesuffix(".Alias")]["Properties"].get("AutoPublishAlias"), f"!Ref {arg}"
        elif key == "Ref" and arg.endswith(".Stage"):  # SAM: the stage of an AWS::Serverless::Api
            assert TPL.resources[arg.removesuffix(".Stage")]["Type"] == "AWS::Serverless::Api", f"!Ref {arg}"
        elif key == "Ref" and arg.endswith("Role") and arg not in names:  # SAM: a function's generated role
            function = TPL.resources.get(arg.removesuffix("Role"), {})
            assert function.get("Type") == "AWS::Serverless::Function", f"!Ref {arg}"
            assert "Role" not in function["Properties"], f"!Ref {arg}: the function names its own role"
        elif key == "Ref":
            assert arg in names, f"!Ref {arg}"
        elif key == "Fn::GetAtt":
            logical = arg[0] if isinstance(arg, list) else arg.split(".")[0]
            assert logical in TPL.resources, f"!GetAtt {arg}"
        else:
            text = arg if isinstance(arg, str) else arg[0]
            extra = {} if isinstance(arg, str) else arg[1]
            for part in text.split("${")[1:]:
                name = part.split("}")[0].split(".")[0]
                assert name in names or name in extra, f"!Sub ${{{name}}}"


def test_authorizer_points_at_a_function() -> None:
    for _, api in TPL.of_type("AWS::Serverless::Api"):
        for name, spec in api["Properties"]["Auth"]["Authorizers"].items():
            arn = spec["FunctionArn"]
            logical = arn["Fn::GetAtt"][0] if "Fn::GetAtt" in arn else arn["Ref"].removesuffix(".Alias")
            assert TPL.resources[logical]["Type"] == "AWS::Serverless::Function", name


def test_every_function_has_its_code_and_handler() -> None:
    for logical_id, res in TPL.of_type("AWS::Serverless::Function"):
        app = ROOT / res["Properties"]["CodeUri"] / "app.py"
        assert app.is_file(), logical_id
        tree = ast.parse(app.read_text())
        assert any(isinstance(n, ast.FunctionDef) and n.name == "lambda_handler" for n in tree.body), logical_id


def test_api_events_belong_to_the_api_and_the_base_path() -> None:
    for logical_id, res in TPL.of_type("AWS::Serverless::Function"):
        for name, event in (res["Properties"].get("Events") or {}).items():
            if event["Type"] != "Api":
                continue
            props = event["Properties"]
            assert props["RestApiId"] == {"Ref": "TeamcalApi"}, f"{logical_id}.{name}"
            assert props["Path"].startswith(("/rest/brizo-calendar/api/1/", "/partner/")), f"{logical_id}.{name}"


def test_iam_is_least_privilege() -> None:
    for logical_id, res in TPL.of_type("AWS::Serverless::Function"):
        for policy in res["Properties"].get("Policies") or []:
            assert isinstance(policy, dict), f"{logical_id}: managed policy {policy} is too broad"
            for statement in policy.get("Statement", []):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    assert not action.endswith("*"), f"{logical_id}: {action}"
                    assert action != "dynamodb:Scan", f"{logical_id}: no access pattern may need a Scan"
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                assert "*" not in resources, f"{logical_id}: {actions} on *"


def test_tables_are_encrypted_recoverable_and_on_demand() -> None:
    for logical_id, res in TPL.of_type("AWS::DynamoDB::Table"):
        props = res["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", logical_id
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id
        assert props["SSESpecification"]["SSEEnabled"] is True, logical_id


def test_local_names_resolve_for_every_function() -> None:
    for logical_id, _ in TPL.of_type("AWS::Serverless::Function"):
        env = TPL.function_environment(logical_id)
        assert all(isinstance(v, str) and v and "{" not in v for v in env.values()), env


def test_the_function_that_calls_partners_has_reserved_concurrency() -> None:
    props = TPL.resources["PartnersSenderFunction"]["Properties"]
    assert props["ReservedConcurrentExecutions"]["Fn::If"][0] == "ReservesPartnerConcurrency"
    assert TPL.data["Parameters"]["PartnerSenderConcurrency"]["Default"] > 0
