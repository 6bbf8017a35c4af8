"""The sealing key of received invitations in template.yaml: a customer-managed symmetric KMS key
with rotation, administered by the account, used (Encrypt/Decrypt only, only with the
``synchronizationId`` encryption context) by the partners function alone."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.template import Template

pytestmark = pytest.mark.unit

TPL = Template.from_file()


def _statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in function.get("Properties", {}).get("Policies") or []:
        if isinstance(policy, dict):
            out.extend(policy.get("Statement", []))
    return out


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def test_the_sealing_key_is_symmetric_rotated_and_administered_by_the_account() -> None:
    key = TPL.resources["SealingKey"]
    assert key["Type"] == "AWS::KMS::Key"
    props = key["Properties"]
    assert props["EnableKeyRotation"] is True
    assert (props["KeySpec"], props["KeyUsage"]) == ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    (statement,) = props["KeyPolicy"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}


def test_only_the_partners_function_may_seal_and_only_with_the_synchronization_context() -> None:
    kms = {
        logical_id: [s for s in _statements(res) if any(a.lower().startswith("kms:") for a in _actions(s))]
        for logical_id, res in TPL.of_type("AWS::Serverless::Function")
    }
    assert {k for k, v in kms.items() if v} == {"PartnersFunction"}
    (statement,) = kms["PartnersFunction"]
    assert statement["Effect"] == "Allow"
    assert sorted(_actions(statement)) == ["kms:Decrypt", "kms:Encrypt"]
    assert statement["Resource"] == {"Fn::GetAtt": ["SealingKey", "Arn"]}
    condition = statement["Condition"]
    assert condition["Null"] == {"kms:EncryptionContext:synchronizationId": "false"}
    assert condition["ForAllValues:StringEquals"] == {"kms:EncryptionContextKeys": ["synchronizationId"]}


def test_the_partners_function_gets_the_key_id_and_no_sealing_secret_remains() -> None:
    env = TPL.resources["PartnersFunction"]["Properties"]["Environment"]["Variables"]
    assert env["TEAMCAL_SEALING_KEY_ID"] == {"Ref": "SealingKey"}
    assert "sealing-key" not in str(TPL.data)
