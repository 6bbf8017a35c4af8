"""Token use cases: create (plaintext shown once), list, revoke, authenticate.

CCJ reference, "REST API": an admin generates tokens tied to specific calendars or to all
calendars; the token decides whether calendars and sources may be edited and deleted.

:mod:`teamcal.access` (with the calendar and partner models it reads) is imported inside the
functions that manage tokens: the authorizer, which only runs :func:`authenticate` on every
uncached request, never loads it (cold start); nor does it load the pydantic wire models of
:mod:`teamcal.models.tokens`, imported inside the functions that answer the admin API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from teamcal.auth.principal import Principal
from teamcal.auth.tokens import generate_token, hash_token, token_hint
from teamcal.errors import ConflictError, InvalidInputError, NotFoundError, UnauthorizedError
from teamcal.ids import new_id, now_ms
from teamcal.models.token_record import TokenRecord
from teamcal.storage.authorizer_cache import AuthorizerCache
from teamcal.storage.tokens import TokenRepository

if TYPE_CHECKING:
    from teamcal.models.tokens import CreatedToken, Token, TokenCreate

_FIELDS = {
    "name",
    "user",
    "allCalendars",
    "calendarIds",
    "groups",
    "editCalendars",
    "deleteCalendars",
    "editSources",
    "deleteSources",
    "admin",
    "hint",
    "created",
    "createdBy",
    "id",
}


def create_token(
    repo: TokenRepository, request: TokenCreate, created_by: int | None, plaintext: str | None = None
) -> CreatedToken:
    """Create a token and return it with its plaintext (the only time it is ever returned).

    ``plaintext`` fixes the secret (the bootstrap command's ``ADMIN_TOKEN``); by default a fresh
    256-bit token is generated. On a retry a new token is created: POST is not idempotent unless
    the caller sends an Idempotency-Key.

    Raises:
        InvalidInputError: ``plaintext`` is given but shorter than 20 characters.
        ConflictError: ``plaintext`` is already in use.
    """
    from teamcal.models.tokens import CreatedToken  # lazily: the authorizer never loads pydantic

    if plaintext is not None and len(plaintext) < 20:
        raise InvalidInputError.for_field("token", "a fixed token must be at least 20 characters")
    secret = plaintext or generate_token()
    for _ in range(3):
        record = TokenRecord(
            id=new_id(),
            name=request.name,
            user=request.user,
            all_calendars=request.all_calendars,
            calendar_ids=tuple(request.calendar_ids),
            groups=tuple(request.groups),
            edit_calendars=request.edit_calendars,
            delete_calendars=request.delete_calendars,
            edit_sources=request.edit_sources,
            delete_sources=request.delete_sources,
            admin=request.admin,
            hint=token_hint(secret),
            created=now_ms(),
            created_by=created_by,
            token_hash=hash_token(secret),
        )
        try:
            repo.put(record)
            break
        except ConflictError:
            if plaintext is not None:
                raise
            secret = generate_token()
    return CreatedToken.model_validate({**_shown(record), "token": secret})


def create_token_as(caller: Principal, repo: TokenRepository, request: TokenCreate) -> CreatedToken:
    """``POST /token``: :func:`create_token` for ``caller``, within its reach
    (:func:`teamcal.access.require_token_grant`).

    Raises:
        ForbiddenError: not an admin token, or the new token would reach further than ``caller``.
    """
    from teamcal.access import require_token_grant  # lazily: the authorizer never loads it

    require_token_grant(caller, request)
    return create_token(repo, request, created_by=caller.token_id)


def list_tokens(repo: TokenRepository, caller: Principal | None = None) -> list[Token]:
    """Tokens in creation order, without plaintext or hash: all of them for an all-calendars admin
    (or ``caller=None``: the deployment's own bootstrap command), else those ``caller`` created.

    Raises:
        ForbiddenError: ``caller`` is not an admin token.
    """
    from teamcal.access import manages_token, require_admin  # lazily: the authorizer never loads it

    if caller is not None:
        require_admin(caller)
    from teamcal.models.tokens import Token

    return [Token.model_validate(_shown(r)) for r in repo.list() if caller is None or manages_token(caller, r)]


def revoke_token(
    repo: TokenRepository, token_id: int, caller: Principal, cache: AuthorizerCache | None = None
) -> Token:
    """Delete a token ``caller`` manages (:func:`teamcal.access.manages_token`) and flush the
    stage's authorizer ``cache``, so requests carrying it get 401 from the next one on (without a
    cache, or when the flush fails: once the cached result expires).

    Raises:
        ForbiddenError: ``caller`` is not an admin token.
        NotFoundError: no token has this id, or ``caller`` does not manage it (existence is not
            revealed).
    """
    from teamcal.access import manages_token, require_admin  # lazily: the authorizer never loads it

    require_admin(caller)
    found = next((r for r in repo.list() if r.id == token_id), None)
    from teamcal.models.tokens import Token

    if found is None or not manages_token(caller, found):
        raise NotFoundError(f"token {token_id} not found")
    revoked = Token.model_validate(_shown(repo.delete(token_id)))
    if cache is not None:
        cache.flush()
    return revoked


def authenticate(repo: TokenRepository, token: str) -> Principal:
    """The principal a token plaintext grants.

    Raises:
        UnauthorizedError: the token is unknown or revoked.
    """
    record = repo.get_by_hash(hash_token(token))
    if record is None:
        raise UnauthorizedError("unknown or revoked token")
    return record.principal()


def _shown(record: TokenRecord) -> dict[str, object]:
    """The API's fields of a stored token (never its hash)."""
    return {k: v for k, v in record.item().items() if k in _FIELDS}
