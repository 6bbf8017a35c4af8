"""Read template.yaml and create its resources against whatever endpoint boto3 points at.

The template is the only schema: tables, indexes, streams, buckets and the function environment
are all taken from its resource definitions, never from a second copy. CloudFormation's short
tags (``!Ref``, ``!GetAtt``, ``!Sub``, …) are read as their long forms (``{"Ref": …}``) and
resolved against the local physical names by :class:`Template`.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"


class _CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A SafeLoader that reads CloudFormation short tags as their long forms."""


def _tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        scalar = loader.construct_scalar(node)
        return {name: scalar.split(".", 1) if suffix == "GetAtt" else scalar}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data, short tags turned into long-form intrinsics."""
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return data


@dataclass
class Template:
    """A parsed template with local physical names for its resources.

    ``stack`` prefixes every physical name (``{stack}-{LogicalId}`` in lower case for buckets),
    ``parameters`` overrides parameter defaults (as ``sam deploy --parameter-overrides`` does).
    """

    data: dict[str, Any]
    stack: str = "teamcal-local"
    parameters: dict[str, str] = field(default_factory=dict)
    #: Queue URLs by logical id, as the emulator answered CreateQueue (see :func:`create_resources`).
    queue_urls: dict[str, str] = field(default_factory=dict)
    #: KMS key ids by logical id, filled by :func:`create_resources` (the emulator picks them).
    kms_key_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path = TEMPLATE, **kwargs: Any) -> Template:
        return cls(load(path), **kwargs)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("Resources", {}))

    def of_type(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.resources.items():
            if resource.get("Type") == kind:
                yield logical_id, resource

    # ------------------------------------------------------------ names and intrinsics
    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        props = resource.get("Properties") or {}
        explicit = props.get("TableName") or props.get("BucketName") or props.get("QueueName")
        if isinstance(explicit, dict):  # an intrinsic (e.g. a bucket named after AWS::StackId)
            explicit = self.resolve(explicit)
        if isinstance(explicit, str):
            return explicit
        name = f"{self.stack}-{logical_id}"
        if resource["Type"] == "AWS::SQS::Queue" and props.get("FifoQueue"):
            return f"{name}.fifo"  # CloudFormation names a FIFO queue so, as SQS requires
        return name.lower() if resource["Type"] == "AWS::S3::Bucket" else name

    def arn(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.physical_name(logical_id)
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
        if kind == "AWS::Serverless::Function":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{name}"
        if kind == "AWS::KMS::Key":
            return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{self.ref(logical_id)}"
        return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:{logical_id}/{name}"

    @property
    def _stack_uuid(self) -> str:
        """A UUID standing in for the one CloudFormation puts in ``AWS::StackId`` (stable per name)."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, self.stack))

    def parameter(self, name: str) -> str:
        if name in self.parameters:
            return self.parameters[name]
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.stack,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{self.stack}/{self._stack_uuid}",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        spec = self.data.get("Parameters", {}).get(name)
        if spec is None:
            raise KeyError(f"template has no parameter or resource {name!r}")
        return str(spec.get("Default", ""))

    def ref(self, name: str) -> str:
        if name in self.resources:
            kind = self.resources[name]["Type"]
            if kind == "AWS::SQS::Queue":
                fallback = f"http://sqs.{REGION}.localhost/{ACCOUNT}/{self.physical_name(name)}"
                return self.queue_urls.get(name) or fallback
            if kind == "AWS::KMS::Key":  # a key's Ref is its id
                return self.kms_key_ids.get(name) or str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack}/{name}"))
            return self.physical_name(name)
        return self.parameter(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute in ("QueueName", "TableName"):
            return self.physical_name(logical_id)
        if attribute == "StreamArn":
            return self.arn(logical_id) + "/stream/local"
        raise KeyError(f"GetAtt {logical_id}.{attribute} is not emulated")

    def resolve(self, node: Any) -> Any:
        """Resolve intrinsics (Ref, GetAtt, Sub, Join, If-less subset) in ``node``."""
        if isinstance(node, list):
            return [self.resolve(v) for v in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attr)
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(self.resolve(i)) for i in items)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                sep, text = arg
                return str(self.resolve(text)).split(sep)
        return {k: self.resolve(v) for k, v in node.items()}

    def _sub(self, arg: str | list[Any]) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                logical, attr = name.split(".", 1)
                return self.get_att(logical, attr)
            return self.ref(name)

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    # ------------------------------------------------------------ functions
    def function_environment(self, logical_id: str) -> dict[str, str]:
        """Globals' variables overlaid with the function's own, resolved to local names."""
        glob = self.data.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        own = (self.resources[logical_id].get("Properties") or {}).get("Environment", {}).get("Variables", {})
        merged: Mapping[str, Any] = {**glob, **own}
        return {k: str(self.resolve(v)) for k, v in merged.items()}

    def function_module(self, logical_id: str) -> str:
        """``functions/tokens/`` + ``app.lambda_handler`` → ``functions.tokens.app``."""
        props = self.resources[logical_id].get("Properties") or {}
        handler = props.get("Handler") or self.data.get("Globals", {}).get("Function", {}).get("Handler")
        code = str(props["CodeUri"]).strip("/").replace("/", ".")
        return f"{code}.{str(handler).rsplit('.', 1)[0]}"


