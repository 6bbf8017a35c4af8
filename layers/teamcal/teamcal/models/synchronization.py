"""A stored synchronization with a partner deployment: :class:`SynchronizationRecord`.

Item attributes (invitations table ``SYNC#<id>`` / ``SYNC``, see :mod:`teamcal.storage.invitations`)
are the wire names of :class:`teamcal.partners.protocol.Synchronization` (``id``, ``name``,
``status``, ``role``, ``partnerUrl``, ``partnerSynchronizationId``, ``scope``, ``mappingCount``,
``partnerNotified``, ``version``, ``created`` / ``updated`` epoch ms) plus what only this
deployment keeps: ``partnerDeploymentId``, ``managerTokenId`` (the token that created or accepted
it), ``reach`` (the calendar ids it is clipped to; absent: not clipped), ``keyVersion`` (bumped
when the signing secret changes) and, on a received invitation not yet answered, ``sealedSecret``
(its one-time secret, KMS-sealed). Attributes this record does not name are kept and attributes
an item lacked stay absent, so ``SynchronizationRecord.from_item(item).item() == item`` (no
migration).

A plain frozen dataclass, like the other records the replication functions read (no pydantic at
their import).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from teamcal.models.stored import KeptRecord, optional_int, optional_int_tuple

#: Wire name → attribute name of every attribute the record names.
_FIELD_OF: dict[str, str] = {
    "id": "id",
    "name": "name",
    "status": "status",
    "role": "role",
    "partnerUrl": "partner_url",
    "partnerSynchronizationId": "partner_synchronization_id",
    "partnerDeploymentId": "partner_deployment_id",
    "scope": "scope",
    "managerTokenId": "manager_token_id",
    "reach": "reach",
    "mappingCount": "mapping_count",
    "partnerNotified": "partner_notified",
    "keyVersion": "key_version",
    "sealedSecret": "sealed_secret",
    "version": "version",
    "created": "created",
    "updated": "updated",
}
_INTS = frozenset({"id", "mappingCount", "keyVersion", "version", "created", "updated"})
_OPTIONAL_INTS = frozenset({"partnerSynchronizationId", "managerTokenId"})


@dataclass(frozen=True)
class SynchronizationRecord(KeptRecord):
    """A stored synchronization (see the module docstring).

    Attributes:
        status: ``INVITATION_SENT`` | ``INVITATION_RECEIVED`` | ``NOT_CONFIGURED`` | ``ACTIVE`` |
            ``REJECTED`` | ``DELETED`` (:func:`teamcal.services.sync_context.next_status`).
        role: ``INVITER`` or ``INVITEE``.
        scope: our scope as stored (``Scope`` wire form), None before we chose one.
        reach: the calendar ids the managing token may reach (None: not clipped).
        stored: the wire names the item had (None: a record built here, every attribute set).
        extra: attributes of the item this record does not name, kept as read.
    """

    _FIELDS = _FIELD_OF
    _READ = {**dict.fromkeys(_INTS, int), **dict.fromkeys(_OPTIONAL_INTS, optional_int), "reach": optional_int_tuple}

    id: int
    status: str
    name: str = ""
    role: str = "INVITER"
    partner_url: str = ""
    partner_synchronization_id: int | None = None
    partner_deployment_id: str | None = None
    scope: Mapping[str, Any] | None = None
    manager_token_id: int | None = None
    reach: tuple[int, ...] | None = None
    mapping_count: int = 0
    partner_notified: bool = True
    key_version: int = 1
    sealed_secret: str | None = None
    version: int = 1
    created: int = 0
    updated: int = 0
    stored: frozenset[str] | None = field(default=None, compare=False)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def evolved(self, now_ms: int, **changes: Any) -> SynchronizationRecord:
        """The next version: ``changes`` (wire names; None removes an attribute, e.g.
        ``sealedSecret=None``), ``version`` + 1, ``updated`` = ``now_ms`` (epoch ms)."""
        item = {**self.item(), **changes, "version": self.version + 1, "updated": now_ms}
        return SynchronizationRecord.from_item({k: v for k, v in item.items() if v is not None})
