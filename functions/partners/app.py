"""Synchronizations between deployments (issue 7): our API and the partner webhooks.

Our API (TOKEN authorizer; admin or calendar-edit tokens), answers in Jira's shapes:

* ``POST /synchronization`` ``{name, partnerUrl, scope}`` → 201, status INVITATION_SENT
* ``GET /synchronization`` (Jira's envelope, ``startAt``/``maxResults``),
  ``GET`` / ``PUT`` / ``DELETE /synchronization/{synchronizationId}``
* ``POST /synchronization/{synchronizationId}/accept`` ``{scope}`` | ``/reject`` | ``/remove-record``
* ``POST`` / ``GET /synchronization/{synchronizationId}/mappings``,
  ``DELETE /synchronization/{synchronizationId}/mappings/{mappingId}``
* ``GET /synchronization/{synchronizationId}/partner-calendars``

Partner webhooks (no authorizer: ``Auth: Authorizer: NONE``; every call but hello is signed):
``GET /partner/v1/hello``, ``POST /partner/v1/invitations``, and under
``/partner/v1/synchronization/{synchronizationId}``: ``POST accept``, ``POST reject``,
``POST delete``, ``POST mappings``, ``DELETE mappings/{mappingId}``, ``GET calendars``,
``POST events``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from teamcal import api, aws
from teamcal.lazy import lazy_import
from teamcal.observability import logger, metrics, tracer
from teamcal.paths import path_id
from teamcal.settings import get_partner_settings, get_settings

if TYPE_CHECKING:  # the same modules, loaded on first use (cold start: teamcal.lazy)
    from aws_lambda_powertools.event_handler.openapi import params

    from teamcal.models import common
    from teamcal.partners import protocol, urls
    from teamcal.services import partners as service
    from teamcal.services import sync_context
else:
    params = lazy_import("aws_lambda_powertools.event_handler.openapi.params")
    common = lazy_import("teamcal.models.common")
    protocol = lazy_import("teamcal.partners.protocol")
    urls = lazy_import("teamcal.partners.urls")
    service = lazy_import("teamcal.services.partners")
    sync_context = lazy_import("teamcal.services.sync_context")

settings = get_settings()
partner_settings = get_partner_settings()
partner_settings.require_sealing_key_id()  # fail fast: received invitations are sealed with it
app = api.make_resolver()


@lru_cache(maxsize=1)
def context() -> sync_context.SyncContext:
    return sync_context.connect_from_settings(
        aws.client("dynamodb"), aws.client("secretsmanager"), settings, partner_settings, aws.client("kms")
    )


def _header(name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in (app.current_event.headers or {}).items() if k.lower() == wanted), None)


def _own_url() -> str | None:
    event = app.current_event
    return urls.own_base_url(_header("Host"), _header("X-Forwarded-Proto"), event.path, event.request_context.stage)


def _signed_call() -> sync_context.SignedCall:
    event = app.current_event
    at = event.path.find(api.BASE_PATH)
    route = event.path[at + len(api.BASE_PATH) :] if at >= 0 else event.path
    body = (event.decoded_body or "").encode("utf-8")
    return sync_context.SignedCall(event.http_method, route, dict(event.headers or {}), body)


# ---------------------------------------------------------------------------- our API
@app.post(
    "/synchronization",
    responses={
        201: {
            "description": "invited; status INVITATION_SENT",
            "content": {"application/json": {"model": "protocol.Synchronization"}},
        }
    },
)
def create_synchronization(body: protocol.SynchronizationCreate) -> tuple[dict[str, Any], int]:
    created = service.invite(context(), api.principal(app), body, _own_url())
    metrics.add_metric(name="SynchronizationInvited", unit="Count", value=1)
    return created.model_dump(by_alias=True), 201


@app.get("/synchronization")
def list_synchronizations(
    start_at: Annotated[int, params.Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int | None, params.Query(alias="maxResults", ge=1, le=1000)] = None,
) -> common.Page[protocol.Synchronization]:
    return common.Page[protocol.Synchronization].of(
        service.list_synchronizations(context(), api.principal(app)), start_at, max_results
    )


@app.get("/synchronization/<synchronizationId>")
def get_synchronization(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.Synchronization:
    return service.get_synchronization(context(), api.principal(app), path_id(sync_id, "synchronization"))


@app.put("/synchronization/<synchronizationId>")
def update_synchronization(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")], body: protocol.SynchronizationUpdate
) -> protocol.Synchronization:
    return service.update(context(), api.principal(app), path_id(sync_id, "synchronization"), body)


@app.delete("/synchronization/<synchronizationId>")
def delete_synchronization(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.Synchronization:
    return service.delete(context(), api.principal(app), path_id(sync_id, "synchronization"))


@app.post("/synchronization/<synchronizationId>/accept")
def accept(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")], body: protocol.AcceptRequest
) -> protocol.Synchronization:
    return service.accept(context(), api.principal(app), path_id(sync_id, "synchronization"), body)


@app.post("/synchronization/<synchronizationId>/reject")
def reject(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.Synchronization:
    return service.reject(context(), api.principal(app), path_id(sync_id, "synchronization"))


@app.post("/synchronization/<synchronizationId>/remove-record")
def remove_record(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.Synchronization:
    return service.remove_record(context(), api.principal(app), path_id(sync_id, "synchronization"))


@app.post(
    "/synchronization/<synchronizationId>/mappings",
    responses={201: {"description": "mapped", "content": {"application/json": {"model": "protocol.CalendarMapping"}}}},
)
def add_mapping(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")], body: protocol.MappingCreate
) -> tuple[dict[str, Any], int]:
    mapping = service.add_mapping(context(), api.principal(app), path_id(sync_id, "synchronization"), body)
    return mapping.model_dump(by_alias=True), 201


@app.get("/synchronization/<synchronizationId>/mappings")
def list_mappings(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")],
    start_at: Annotated[int, params.Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int | None, params.Query(alias="maxResults", ge=1, le=1000)] = None,
) -> common.Page[protocol.CalendarMapping]:
    found = service.list_mappings(context(), api.principal(app), path_id(sync_id, "synchronization"))
    return common.Page[protocol.CalendarMapping].of(found, start_at, max_results)


@app.delete("/synchronization/<synchronizationId>/mappings/<mappingId>")
def delete_mapping(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")],
    mapping_id: Annotated[str, params.Path(alias="mappingId")],
) -> protocol.CalendarMapping:
    return service.delete_mapping(
        context(), api.principal(app), path_id(sync_id, "synchronization"), path_id(mapping_id, "mapping")
    )


@app.get("/synchronization/<synchronizationId>/partner-calendars")
def partner_calendars(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")],
    start_at: Annotated[int, params.Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int | None, params.Query(alias="maxResults", ge=1, le=1000)] = None,
) -> common.Page[protocol.PartnerCalendar]:
    found = service.partner_calendars(context(), api.principal(app), path_id(sync_id, "synchronization"))
    return common.Page[protocol.PartnerCalendar].of(found, start_at, max_results)


# ---------------------------------------------------------------------------- partner webhooks
@app.get("/partner/v1/hello")
def hello() -> protocol.Hello:
    return service.hello(context())


@app.post(
    "/partner/v1/invitations",
    responses={
        201: {"description": "invitation stored", "content": {"application/json": {"model": "protocol.InvitationOut"}}}
    },
)
def receive_invitation() -> tuple[dict[str, Any], int]:
    answer: protocol.InvitationOut = service.receive_invitation(context(), _signed_call())
    return answer.model_dump(by_alias=True), 201


@app.post("/partner/v1/synchronization/<synchronizationId>/accept")
def partner_accepted(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.Synchronization:
    return service.partner_accepted(context(), path_id(sync_id, "synchronization"), _signed_call())


@app.post("/partner/v1/synchronization/<synchronizationId>/reject")
def partner_rejected(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.Synchronization:
    return service.partner_rejected(context(), path_id(sync_id, "synchronization"), _signed_call())


@app.post("/partner/v1/synchronization/<synchronizationId>/delete")
def partner_deleted(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.Synchronization:
    return service.partner_deleted(context(), path_id(sync_id, "synchronization"), _signed_call())


@app.post(
    "/partner/v1/synchronization/<synchronizationId>/mappings",
    responses={201: {"description": "mapped", "content": {"application/json": {"model": "protocol.CalendarMapping"}}}},
)
def partner_mapping_added(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")],
) -> tuple[dict[str, Any], int]:
    mapping = service.partner_mapping_added(context(), path_id(sync_id, "synchronization"), _signed_call())
    return mapping.model_dump(by_alias=True), 201


@app.delete("/partner/v1/synchronization/<synchronizationId>/mappings/<mappingId>")
def partner_mapping_removed(
    sync_id: Annotated[str, params.Path(alias="synchronizationId")],
    mapping_id: Annotated[str, params.Path(alias="mappingId")],
) -> protocol.CalendarMapping:
    return service.partner_mapping_removed(
        context(), path_id(sync_id, "synchronization"), path_id(mapping_id, "mapping"), _signed_call()
    )


@app.get("/partner/v1/synchronization/<synchronizationId>/calendars")
def calendars_for_partner(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.CalendarsOut:
    return service.calendars_for_partner(context(), path_id(sync_id, "synchronization"), _signed_call())


@app.post("/partner/v1/synchronization/<synchronizationId>/events")
def receive_change(sync_id: Annotated[str, params.Path(alias="synchronizationId")]) -> protocol.ChangeResult:
    result = service.receive_change(context(), path_id(sync_id, "synchronization"), _signed_call())
    metrics.add_metric(name="SyncChangeReceived", unit="Count", value=1)
    return result


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)  # secrets stay out of traces
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(app, event, context)