# ---------------------------------------------------------------- resource creation
def _table_kwargs(tpl: Template, logical_id: str, props: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "TableName": tpl.physical_name(logical_id),
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = [
            {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for gsi in props["GlobalSecondaryIndexes"]
        ]
    if props.get("StreamSpecification"):
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return kwargs


def create_resources(tpl: Template, session: Any) -> dict[str, str]:
    """Create the template's tables, buckets, queues, schedule groups, secrets and KMS keys;
    returns {logical id: physical name (a key's id)}.

    ``session`` is a boto3 Session (or the boto3 module) already pointed at the emulator.
    """
    created: dict[str, str] = {}
    ddb = session.client("dynamodb", region_name=REGION)
    for logical_id, res in tpl.of_type("AWS::DynamoDB::Table"):
        props = tpl.resolve(res.get("Properties") or {})
        ddb.create_table(**_table_kwargs(tpl, logical_id, props))
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=tpl.physical_name(logical_id),
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        created[logical_id] = tpl.physical_name(logical_id)
    s3 = session.client("s3", region_name=REGION)
    for logical_id, res in tpl.of_type("AWS::S3::Bucket"):
        name = tpl.physical_name(logical_id)
        s3.create_bucket(Bucket=name)
        props = res.get("Properties") or {}
        if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        created[logical_id] = name
    sqs = session.client("sqs", region_name=REGION)
    queues = sorted(tpl.of_type("AWS::SQS::Queue"), key=lambda q: "RedrivePolicy" in (q[1].get("Properties") or {}))
    for logical_id, res in queues:  # dead-letter queues first: a redrive policy names an existing queue
        props = tpl.resolve(res.get("Properties") or {})
        attributes = {k: str(v) for k, v in props.items() if k in ("VisibilityTimeout", "MessageRetentionPeriod")}
        if props.get("FifoQueue"):
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(bool(props.get("ContentBasedDeduplication"))).lower()
        if props.get("RedrivePolicy"):
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        tpl.queue_urls[logical_id] = sqs.create_queue(QueueName=tpl.physical_name(logical_id), Attributes=attributes)[
            "QueueUrl"
        ]
        created[logical_id] = tpl.physical_name(logical_id)
    created.update(_create_schedule_groups_and_secrets(tpl, session))
    keys = list(tpl.of_type("AWS::KMS::Key"))
    if keys:
        kms = session.client("kms", region_name=REGION)
        for logical_id, res in keys:
            props = tpl.resolve(res.get("Properties") or {})
            key_id = kms.create_key(
                Description=str(props.get("Description", logical_id)),
                KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
                KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
            )["KeyMetadata"]["KeyId"]
            if props.get("EnableKeyRotation"):
                kms.enable_key_rotation(KeyId=key_id)
            tpl.kms_key_ids[logical_id] = key_id
            created[logical_id] = key_id
    return created


def _create_schedule_groups_and_secrets(tpl: Template, session: Any) -> dict[str, str]:
    """EventBridge Scheduler groups and Secrets Manager secrets (``SecretString``, or a random
    ``GenerateSecretString``); the schedules in a group are run by ``devstack.scheduler_driver``."""
    created: dict[str, str] = {}
    groups = list(tpl.of_type("AWS::Scheduler::ScheduleGroup"))
    if groups:
        scheduler = session.client("scheduler", region_name=REGION)
        for logical_id, _ in groups:
            scheduler.create_schedule_group(Name=tpl.physical_name(logical_id))
            created[logical_id] = tpl.physical_name(logical_id)
    secrets = list(tpl.of_type("AWS::SecretsManager::Secret"))
    if secrets:
        manager = session.client("secretsmanager", region_name=REGION)
        for logical_id, res in secrets:
            props = tpl.resolve(res.get("Properties") or {})
            text = props.get("SecretString")
            if text is None:
                generate = props.get("GenerateSecretString") or {}
                random = manager.get_random_password(PasswordLength=32, ExcludePunctuation=True)["RandomPassword"]
                key = generate.get("GenerateStringKey")
                template = json.loads(generate.get("SecretStringTemplate") or "{}")
                text = json.dumps({**template, key: random}) if key else random
            manager.create_secret(Name=tpl.physical_name(logical_id), SecretString=str(text))
            created[logical_id] = tpl.physical_name(logical_id)
    return created
