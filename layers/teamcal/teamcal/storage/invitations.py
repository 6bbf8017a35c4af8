"""Invitations table repository: synchronizations, their mappings, and replication bookkeeping.

Item shapes (table keys ``pk``/``sk``, index ``gsi1`` on ``gsi1pk``/``gsi1sk``, TTL attribute
``expiresAt`` in epoch SECONDS — DynamoDB deletes expired items within about two days, so readers
never rely on the deletion, only on the keys being unique):

* a synchronization: ``pk = "SYNC#<id>"``, ``sk = "SYNC"``, ``gsi1pk = "SYNCS"``,
  ``gsi1sk = "<created ms, 15 digits>#<id, 16 digits>"`` (the list, oldest first); attributes
  ``id``, ``name``, ``status``, ``role``, ``partnerUrl``, ``partnerSynchronizationId``,
  ``partnerDeploymentId``, ``scope``, ``mappingCount``, ``partnerNotified``, ``keyVersion``
  (bumped when the signing secret changes), ``version``, ``created``, ``updated``; a received
  invitation not yet answered also has ``expiresAt`` (30 days).
* a mapping: ``pk = "SYNC#<syncId>"``, ``sk = "MAP#<mappingId, 16 digits>"``,
  ``gsi1pk = "MAPCAL#<localCalendarId>"``, ``gsi1sk = "<syncId, 16>#<mappingId, 16>"``: the
  mappings of a synchronization are one Query; the mappings of a calendar (what the events-stream
  consumer needs per change) are one Query on ``gsi1``.
* this deployment's identity: ``pk = sk = "DEPLOYMENT"``, ``deploymentId`` (random, made once).
* a nonce seen on a signed call: ``pk = "NONCE#<scope>#<nonce>"``, ``sk = "NONCE"``, expiring
  after 10 minutes (twice the signature's timestamp window).
* a change received from a partner: ``pk = "RCPT#<syncId>#<sha256(changeId)[:32]>"``,
  ``sk = "RCPT"``, expiring after 14 days (longer than the sender's queue keeps a message),
  written in the same transaction as the event change it records.
* a tombstone of a deleted event: ``pk = "TOMB#<eventId>"``, ``sk = "TOMB"``, with the delete's
  ``updated`` (epoch ms) and ``version`` (for the conflict rule against a change that arrives
  later), ``deletedVersion`` (the version of the item that was deleted) and, when the delete came
  from a partner, ``appliedBy`` (that synchronization: the stream consumer does not send it back);
  expiring after 14 days. Re-creating the event removes it in the same transaction.

No Scan: every read is a GetItem or a Query on a key above. Synchronizations are read and
written as :class:`~teamcal.models.synchronization.SynchronizationRecord` values, mappings as
:class:`~teamcal.models.calendar_mapping.CalendarMappingRecord` values; a tombstone is a plain
dict of its stored attributes (only the replication bookkeeping reads one).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from teamcal.models.calendar_mapping import CalendarMappingRecord
from teamcal.models.synchronization import SynchronizationRecord
from teamcal.storage.dynamo import batch_write, deserialize, query_all, serialize, translate, value
from teamcal.storage.versioned import error_code

_LIST_PK = "SYNCS"
_INDEX_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk", "expiresAt")
NONCE_TTL_SECONDS = 600
RECEIPT_TTL_SECONDS = 14 * 86_400
INVITATION_TTL_SECONDS = 30 * 86_400


def _sync_pk(sync_id: int) -> str:
    return f"SYNC#{sync_id}"


def _mapping_sk(mapping_id: int) -> str:
    return f"MAP#{mapping_id:016d}"


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": value(pk), "sk": value(sk)}


def _public(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in _INDEX_KEYS}


def _sync(item: Mapping[str, Any]) -> SynchronizationRecord:
    return SynchronizationRecord.from_item(_public(item))


def _mapping(item: Mapping[str, Any]) -> CalendarMappingRecord:
    return CalendarMappingRecord.from_item(_public(item))


def _receipt_pk(sync_id: int, change_id: str) -> str:
    return f"RCPT#{sync_id}#{hashlib.sha256(change_id.encode()).hexdigest()[:32]}"


class InvitationRepository:
    """Synchronizations, mappings, nonces and receipts in the invitations table.

    ``client`` is a boto3 DynamoDB client; ``table`` the table name; ``clock`` gives epoch
    seconds (for TTLs; injected by tests).
    """

    def __init__(self, client: Any, table: str, clock: Any = time.time) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    @property
    def table(self) -> str:
        """The table name (for transactions that span tables)."""
        return self._table

    def _expires(self, seconds: int) -> int:
        return int(self._clock()) + seconds

    # ------------------------------------------------------------------ identity
    def deployment_id(self) -> str:
        """This deployment's random identity, created on first use (a conditional put: two
        concurrent first uses agree on one)."""
        key = _key("DEPLOYMENT", "DEPLOYMENT")
        try:
            found = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
            if found:
                return str(deserialize(found)["deploymentId"])
            fresh = uuid.uuid4().hex
            self._client.put_item(
                TableName=self._table,
                Item=serialize({"pk": "DEPLOYMENT", "sk": "DEPLOYMENT", "deploymentId": fresh}),
                ConditionExpression="attribute_not_exists(pk)",
            )
            return fresh
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True)["Item"]
                return str(deserialize(item)["deploymentId"])
            raise translate(e) from e

    # ------------------------------------------------------------------ synchronizations
    def _sync_item(self, record: SynchronizationRecord) -> dict[str, Any]:
        if not isinstance(record, SynchronizationRecord):
            raise TypeError(f"a SynchronizationRecord is written, not {type(record).__name__}")
        item = {
            **record.item(),
            "pk": _sync_pk(record.id),
            "sk": "SYNC",
            "gsi1pk": _LIST_PK,
            "gsi1sk": f"{record.created + 10**14:015d}#{record.id:016d}",
        }
        if record.status == "INVITATION_RECEIVED":
            item["expiresAt"] = record.created // 1000 + INVITATION_TTL_SECONDS
        return item

    def create(self, record: SynchronizationRecord) -> None:
        """Insert a new synchronization.

        Raises:
            TypeError: ``record`` is not a :class:`SynchronizationRecord` (a dict is not written).
            ConflictError: the id is taken.
        """
        item = serialize(self._sync_item(record))
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as e:
            raise translate(e, "a synchronization with this id exists") from e

    def get(self, sync_id: int) -> SynchronizationRecord | None:
        """The synchronization ``sync_id`` (strongly consistent), or None."""
        try:
            out = self._client.get_item(TableName=self._table, Key=_key(_sync_pk(sync_id), "SYNC"), ConsistentRead=True)
        except ClientError as e:
            raise translate(e) from e
        return _sync(deserialize(out["Item"])) if "Item" in out else None

    def list_all(self) -> list[SynchronizationRecord]:
        """Every synchronization, oldest first (one Query on ``gsi1``, following pages)."""
        return [
            _sync(i)
            for i in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": value(_LIST_PK)},
            )
        ]

    def _replace_action(self, old: SynchronizationRecord, new: SynchronizationRecord) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": serialize(self._sync_item(new)),
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":v": value(old.version)},
            }
        }

    def replace(self, old: SynchronizationRecord, new: SynchronizationRecord) -> None:
        """Write ``new`` over ``old`` if the stored version is still ``old.version``.

        Raises:
            ConflictError: another request changed it meanwhile.
        """
        self._transact([self._replace_action(old, new)], "the synchronization was changed by another request; retry")

    def delete(self, sync_id: int) -> None:
        """Remove a synchronization and every mapping it still has (idempotent)."""
        keys = [(_sync_pk(sync_id), "SYNC")] + [(_sync_pk(sync_id), _mapping_sk(m.id)) for m in self.mappings(sync_id)]
        self._batch_delete(keys)

    # ------------------------------------------------------------------ mappings
    def _mapping_item(self, mapping: CalendarMappingRecord) -> dict[str, Any]:
        if not isinstance(mapping, CalendarMappingRecord):
            raise TypeError(f"a CalendarMappingRecord is written, not {type(mapping).__name__}")
        sync_id, mapping_id = mapping.synchronization_id, mapping.id
        return {
            **mapping.item(),
            "pk": _sync_pk(sync_id),
            "sk": _mapping_sk(mapping_id),
            "gsi1pk": f"MAPCAL#{mapping.local_calendar_id}",
            "gsi1sk": f"{sync_id:016d}#{mapping_id:016d}",
        }

    def add_mapping(
        self, old: SynchronizationRecord, new: SynchronizationRecord, mapping: CalendarMappingRecord
    ) -> None:
        """Insert ``mapping`` and replace the synchronization ``old`` by ``new``, together.

        Raises:
            TypeError: ``mapping`` is not a :class:`CalendarMappingRecord` (a dict is not written).
            ConflictError: the mapping id is taken or the synchronization changed meanwhile.
        """
        put = {
            "Put": {
                "TableName": self._table,
                "Item": serialize(self._mapping_item(mapping)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        self._transact([put, self._replace_action(old, new)], "the synchronization was changed meanwhile; retry")

    def remove_mapping(self, old: SynchronizationRecord, new: SynchronizationRecord, mapping_id: int) -> None:
        """Delete a mapping and replace the synchronization ``old`` by ``new``, together.

        Raises:
            ConflictError: the mapping is gone or the synchronization changed meanwhile.
        """
        delete = {
            "Delete": {
                "TableName": self._table,
                "Key": _key(_sync_pk(old.id), _mapping_sk(mapping_id)),
                "ConditionExpression": "attribute_exists(pk)",
            }
        }
        self._transact([delete, self._replace_action(old, new)], "the synchronization was changed meanwhile; retry")

    def mapping(self, sync_id: int, mapping_id: int) -> CalendarMappingRecord | None:
        """One mapping of a synchronization, or None."""
        try:
            out = self._client.get_item(
                TableName=self._table, Key=_key(_sync_pk(sync_id), _mapping_sk(mapping_id)), ConsistentRead=True
            )
        except ClientError as e:
            raise translate(e) from e
        return _mapping(deserialize(out["Item"])) if "Item" in out else None

    def mappings(self, sync_id: int) -> list[CalendarMappingRecord]:
        """The mappings of a synchronization, by id (one Query)."""
        return [
            _mapping(i)
            for i in query_all(
                self._client,
                TableName=self._table,
                KeyConditionExpression="pk = :p AND begins_with(sk, :m)",
                ExpressionAttributeValues={":p": value(_sync_pk(sync_id)), ":m": value("MAP#")},
                ConsistentRead=True,
            )
        ]

    def mappings_of_calendar(self, calendar_id: int) -> list[CalendarMappingRecord]:
        """Every mapping, of any synchronization, whose local calendar is ``calendar_id`` (one
        Query on ``gsi1``; eventually consistent, re-checked by the sender)."""
        return [
            _mapping(i)
            for i in query_all(
                self._client,
                TableName=self._table,
                IndexName="gsi1",
                KeyConditionExpression="gsi1pk = :p",
                ExpressionAttributeValues={":p": value(f"MAPCAL#{calendar_id}")},
            )
        ]

    def delete_mappings(self, sync_id: int) -> None:
        """Delete every mapping of a synchronization (idempotent, resumable)."""
        self._batch_delete([(_sync_pk(sync_id), _mapping_sk(m.id)) for m in self.mappings(sync_id)])

    # ------------------------------------------------------------------ replay protection
    def remember_nonce(self, scope: str, nonce: str) -> bool:
        """Record a nonce of a signed call; False when it was seen before (a replay)."""
        item = {"pk": f"NONCE#{scope}#{nonce}", "sk": "NONCE", "expiresAt": self._expires(NONCE_TTL_SECONDS)}
        try:
            self._client.put_item(
                TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return False
            raise translate(e) from e
        return True

    # ------------------------------------------------------------------ receipts and markers
    def has_receipt(self, sync_id: int, change_id: str) -> bool:
        """Whether change ``change_id`` from synchronization ``sync_id`` was applied already."""
        try:
            out = self._client.get_item(
                TableName=self._table, Key=_key(_receipt_pk(sync_id, change_id), "RCPT"), ConsistentRead=True
            )
        except ClientError as e:
            raise translate(e) from e
        return "Item" in out

    def receipt_action(self, sync_id: int, change_id: str, event_id: int) -> dict[str, Any]:
        """A TransactWriteItems Put recording that ``change_id`` was applied (fails if it was)."""
        item = {
            "pk": _receipt_pk(sync_id, change_id),
            "sk": "RCPT",
            "changeId": change_id,
            "eventId": event_id,
            "expiresAt": self._expires(RECEIPT_TTL_SECONDS),
        }
        return {
            "Put": {
                "TableName": self._table,
                "Item": serialize(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def tombstone(self, event_id: int) -> dict[str, Any] | None:
        """The tombstone of event ``event_id`` (strongly consistent), or None."""
        try:
            out = self._client.get_item(
                TableName=self._table, Key=_key(f"TOMB#{event_id}", "TOMB"), ConsistentRead=True
            )
        except ClientError as e:
            raise translate(e) from e
        return _public(deserialize(out["Item"])) if "Item" in out else None

    def _tomb(
        self, event_id: int, updated: int, version: int, deleted_version: int, applied_by: int | None
    ) -> dict[str, Any]:
        return {
            "pk": f"TOMB#{event_id}",
            "sk": "TOMB",
            "eventId": event_id,
            "updated": updated,
            "version": version,
            "deletedVersion": deleted_version,
            "appliedBy": applied_by,
            "expiresAt": self._expires(RECEIPT_TTL_SECONDS),
        }

    def tombstone_action(
        self, event_id: int, *, updated: int, version: int, deleted_version: int, applied_by: int | None
    ) -> dict[str, Any]:
        """A TransactWriteItems Put of the tombstone of an event deleted in the same transaction."""
        item = self._tomb(event_id, updated, version, deleted_version, applied_by)
        return {"Put": {"TableName": self._table, "Item": serialize(item)}}

    def drop_tombstone_action(self, event_id: int) -> dict[str, Any]:
        """A TransactWriteItems Delete of an event's tombstone (when the event is created again)."""
        return {"Delete": {"TableName": self._table, "Key": _key(f"TOMB#{event_id}", "TOMB")}}

    def put_tombstone(self, event_id: int, *, updated: int, version: int, deleted_version: int) -> dict[str, Any]:
        """Record a local delete's tombstone unless one exists; returns the stored tombstone
        (the existing one when a re-delivered stream record raced a first write)."""
        item = self._tomb(event_id, updated, version, deleted_version, None)
        try:
            self._client.put_item(
                TableName=self._table, Item=serialize(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise translate(e) from e
            return self.tombstone(event_id) or _public(item)
        return _public(item)

    # ------------------------------------------------------------------ helpers
    def _transact(self, actions: list[dict[str, Any]], conflict: str) -> None:
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as e:
            raise translate(e, conflict) from e

    def _batch_delete(self, keys: Iterable[tuple[str, str]]) -> None:
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 25):
            requests = [{"DeleteRequest": {"Key": _key(pk, sk)}} for pk, sk in unique[start : start + 25]]
            batch_write(self._client, self._table, requests)
