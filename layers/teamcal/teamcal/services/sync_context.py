"""What the synchronization use cases share: their dependencies, the status machine, small helpers.

The six statuses and their transitions are exactly the reference's
(shared/reference/issue-sync-invitations.txt, "Invitation statuses"); :func:`next_status` is the
only place that knows them, and refuses any other transition with ConflictError (HTTP 409)::

    (create)              → INVITATION_SENT      on the inviter
    (invitation received) → INVITATION_RECEIVED  on the invitee
    INVITATION_RECEIVED --accept-->   NOT_CONFIGURED   (invitee; the inviter: INVITATION_SENT --accepted-->)
    INVITATION_RECEIVED --reject-->   REJECTED         (invitee; the inviter: INVITATION_SENT --rejected-->)
    NOT_CONFIGURED / ACTIVE --map-->  ACTIVE           (one active mapping)
    ACTIVE --unmap-->                 ACTIVE, or NOT_CONFIGURED when no mapping is left
    NOT_CONFIGURED / ACTIVE --delete--> DELETED        (either side; the other is told)
    DELETED / REJECTED --remove-->    (record removed)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from teamcal.errors import ConflictError, NotFoundError, SettingsError, UnauthorizedError
from teamcal.models.synchronization import SynchronizationRecord
from teamcal.partners.client import PartnerClient
from teamcal.partners.protocol import Synchronization
from teamcal.partners.urls import PartnerUrl, parse_partner_url
from teamcal.services.stores import ConfigStores
from teamcal.settings import PartnerSettings, Settings
from teamcal.storage.events import EventRepository
from teamcal.storage.invitations import InvitationRepository
from teamcal.storage.sealing import Sealer, SealError
from teamcal.storage.secrets import SecretStore

#: Largest webhook body we read, in bytes (an event change is far smaller).
MAX_WEBHOOK_BYTES = 262_144
#: Statuses in which the shared signing key exists and mappings may change.
ACCEPTED = frozenset({"NOT_CONFIGURED", "ACTIVE"})

_TRANSITIONS: dict[tuple[str, str], str] = {
    ("INVITATION_RECEIVED", "accept"): "NOT_CONFIGURED",
    ("INVITATION_SENT", "accepted"): "NOT_CONFIGURED",
    ("INVITATION_RECEIVED", "reject"): "REJECTED",
    ("INVITATION_SENT", "rejected"): "REJECTED",
    ("NOT_CONFIGURED", "map"): "ACTIVE",
    ("ACTIVE", "map"): "ACTIVE",
    ("ACTIVE", "unmap"): "ACTIVE",
    ("NOT_CONFIGURED", "delete"): "DELETED",
    ("ACTIVE", "delete"): "DELETED",
    ("DELETED", "remove"): "REMOVED",
    ("REJECTED", "remove"): "REMOVED",
}
_VERBS = {
    "accept": "accepted",
    "accepted": "accepted",
    "reject": "rejected",
    "rejected": "rejected",
    "map": "mapped",
    "unmap": "unmapped",
    "delete": "deleted",
    "remove": "removed from the list",
}


def next_status(status: str, action: str, mappings_left: int = 0) -> str:
    """The status after ``action`` (``accept``, ``accepted``, ``reject``, ``rejected``, ``map``,
    ``unmap``, ``delete``, ``remove``) from ``status``; ``REMOVED`` means the record goes.
    ``mappings_left`` (after an unmap) decides ACTIVE vs NOT_CONFIGURED.

    Raises:
        ConflictError: the reference has no such transition (accept a rejected one, accept twice,
            remove an active one, …).
    """
    target = _TRANSITIONS.get((status, action))
    if target is None:
        raise ConflictError(f"a synchronization in status {status} cannot be {_VERBS.get(action, action)}")
    if action == "unmap" and mappings_left == 0:
        return "NOT_CONFIGURED"
    return target


@dataclass(frozen=True)
class SyncContext:
    """The repositories and the partner client the synchronization use cases work with.

    ``allow_loopback`` is the local-development setting; ``clock`` gives epoch seconds (for
    signature timestamps; injected by tests). ``sealer`` (KMS) seals received invitations' one-time
    secrets; None in functions that never receive or answer one (:meth:`require_sealer`).
    """

    invitations: InvitationRepository
    secrets: SecretStore
    config: ConfigStores
    events: EventRepository
    client: PartnerClient
    allow_loopback: bool
    clock: Callable[[], float] = time.time
    sealer: Sealer | None = None

    def require_sealer(self) -> Sealer:
        """The KMS sealer.

        Raises:
            SettingsError: this context was built without a sealing key (a template mistake).
        """
        if self.sealer is None:
            raise SettingsError("missing or invalid environment variables: TEAMCAL_SEALING_KEY_ID")
        return self.sealer


def connect(
    dynamodb: Any,
    secretsmanager: Any,
    tables: Mapping[str, str],
    secrets_prefix: str,
    allow_loopback: bool,
    timeout_seconds: float,
    kms: Any = None,
    sealing_key_id: str | None = None,
) -> SyncContext:
    """A context over boto3 clients; ``tables`` maps ``calendars``, ``sources``, ``events`` and
    ``invitations`` to table names; ``kms`` and ``sealing_key_id`` (both or neither) seal received
    invitations' secrets."""
    return SyncContext(
        invitations=InvitationRepository(dynamodb, tables["invitations"]),
        secrets=SecretStore(secretsmanager, secrets_prefix),
        config=ConfigStores.connect(dynamodb, tables["calendars"], tables["sources"]),
        events=EventRepository(dynamodb, tables["events"]),
        client=PartnerClient(allow_loopback, timeout_seconds),
        allow_loopback=allow_loopback,
        sealer=Sealer(kms, sealing_key_id) if kms is not None and sealing_key_id else None,
    )


