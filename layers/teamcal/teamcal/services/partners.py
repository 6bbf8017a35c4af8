"""Synchronization use cases: invitations, their status machine, mappings, and the partner webhooks.

Reference: shared/reference/issue-sync-invitations.txt (Issue Sync Pro's synchronizations), with
calendars in place of projects and event types in place of issue types. The transitions are in
:func:`teamcal.services.sync_context.next_status`; the wire shapes in
:mod:`teamcal.partners.protocol`; the signature in :mod:`teamcal.partners.signing`.

Our API (admin or calendar-edit tokens): :func:`invite`, :func:`list_synchronizations`,
:func:`get_synchronization`, :func:`update`, :func:`accept`, :func:`reject`, :func:`delete`,
:func:`remove_record`, :func:`add_mapping`, :func:`list_mappings`, :func:`delete_mapping`,
:func:`partner_calendars`.

Webhooks (called by the partner, authenticated by signature only): :func:`hello`,
:func:`receive_invitation`, :func:`partner_accepted`, :func:`partner_rejected`,
:func:`partner_deleted`, :func:`partner_mapping_added`, :func:`partner_mapping_removed`,
:func:`calendars_for_partner`, :func:`receive_change`. Each checks, in this order: body size
(413), the synchronization exists (404), its status allows the call (409), the signature headers,
timestamp and signature (401), the nonce was never seen (401), then the body (400).

Decisions where the reference is silent:

* Each side has its own id for a synchronization; webhook paths carry the receiver's id.
* A status change the partner must hear about (reject, delete, mapping removal) happens locally
  even when the partner is unreachable (stopping replication must not depend on the partner);
  ``partnerNotified`` says whether it was told. Inviting, accepting and adding a mapping need the
  partner's answer and fail cleanly (502 / 503) without it.
* A received invitation nobody answers expires after 30 days (the table's TTL); it is hidden from
  the list from then on.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from teamcal.access import (
    Action,
    is_active,
    manager_reach,
    manages_sync,
    partner_reach,
    require,
    require_manages_sync,
    require_sync_manager,
)
from teamcal.auth.principal import Principal
from teamcal.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    TooManyRequestsError,
    UnauthorizedError,
)
from teamcal.ids import new_id, now_ms
from teamcal.models.calendar_mapping import CalendarMappingRecord
from teamcal.models.calendars import CalendarRecord
from teamcal.models.synchronization import SynchronizationRecord
from teamcal.observability import logger
from teamcal.partners.errors import (
    PartnerAddressError,
    PartnerHttpError,
    PartnerProtocolError,
    PartnerUnreachableError,
)
from teamcal.partners.protocol import (
    PROTOCOL_VERSION,
    AcceptIn,
    AcceptRequest,
    CalendarMapping,
    CalendarsOut,
    ChangeResult,
    EventChange,
    Hello,
    InvitationIn,
    InvitationOut,
    MappingCreate,
    MappingIn,
    NoticeIn,
    PartnerCalendar,
    Synchronization,
    SynchronizationCreate,
    SynchronizationUpdate,
    decode_secret,
    encode_secret,
    parse_body,
)
from teamcal.partners.signing import derive_key, new_secret, read_headers, verify
from teamcal.partners.urls import parse_partner_url, same_url
from teamcal.services.replication import receiver
from teamcal.services.sync_context import (
    ACCEPTED,
    MAX_WEBHOOK_BYTES,
    SignedCall,
    SyncContext,
    bumped,
    next_status,
    partner_url,
    require_sync,
    signing_secret,
    view,
)
from teamcal.storage.invitations import INVITATION_TTL_SECONDS

MIRROR = {"PUSH": "PULL", "PULL": "PUSH", "BOTH": "BOTH"}
#: Most received invitations not yet answered this deployment holds (the invitation route needs no
#: token: anyone may call it); past it 429. Unanswered invitations expire after 30 days.
MAX_PENDING_RECEIVED = 50
_PARTNER_FAILURES = (PartnerUnreachableError, PartnerHttpError, PartnerProtocolError, PartnerAddressError)
_RETRIES = 3


# ---------------------------------------------------------------------------- helpers
def _managed(ctx: SyncContext, principal: Principal, sync_id: int) -> SynchronizationRecord:
    """The synchronization, if ``principal`` manages it (:mod:`teamcal.access`, rule 12).

    Raises:
        ForbiddenError: not a token that manages synchronizations. NotFoundError: absent, or
            another token's (only an admin token sees those).
    """
    require_sync_manager(principal)
    sync = require_sync(ctx, sync_id)
    require_manages_sync(principal, sync)
    return sync


def _manager_fields(ctx: SyncContext, principal: Principal) -> dict[str, Any]:
    """Who manages a synchronization being created, accepted or re-scoped, and its reach: the
    calendars that token may add events to (None: an all-calendars token, not clipped)."""
    calendars = _calendars(ctx, principal.calendar_ids)  # none for an all-calendars token
    return {"managerTokenId": principal.token_id, "reach": manager_reach(principal, calendars)}


def _calendars(ctx: SyncContext, ids: frozenset[int]) -> list[CalendarRecord]:
    return ctx.config.calendars.get_many(ids) if ids else []


def _update(ctx: SyncContext, sync_id: int, change: Mapping[str, Any]) -> SynchronizationRecord:
    """Apply ``change`` to the stored synchronization, re-reading after a lost race."""
    for _ in range(_RETRIES):
        sync = require_sync(ctx, sync_id)
        new = bumped(sync, now_ms(), **change)
        try:
            ctx.invitations.replace(sync, new)
            return new
        except ConflictError:
            continue
    raise ConflictError(f"synchronization {sync_id} keeps changing; retry")


def _notify(ctx: SyncContext, sync: SynchronizationRecord, method: str, route: str, key: bytes) -> bool:
    """Tell the partner something it should know; False (logged) when it could not be told."""
    try:
        ctx.client.call(partner_url(ctx, sync), method, route, {}, key=key)
    except _PARTNER_FAILURES as e:
        logger.warning(
            "partner not notified", extra={"synchronizationId": sync.id, "route": route, "reason": e.message}
        )
        return False
    return True


def _visible(sync: SynchronizationRecord, now: int) -> bool:
    if sync.status != "INVITATION_RECEIVED":
        return True
    return int(sync.created) + INVITATION_TTL_SECONDS * 1000 > now


def _calendar(ctx: SyncContext, calendar_id: int) -> CalendarRecord | None:
    calendar = ctx.config.calendars.get(calendar_id)
    return calendar if is_active(calendar) else None


def _mapping_view(mapping: CalendarMappingRecord) -> CalendarMapping:
    return CalendarMapping.model_validate(mapping.item())


# ---------------------------------------------------------------------------- our API
def invite(
    ctx: SyncContext, principal: Principal, request: SynchronizationCreate, own_url: str | None
) -> Synchronization:
    """``POST /synchronization``: invite the deployment at ``partnerUrl``; status INVITATION_SENT.

    Asks the partner who it is (``GET /partner/v1/hello``), then sends the invitation with a fresh
    one-time secret, signed with it. Nothing is kept when the partner does not take it.

    Raises:
        ForbiddenError: neither an admin nor a calendar-edit token.
        PartnerAddressError: ``partnerUrl`` is refused (scheme, address, our own URL).
        InvalidInputError: we cannot tell our own URL (no Host header).
        PartnerUnreachableError (503), PartnerHttpError / PartnerProtocolError (502).
    """
    require_sync_manager(principal)
    url = parse_partner_url(request.partner_url, ctx.allow_loopback)
    if same_url(url, own_url):
        raise PartnerAddressError("is this deployment's own URL: invite another deployment")
    if not own_url:
        raise InvalidInputError("this deployment cannot tell its own URL (the request has no Host header)")
    me = ctx.invitations.deployment_id()
    try:
        hello_answer = Hello.model_validate(ctx.client.call(url, "GET", "/partner/v1/hello"))
    except ValidationError as e:
        raise PartnerProtocolError("partnerUrl does not answer like a teamcal deployment") from e
    if hello_answer.deployment_id == me:
        raise PartnerAddressError("is this deployment's own URL: invite another deployment")
    sync_id, secret, now = new_id(), new_secret(), now_ms()
    record: dict[str, Any] = {
        "id": sync_id,
        "name": request.name,
        "status": "INVITATION_SENT",
        "role": "INVITER",
        "partnerUrl": url.base,
        "partnerDeploymentId": hello_answer.deployment_id,
        "scope": request.scope.model_dump(by_alias=True),
        **_manager_fields(ctx, principal),
        "mappingCount": 0,
        "partnerNotified": True,
        "keyVersion": 1,
        "version": 1,
        "created": now,
        "updated": now,
    }
    ctx.secrets.put(sync_id, "invitation", secret)
    ctx.invitations.create(SynchronizationRecord.from_item(record))
    body = {
        "protocol": PROTOCOL_VERSION,
        "synchronizationId": sync_id,
        "name": request.name,
        "url": own_url,
        "deploymentId": me,
        "secret": encode_secret(secret),
    }
    try:
        try:
            answer = InvitationOut.model_validate(ctx.client.call(url, "POST", "/partner/v1/invitations", body, secret))
        except ValidationError as e:
            raise PartnerProtocolError("the partner's answer to the invitation is not a teamcal answer") from e
    except _PARTNER_FAILURES:
        ctx.invitations.delete(sync_id)
        ctx.secrets.delete(sync_id)
        raise
    stored = _update(ctx, sync_id, {"partnerSynchronizationId": answer.synchronization_id})
    logger.info("invitation sent", extra={"synchronizationId": sync_id, "partnerUrl": url.base})
    return view(stored)


def list_synchronizations(ctx: SyncContext, principal: Principal) -> list[Synchronization]:
    """``GET /synchronization``: every synchronization the token manages (an admin token: all),
    oldest first (expired invitations hidden)."""
    require_sync_manager(principal)
    now = now_ms()
    return [view(s) for s in ctx.invitations.list_all() if _visible(s, now) and manages_sync(principal, s)]


def get_synchronization(ctx: SyncContext, principal: Principal, sync_id: int) -> Synchronization:
    """``GET /synchronization/{synchronizationId}``. Raises ForbiddenError, NotFoundError."""
    sync = _managed(ctx, principal, sync_id)
    if not _visible(sync, now_ms()):
        raise NotFoundError(f"synchronization {sync_id} not found")
    return view(sync)


def update(ctx: SyncContext, principal: Principal, sync_id: int, request: SynchronizationUpdate) -> Synchronization:
    """``PUT /synchronization/{synchronizationId}``: rename or change our scope (any time before
    DELETED or REJECTED; the partner is not told — the scope is ours alone).

    Raises:
        ForbiddenError, NotFoundError; ConflictError: deleted / rejected, or a stale ``version``.
    """
    sync = _managed(ctx, principal, sync_id)
    if sync.status in ("DELETED", "REJECTED"):
        raise ConflictError(f"a synchronization in status {sync.status} cannot be changed")
    if request.version is not None and request.version != sync.version:
        raise ConflictError(f"synchronization {sync_id} is at version {sync.version}, not {request.version}")
    changes: dict[str, Any] = {}
    if request.name is not None:
        changes["name"] = request.name
    if request.scope is not None:
        changes["scope"] = request.scope.model_dump(by_alias=True)
        changes.update(_manager_fields(ctx, principal))
    new = bumped(sync, now_ms(), **changes)
    ctx.invitations.replace(sync, new)
    return view(new)


def accept(ctx: SyncContext, principal: Principal, sync_id: int, request: AcceptRequest) -> Synchronization:
    """``POST /synchronization/{synchronizationId}/accept``: both sides NOT_CONFIGURED.

    Sends the inviter a random salt, signed with the invitation's one-time secret; both sides
    derive the signing key from the two (:func:`teamcal.partners.signing.derive_key`) and forget
    the one-time secret.

    Raises:
        ConflictError: not an INVITATION_RECEIVED one. PartnerUnreachableError (503),
        PartnerHttpError (502, e.g. the inviter deleted its invitation) — the status is unchanged.
    """
    sync = _managed(ctx, principal, sync_id)
    next_status(sync.status, "accept")
    secret = signing_secret(ctx, sync, "invitation")
    salt = new_secret()
    partner_id = int(sync.partner_synchronization_id or 0)
    ctx.client.call(
        partner_url(ctx, sync),
        "POST",
        f"/partner/v1/synchronization/{partner_id}/accept",
        {"partnerSynchronizationId": sync_id, "salt": encode_secret(salt)},
        key=secret,
    )
    ctx.secrets.put(sync_id, "key", derive_key(secret, salt, inviter_id=partner_id, invitee_id=sync_id))
    new = bumped(
        sync,
        now_ms(),
        status="NOT_CONFIGURED",
        scope=request.scope.model_dump(by_alias=True),
        **_manager_fields(ctx, principal),
        keyVersion=int(sync.key_version or 1) + 1,
        sealedSecret=None,
    )
    ctx.invitations.replace(sync, new)
    logger.info("invitation accepted", extra={"synchronizationId": sync_id})
    return view(new)


def reject(ctx: SyncContext, principal: Principal, sync_id: int) -> Synchronization:
    """``POST /synchronization/{synchronizationId}/reject``: both sides REJECTED, the inviter told.

    Raises:
        ConflictError: not an INVITATION_RECEIVED one.
    """
    sync = _managed(ctx, principal, sync_id)
    status = next_status(sync.status, "reject")
    secret = signing_secret(ctx, sync, "invitation")
    told = _notify(ctx, sync, "POST", f"/partner/v1/synchronization/{sync.partner_synchronization_id}/reject", secret)
    new = bumped(sync, now_ms(), status=status, partnerNotified=told, sealedSecret=None)
    ctx.invitations.replace(sync, new)
    ctx.secrets.delete(sync_id)
    return view(new)


def delete(ctx: SyncContext, principal: Principal, sync_id: int) -> Synchronization:
    """``DELETE /synchronization/{synchronizationId}``: an accepted one becomes DELETED on both
    sides; its mappings and signing key go, so replication stops at once.

    Raises:
        ConflictError: not NOT_CONFIGURED or ACTIVE.
    """
    sync = _managed(ctx, principal, sync_id)
    status = next_status(sync.status, "delete")
    key = signing_secret(ctx, sync, "key")
    told = _notify(ctx, sync, "POST", f"/partner/v1/synchronization/{sync.partner_synchronization_id}/delete", key)
    new = bumped(sync, now_ms(), status=status, mappingCount=0, partnerNotified=told)
    ctx.invitations.replace(sync, new)
    ctx.invitations.delete_mappings(sync_id)
    ctx.secrets.delete(sync_id)
    logger.info("synchronization deleted", extra={"synchronizationId": sync_id, "partnerNotified": told})
    return view(new)


def remove_record(ctx: SyncContext, principal: Principal, sync_id: int) -> Synchronization:
    """``POST /synchronization/{synchronizationId}/remove-record``: drop a DELETED or REJECTED
    one from the list; returns it as it was.

    Raises:
        ConflictError: any other status.
    """
    sync = _managed(ctx, principal, sync_id)
    next_status(sync.status, "remove")
    ctx.invitations.delete(sync_id)
    ctx.secrets.delete(sync_id)
    return view(sync)


def add_mapping(ctx: SyncContext, principal: Principal, sync_id: int, request: MappingCreate) -> CalendarMapping:
    """``POST /synchronization/{synchronizationId}/mappings``: map one of our calendars to one of
    the partner's; the status becomes ACTIVE.

    Our calendar must be in our scope and its events editable by the token; the partner checks
    its calendar against its own scope (a refusal comes back as 400 on ``partnerCalendarId``).

    Raises:
        ConflictError: not accepted, or the same pair is mapped already. NotFoundError: our
        calendar is not visible to the token. ForbiddenError: the token may not edit its events.
        InvalidInputError: outside our scope, or refused by the partner. Partner errors (502/503).
    """
    sync = _managed(ctx, principal, sync_id)
    next_status(sync.status, "map")
    missing = NotFoundError(f"calendar {request.local_calendar_id} not found", {"localCalendarId": "not found"})
    calendar = require(principal, Action.CREATE_EVENT, _calendar(ctx, request.local_calendar_id), missing=missing)
    reach = partner_reach(sync)
    if not reach.scope.covers_calendar(calendar.id):
        raise InvalidInputError.for_field("localCalendarId", "is outside this synchronization's scope")
    if not reach.covers_calendar(calendar.id):
        raise ForbiddenError(f"calendar {calendar.id} is outside the calendars this synchronization may reach")
    outside = [t for t in request.event_types if not reach.covers_type(t)]
    if outside:
        raise InvalidInputError.for_field("eventTypes", f"outside this synchronization's scope: {', '.join(outside)}")
    for existing in ctx.invitations.mappings(sync_id):
        if (existing.local_calendar_id, existing.partner_calendar_id) == (calendar.id, request.partner_calendar_id):
            raise ConflictError("these two calendars are mapped already")
    mapping = CalendarMappingRecord(
        id=new_id(),
        synchronization_id=sync_id,
        local_calendar_id=calendar.id,
        partner_calendar_id=request.partner_calendar_id,
        event_types=tuple(request.event_types),
        direction=request.direction,
        created_by="LOCAL",
        created=now_ms(),
    )
    body = {
        "mappingId": mapping.id,
        "calendarId": request.partner_calendar_id,
        "partnerCalendarId": calendar.id,
        "eventTypes": request.event_types,
        "direction": MIRROR[request.direction],
    }
    route = f"/partner/v1/synchronization/{sync.partner_synchronization_id}/mappings"
    try:
        ctx.client.call(partner_url(ctx, sync), "POST", route, body, key=signing_secret(ctx, sync, "key"))
    except PartnerHttpError as e:
        if e.status in (400, 403, 404):
            raise InvalidInputError.for_field(
                "partnerCalendarId", f"the partner refused the mapping: {'; '.join(e.messages)}"
            ) from e
        if e.status == 409:
            raise ConflictError(f"the partner refused the mapping: {'; '.join(e.messages)}") from e
        raise
    _store_mapping(ctx, sync_id, mapping)
    return _mapping_view(mapping)


def _store_mapping(ctx: SyncContext, sync_id: int, mapping: CalendarMappingRecord) -> None:
    for _ in range(_RETRIES):
        sync = require_sync(ctx, sync_id)
        status = next_status(sync.status, "map")
        new = bumped(sync, now_ms(), status=status, mappingCount=int(sync.mapping_count or 0) + 1)
        try:
            ctx.invitations.add_mapping(sync, new, mapping)
            return
        except ConflictError:
            if ctx.invitations.mapping(sync_id, mapping.id) is not None:
                raise
    raise ConflictError(f"synchronization {sync_id} keeps changing; retry")


def _drop_mapping(ctx: SyncContext, sync_id: int, mapping_id: int) -> None:
    for _ in range(_RETRIES):
        sync = require_sync(ctx, sync_id)
        left = max(int(sync.mapping_count or 1) - 1, 0)
        status = next_status(sync.status, "unmap", mappings_left=left)
        try:
            ctx.invitations.remove_mapping(sync, bumped(sync, now_ms(), status=status, mappingCount=left), mapping_id)
            return
        except ConflictError:
            if ctx.invitations.mapping(sync_id, mapping_id) is None:
                return
    raise ConflictError(f"synchronization {sync_id} keeps changing; retry")


def list_mappings(ctx: SyncContext, principal: Principal, sync_id: int) -> list[CalendarMapping]:
    """``GET /synchronization/{synchronizationId}/mappings``, by id."""
    _managed(ctx, principal, sync_id)
    return [_mapping_view(m) for m in ctx.invitations.mappings(sync_id)]


def delete_mapping(ctx: SyncContext, principal: Principal, sync_id: int, mapping_id: int) -> CalendarMapping:
    """``DELETE /synchronization/{synchronizationId}/mappings/{mappingId}``: the partner is told
    (best effort); with no mapping left the status is NOT_CONFIGURED again. Returns the mapping.

    Raises:
        NotFoundError: no such mapping. ConflictError: not ACTIVE.
    """
    sync = _managed(ctx, principal, sync_id)
    mapping = ctx.invitations.mapping(sync_id, mapping_id)
    if mapping is None:
        raise NotFoundError(f"mapping {mapping_id} not found")
    next_status(sync.status, "unmap")
    route = f"/partner/v1/synchronization/{sync.partner_synchronization_id}/mappings/{mapping_id}"
    _notify(ctx, sync, "DELETE", route, signing_secret(ctx, sync, "key"))
    _drop_mapping(ctx, sync_id, mapping_id)
    return _mapping_view(mapping)


def partner_calendars(ctx: SyncContext, principal: Principal, sync_id: int) -> list[PartnerCalendar]:
    """``GET /synchronization/{synchronizationId}/partner-calendars``: the partner's calendars its
    scope shows us (to choose ``partnerCalendarId``).

    Raises:
        ConflictError: not accepted. Partner errors (502/503).
    """
    sync = _managed(ctx, principal, sync_id)
    if sync.status not in ACCEPTED:
        raise ConflictError(f"a synchronization in status {sync.status} has no partner calendars to show")
    route = f"/partner/v1/synchronization/{sync.partner_synchronization_id}/calendars"
    answer = ctx.client.call(partner_url(ctx, sync), "GET", route, key=signing_secret(ctx, sync, "key"))
    try:
        return CalendarsOut.model_validate(answer).values
    except ValidationError as e:
        raise PartnerProtocolError("the partner's calendar list is not a teamcal answer") from e


# ---------------------------------------------------------------------------- webhooks
def hello(ctx: SyncContext) -> Hello:
    """``GET /partner/v1/hello`` (unsigned): this deployment's id and protocol version."""
    return Hello.model_validate({"deploymentId": ctx.invitations.deployment_id()})


