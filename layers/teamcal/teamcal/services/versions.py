"""Optimistic locking for PUT: which ``version`` a write is conditioned on.

Every calendar, source and custom event type carries an integer ``version`` (1 on create, +1 on
each write). A PUT may name the version it was based on, in the body (``"version": 3``) or in an
``If-Match`` header (``3``, ``"3"`` or ``W/"3"``; ``*`` means any); CCJ clients that know neither
send nothing. Either way the write is conditioned on the version the service read, so of two PUTs
racing from the same version exactly one wins and the other gets 409 (never a silent lost update).
"""

from __future__ import annotations

from teamcal.errors import ConflictError, InvalidInputError


def parse_if_match(header: str | None) -> int | None:
    """The version an ``If-Match`` header names; ``None`` for no header or ``*``.

    Raises:
        InvalidInputError: the header is not a (possibly quoted or weak) integer version.
    """
    if header is None or not header.strip() or header.strip() == "*":
        return None
    text = header.strip().removeprefix("W/")
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    if not text.isdigit() or len(text) > 15:
        raise InvalidInputError.for_field("If-Match", 'must carry the version number, e.g. If-Match: "3"')
    return int(text)


def expected_version(stored: int, sent: int | None, if_match: str | None, what: str) -> int:
    """The version to condition the write on: always ``stored`` (the version read), after
    checking that what the client named, if anything, is that version.

    Raises:
        InvalidInputError: body ``version`` and ``If-Match`` disagree, or If-Match is malformed.
        ConflictError: the client's version is not the stored one (someone wrote in between).
    """
    header = parse_if_match(if_match)
    if sent is not None and header is not None and sent != header:
        raise InvalidInputError.for_field("version", f"version {sent} differs from If-Match {header}")
    wanted = sent if sent is not None else header
    if wanted is not None and wanted != stored:
        raise ConflictError(
            f"{what} is at version {stored}, not {wanted}: it was changed by another request; reload it"
        )
    return stored
