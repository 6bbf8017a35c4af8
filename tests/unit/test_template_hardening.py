"""Template hardening (issue 16 item 6): TLS 1.2 on an optional custom domain with the default
endpoint off, BinaryMediaTypes as the README says, table deletion protection on by default,
and leading-key conditions where a function writes only its own item kinds."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.routing import ApiSpec
from devstack.template import Template

pytestmark = pytest.mark.unit

TPL = Template.from_file()


def props(logical_id: str) -> dict[str, Any]:
    return dict(TPL.resources[logical_id]["Properties"])


def test_every_table_has_deletion_protection_from_a_parameter_on_by_default() -> None:
    tables = [name for name, _ in TPL.of_type("AWS::DynamoDB::Table")]
    assert tables
    for name in tables:
        assert props(name)["DeletionProtectionEnabled"] == {"Ref": "TableDeletionProtection"}, name
    assert TPL.data["Parameters"]["TableDeletionProtection"]["Default"] == "true"


def test_a_custom_domain_is_tls_1_2_and_turns_the_default_endpoint_off() -> None:
    domain = TPL.resources["ApiDomain"]
    assert domain["Condition"] == "HasCustomDomain"
    assert domain["Properties"]["SecurityPolicy"] == "TLS_1_2"
    assert TPL.resources["ApiDomainMapping"]["Condition"] == "HasCustomDomain"
    assert props("TeamcalApi")["DisableExecuteApiEndpoint"] == {"Fn::If": ["HasCustomDomain", True, False]}
    assert TPL.data["Parameters"]["DomainName"]["Default"] == ""


def test_binary_media_types_are_what_the_local_stack_reads() -> None:
    types = [str(t).replace("~1", "/") for t in props("TeamcalApi")["BinaryMediaTypes"]]
    assert types == ["text/calendar", "application/octet-stream"]
    assert set(ApiSpec.from_template(TPL).binary_media_types) == set(types)


def test_the_event_types_function_writes_only_type_items() -> None:
    statements = props("EventTypesFunction")["Policies"][0]["Statement"]
    (custom,) = [s for s in statements if s["Sid"] == "CustomTypes"]
    assert custom["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ET#*"]}}