def _check_size(call: SignedCall) -> None:
    if len(call.body) > MAX_WEBHOOK_BYTES:
        raise PayloadTooLargeError(f"a partner call body may be at most {MAX_WEBHOOK_BYTES} bytes")


def authenticate(ctx: SyncContext, sync_id: int, call: SignedCall, stage: str) -> tuple[SynchronizationRecord, bytes]:
    """Check a signed call to synchronization ``sync_id`` (see the module docstring for the order);
    ``stage`` is the secret it must be signed with (``invitation`` before acceptance, else ``key``).
    Returns the synchronization and the secret.

    Raises:
        PayloadTooLargeError, NotFoundError, ConflictError, UnauthorizedError.
    """
    _check_size(call)
    sync = require_sync(ctx, sync_id)
    allowed = ("INVITATION_SENT",) if stage == "invitation" else tuple(ACCEPTED)
    if sync.status not in allowed:
        raise ConflictError(f"synchronization {sync_id} is {sync.status}")
    signed = read_headers(call.headers, int(ctx.clock()))
    secret = signing_secret(ctx, sync, stage)
    verify(secret, call.method, call.path, call.body, signed)
    if not ctx.invitations.remember_nonce(str(sync_id), signed.nonce):
        raise UnauthorizedError("this request was seen before (replayed nonce)")
    return sync, secret


