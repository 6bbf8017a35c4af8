"""The local stack's function runtime: each function in its own spawned worker processes, with
exactly its template environment, Lambda's error payloads and JSON round trips."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from devstack.drivers import FunctionError
from devstack.lambdas import AWS_BASICS, Lambdas
from devstack.template import Template
from devstack.worker import PASSTHROUGH

pytestmark = pytest.mark.integration

TEMPLATE = Template(
    {
        "Parameters": {"Level": {"Type": "String", "Default": "INFO"}},
        "Globals": {
            "Function": {
                "Handler": "app.lambda_handler",
                "Timeout": 7,
                "Environment": {"Variables": {"SHARED": "yes", "LEVEL": {"Ref": "Level"}}},
            }
        },
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "Hello": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "tests/integration/devstack_echo/",
                    "MemorySize": 256,
                    "Environment": {"Variables": {"GREETING": "hello", "TABLE": {"Ref": "Table"}}},
                },
            },
            "Bye": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "tests/integration/devstack_echo/",
                    "Environment": {"Variables": {"GREETING": "bye"}},
                },
            },
            "Broken": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "tests/integration/nowhere/"}},
        },
    },
    stack="rt",
    parameters={"Level": "DEBUG"},
)


@pytest.fixture(scope="module")
def lambdas() -> Iterator[Lambdas]:
    # A variable of the developer's shell that must not leak into functions
    os.environ["DEVSTACK_TEST_LEAK"] = "leaked"
    runtime = Lambdas(TEMPLATE, {**AWS_BASICS, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}, workers=1)
    try:
        yield runtime
    finally:
        runtime.close()
        del os.environ["DEVSTACK_TEST_LEAK"]


def test_each_function_sees_exactly_its_own_environment(lambdas: Lambdas) -> None:
    # When two functions sharing one module are invoked
    hello = lambdas.invoke("Hello", {"n": 1})
    bye = lambdas.invoke("Bye", {"n": 2})
    # Then each read its own variables at import, in its own process
    assert (hello["greeting_at_import"], bye["greeting_at_import"]) == ("hello", "bye")
    assert hello["pid"] != bye["pid"]
    # And the worker imported nothing of the stack's own (no moto, no template reader)
    assert hello["heavy_modules"] == []
    # And its environment is the template's (Globals + own, resolved) plus the AWS basics, nothing else
    env = {k: v for k, v in hello["environment"].items() if k not in PASSTHROUGH}
    assert env == {
        "SHARED": "yes",
        "LEVEL": "DEBUG",
        "GREETING": "hello",
        "TABLE": "rt-Table",
        **AWS_BASICS,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_LAMBDA_FUNCTION_NAME": "rt-Hello",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "_HANDLER": "app.lambda_handler",
    }
    # And the context reflects the template's name, memory and timeout
    assert (hello["function_name"], hello["memory_limit_in_mb"]) == ("rt-Hello", 256)
    assert 0 < hello["remaining_ms"] <= 7000
    assert hello["event"] == {"n": 1}


def test_a_warm_worker_is_reused(lambdas: Lambdas) -> None:
    first = lambdas.invoke("Hello", {})
    second = lambdas.invoke("Hello", {})
    assert first["pid"] == second["pid"]


def test_handler_error_comes_back_as_lambda_error_payload(lambdas: Lambdas) -> None:
    with pytest.raises(FunctionError) as caught:
        lambdas.invoke("Hello", {"raise": "Unauthorized"})
    assert (caught.value.error_type, caught.value.error_message) == ("RuntimeError", "Unauthorized")
    assert any("lambda_handler" in line for line in caught.value.stack_trace)


def test_result_that_is_not_json_is_a_marshal_error(lambdas: Lambdas) -> None:
    with pytest.raises(FunctionError) as caught:
        lambdas.invoke("Hello", {"unserializable": True})
    assert caught.value.error_type == "Runtime.MarshalError"


def test_module_that_cannot_be_imported_fails_every_invocation_without_breaking_the_pool(lambdas: Lambdas) -> None:
    for _ in range(2):
        with pytest.raises(FunctionError) as caught:
            lambdas.invoke("Broken", {})
        assert caught.value.error_type == "Runtime.ImportModuleError"
    assert lambdas.invoke("Hello", {})["greeting_at_import"] == "hello"


def test_unknown_function_is_a_key_error(lambdas: Lambdas) -> None:
    with pytest.raises(KeyError):
        lambdas.invoke("Nobody", {})