def connect_from_settings(
    dynamodb: Any, secretsmanager: Any, settings: Settings, partner: PartnerSettings, kms: Any = None
) -> SyncContext:
    """:func:`connect` with the table names and partner knobs of the process settings (what every
    synchronization function builds at its first request); ``kms`` given, the sealer uses
    ``partner.sealing_key_id``."""
    return connect(
        dynamodb,
        secretsmanager,
        {
            "calendars": settings.calendars_table,
            "sources": settings.sources_table,
            "events": settings.events_table,
            "invitations": settings.invitations_table,
        },
        secrets_prefix=partner.secrets_prefix,
        allow_loopback=partner.allow_loopback_partners,
        timeout_seconds=partner.partner_timeout_seconds,
        kms=kms,
        sealing_key_id=partner.sealing_key_id,
    )


@dataclass(frozen=True)
class SignedCall:
    """A partner webhook call as received: ``path`` below the API base path, the raw body bytes."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


def require_sync(ctx: SyncContext, sync_id: int) -> SynchronizationRecord:
    """The synchronization ``sync_id``. Raises NotFoundError."""
    sync = ctx.invitations.get(sync_id)
    if sync is None:
        raise NotFoundError(f"synchronization {sync_id} not found")
    return sync


def partner_url(ctx: SyncContext, sync: SynchronizationRecord) -> PartnerUrl:
    """The stored partner URL, checked again against today's rules (PartnerAddressError)."""
    return parse_partner_url(str(sync.partner_url), ctx.allow_loopback)


def signing_secret(ctx: SyncContext, sync: SynchronizationRecord, stage: str) -> bytes:
    """The synchronization's secret of ``stage`` (``invitation``: the one-time secret, before
    acceptance; ``key``: the signing key, after).

    Raises:
        UnauthorizedError: there is no such secret (any more).
    """
    sealed = sync.sealed_secret
    if stage == "invitation" and sealed:  # a received invitation (see receive_invitation)
        try:
            return ctx.require_sealer().unseal(str(sealed), sync.id)
        except SealError as e:
            raise UnauthorizedError("this synchronization has no signing secret for the call") from e
    found = ctx.secrets.get(sync.id, sync.key_version or 1)
    if found is None or found[0] != stage:
        raise UnauthorizedError("this synchronization has no signing secret for the call")
    return found[1]


def bumped(sync: SynchronizationRecord, now_ms: int, **changes: Any) -> SynchronizationRecord:
    """``sync`` with ``changes`` (wire names; None removes one), the next ``version`` and
    ``updated`` = ``now_ms`` (:meth:`SynchronizationRecord.evolved`)."""
    return sync.evolved(now_ms, **changes)


def view(sync: SynchronizationRecord) -> Synchronization:
    """The API form of a stored synchronization."""
    return Synchronization.model_validate(
        {k: v for k, v in sync.item().items() if k not in ("partnerDeploymentId", "keyVersion", "sealedSecret")}
    )