def receive_invitation(ctx: SyncContext, call: SignedCall) -> InvitationOut:
    """``POST /partner/v1/invitations``: store an INVITATION_RECEIVED synchronization.

    The call is signed with the one-time secret it carries (proof the body was not altered, and a
    nonce against replays); the inviter's URL must pass our URL rules (it will be called back).

    Raises:
        PayloadTooLargeError, InvalidInputError (malformed, refused URL, an invitation from this
        deployment to itself), UnauthorizedError (signature, timestamp, replay).
    """
    _check_size(call)
    invitation = parse_body(InvitationIn, call.body)
    secret = decode_secret(invitation.secret, "secret")
    signed = read_headers(call.headers, int(ctx.clock()))
    verify(secret, call.method, call.path, call.body, signed)
    if not ctx.invitations.remember_nonce("invite", signed.nonce):
        raise UnauthorizedError("this request was seen before (replayed nonce)")
    me = ctx.invitations.deployment_id()
    if invitation.deployment_id == me:
        raise InvalidInputError.for_field("deploymentId", "an invitation from this deployment to itself")
    try:
        url = parse_partner_url(invitation.url, ctx.allow_loopback)
    except PartnerAddressError as e:
        raise InvalidInputError.for_field("url", e.errors.get("partnerUrl", e.message)) from e
    sync_id, now = new_id(), now_ms()
    pending = sum(1 for s in ctx.invitations.list_all() if s.status == "INVITATION_RECEIVED" and _visible(s, now))
    if pending >= MAX_PENDING_RECEIVED:
        raise TooManyRequestsError(
            f"this deployment holds {MAX_PENDING_RECEIVED} invitations not yet answered; try again later"
        )
    record = {
        "id": sync_id,
        "name": invitation.name,
        "status": "INVITATION_RECEIVED",
        "role": "INVITEE",
        "partnerUrl": url.base,
        "partnerSynchronizationId": invitation.synchronization_id,
        "partnerDeploymentId": invitation.deployment_id,
        "mappingCount": 0,
        "partnerNotified": True,
        "keyVersion": 1,
        "version": 1,
        "created": now,
        "updated": now,
    }
    # no Secrets Manager secret until accepted: the one-time secret is sealed (KMS, encryption
    # context = this synchronization id) into the record, which expires (TTL) with everything
    # the invitation created
    record["sealedSecret"] = ctx.require_sealer().seal(secret, sync_id)
    ctx.invitations.create(SynchronizationRecord.from_item(record))
    logger.info("invitation received", extra={"synchronizationId": sync_id, "partnerUrl": url.base})
    return InvitationOut.model_validate({"synchronizationId": sync_id, "deploymentId": me})


