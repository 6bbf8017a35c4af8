"""template.yaml for the iCalendar function: no circular dependency through the snapshots
bucket (cfn-lint checks the SAM template, not the transformed one), the S3 trigger the local
stack drives, and the feed route outside the token authorizer."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.routing import ApiSpec
from devstack.s3_driver import s3_sources
from devstack.template import Template

pytestmark = pytest.mark.unit

TPL = Template.from_file(stack="teamcal-test")


def _refs(node: Any) -> set[str]:
    """Every resource a node names with Ref, GetAtt or ${...} in Sub."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, arg in node.items():
            if key == "Ref":
                found.add(str(arg))
            elif key == "Fn::GetAtt":
                found.add(str(arg[0] if isinstance(arg, list) else arg.split(".")[0]))
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found.update(part.split("}")[0].split(".")[0] for part in text.split("${")[1:])
            found |= _refs(arg)
    elif isinstance(node, list):
        for item in node:
            found |= _refs(item)
    return found


def test_the_ical_function_never_refers_to_the_bucket_that_notifies_it() -> None:
    # Given the bucket's S3 event points at IcalFunction (SAM adds a notification to the bucket)
    props = TPL.resources["IcalFunction"]["Properties"]
    assert props["Events"]["ImportUploaded"]["Properties"]["Bucket"] == {"Ref": "SnapshotsBucket"}
    # Then the function's environment and policies name the bucket without Ref/GetAtt (a cycle)
    assert "SnapshotsBucket" not in _refs(props["Environment"])
    assert "SnapshotsBucket" not in _refs(props["Policies"])
    # and the name they use is the bucket's own
    env = TPL.function_environment("IcalFunction")
    assert env["SNAPSHOTS_BUCKET"] == TPL.physical_name("SnapshotsBucket")
    assert env["SNAPSHOTS_BUCKET"] == TPL.function_environment("TokensFunction")["SNAPSHOTS_BUCKET"]
    assert env["SNAPSHOTS_BUCKET"].startswith("teamcal-snapshots-")
    assert env["SNAPSHOTS_BUCKET"] == env["SNAPSHOTS_BUCKET"].lower()
    assert len(env["SNAPSHOTS_BUCKET"]) <= 63


def test_the_uploads_prefix_triggers_the_ical_function() -> None:
    sources = [s for s in s3_sources(TPL) if s.function == "IcalFunction"]
    assert [(s.bucket, s.events, s.rules) for s in sources] == [
        ("SnapshotsBucket", ("s3:ObjectCreated:*",), (("prefix", "imports/"),))
    ]
    rules = TPL.resources["SnapshotsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert any(r.get("Prefix") == "imports/" and r.get("ExpirationInDays") for r in rules)


def test_only_the_feed_route_skips_the_token_authorizer() -> None:
    routes = [r for r in ApiSpec.from_template(TPL).routes if r.function == "IcalFunction"]
    open_routes = sorted((r.method, r.path) for r in routes if r.authorizer is None)
    feed = "/rest/brizo-calendar/api/1/feed/{feedToken}"
    assert open_routes == [("GET", feed), ("HEAD", feed)]  # HEAD: calendar apps check for changes
    assert len(routes) == 10