def partner_accepted(ctx: SyncContext, sync_id: int, call: SignedCall) -> Synchronization:
    """``POST /partner/v1/synchronization/{id}/accept`` on the inviter: derive the key, NOT_CONFIGURED."""
    sync, secret = authenticate(ctx, sync_id, call, "invitation")
    body = parse_body(AcceptIn, call.body)
    known = sync.partner_synchronization_id
    if known is not None and int(known) != body.partner_synchronization_id:
        raise InvalidInputError.for_field("partnerSynchronizationId", "is not the id the invitation was answered with")
    salt = decode_secret(body.salt, "salt")
    ctx.secrets.put(
        sync_id, "key", derive_key(secret, salt, inviter_id=sync_id, invitee_id=body.partner_synchronization_id)
    )
    new = bumped(
        sync,
        now_ms(),
        status=next_status(sync.status, "accepted"),
        partnerSynchronizationId=body.partner_synchronization_id,
        keyVersion=int(sync.key_version or 1) + 1,
    )
    ctx.invitations.replace(sync, new)
    return view(new)


def partner_rejected(ctx: SyncContext, sync_id: int, call: SignedCall) -> Synchronization:
    """``POST /partner/v1/synchronization/{id}/reject`` on the inviter: REJECTED."""
    sync, _ = authenticate(ctx, sync_id, call, "invitation")
    notice = parse_body(NoticeIn, call.body)
    new = bumped(sync, now_ms(), status=next_status(sync.status, "rejected"))
    ctx.invitations.replace(sync, new)
    ctx.secrets.delete(sync_id)
    logger.info("invitation rejected by the partner", extra={"synchronizationId": sync_id, "reason": notice.reason})
    return view(new)


def partner_deleted(ctx: SyncContext, sync_id: int, call: SignedCall) -> Synchronization:
    """``POST /partner/v1/synchronization/{id}/delete``: DELETED; mappings and key go."""
    sync, _ = authenticate(ctx, sync_id, call, "key")
    parse_body(NoticeIn, call.body)
    new = bumped(sync, now_ms(), status=next_status(sync.status, "delete"), mappingCount=0)
    ctx.invitations.replace(sync, new)
    ctx.invitations.delete_mappings(sync_id)
    ctx.secrets.delete(sync_id)
    logger.info("synchronization deleted by the partner", extra={"synchronizationId": sync_id})
    return view(new)


def partner_mapping_added(ctx: SyncContext, sync_id: int, call: SignedCall) -> CalendarMapping:
    """``POST /partner/v1/synchronization/{id}/mappings``: the partner mapped one of its calendars
    to ``calendarId`` of ours, which must exist and be in OUR scope (as must ``eventTypes``).

    Raises:
        NotFoundError: no such calendar in our scope (existence outside it is not revealed).
        InvalidInputError: event types outside our scope. ConflictError: mapped already.
    """
    sync, _ = authenticate(ctx, sync_id, call, "key")
    body = parse_body(MappingIn, call.body)
    reach = partner_reach(sync)
    calendar = _calendar(ctx, body.calendar_id)
    if calendar is None or not reach.scope.covers_calendar(calendar.id):
        raise NotFoundError(f"calendar {body.calendar_id} is not in this synchronization's scope")
    if not reach.covers_calendar(calendar.id):
        raise ForbiddenError(f"calendar {calendar.id} is outside the calendars this synchronization may reach")
    outside = [t for t in body.event_types if not reach.covers_type(t)]
    if outside:
        raise InvalidInputError.for_field("eventTypes", f"outside this synchronization's scope: {', '.join(outside)}")
    for existing in ctx.invitations.mappings(sync_id):
        if existing.id == body.mapping_id or (
            (existing.local_calendar_id, existing.partner_calendar_id) == (calendar.id, body.partner_calendar_id)
        ):
            raise ConflictError("these two calendars are mapped already")
    mapping = CalendarMappingRecord(
        id=body.mapping_id,
        synchronization_id=sync_id,
        local_calendar_id=calendar.id,
        partner_calendar_id=body.partner_calendar_id,
        event_types=tuple(body.event_types),
        direction=body.direction,
        created_by="PARTNER",
        created=now_ms(),
    )
    _store_mapping(ctx, sync_id, mapping)
    return _mapping_view(mapping)


def partner_mapping_removed(ctx: SyncContext, sync_id: int, mapping_id: int, call: SignedCall) -> CalendarMapping:
    """``DELETE /partner/v1/synchronization/{id}/mappings/{mappingId}``. Raises NotFoundError."""
    authenticate(ctx, sync_id, call, "key")
    mapping = ctx.invitations.mapping(sync_id, mapping_id)
    if mapping is None:
        raise NotFoundError(f"mapping {mapping_id} not found")
    _drop_mapping(ctx, sync_id, mapping_id)
    return _mapping_view(mapping)


def _calendar_name(value: str) -> str:
    try:
        name = json.loads(value).get("name")
    except (ValueError, AttributeError):
        return ""
    return str(name)[:500] if name else ""


def calendars_for_partner(ctx: SyncContext, sync_id: int, call: SignedCall) -> CalendarsOut:
    """``GET /partner/v1/synchronization/{id}/calendars``: our calendars and event types that our
    scope shows the partner (at most 1,000 calendars)."""
    sync, _ = authenticate(ctx, sync_id, call, "key")
    reach = partner_reach(sync)
    calendars = [c for c in ctx.config.calendars.list_active() if reach.covers_calendar(c.id)][:1000]
    source_ids = [s for c in calendars for s in c.source_ids]
    types: dict[int, set[str]] = {}
    for source in ctx.config.sources.get_many(source_ids):
        if source.active and reach.covers_type(source.event_type_key):
            types.setdefault(source.calendar_id, set()).add(source.event_type_key)
    values = [
        PartnerCalendar.model_validate(
            {
                "id": c.id,
                "name": _calendar_name(c.value),
                "eventTypes": sorted(types.get(c.id, ())),
            }
        )
        for c in calendars
    ]
    return CalendarsOut.model_validate({"values": values})


def receive_change(ctx: SyncContext, sync_id: int, call: SignedCall) -> ChangeResult:
    """``POST /partner/v1/synchronization/{id}/events``: apply one event change
    (:func:`teamcal.services.replication.receiver.apply_change`)."""
    sync, _ = authenticate(ctx, sync_id, call, "key")
    change = parse_body(EventChange, call.body)
    return receiver.apply_change(ctx, sync, change)
