"""The synchronization status machine (exactly the reference's transitions), scopes, and the
replication retry backoff: pure rules, no I/O."""

from __future__ import annotations

import itertools

import pytest

from teamcal.errors import ConflictError
from teamcal.partners.protocol import Scope
from teamcal.services.replication.sender import MAX_BACKOFF_SECONDS, backoff_seconds
from teamcal.services.sync_context import next_status

pytestmark = pytest.mark.unit

STATUSES = ["INVITATION_SENT", "INVITATION_RECEIVED", "REJECTED", "ACTIVE", "NOT_CONFIGURED", "DELETED"]
ACTIONS = ["accept", "accepted", "reject", "rejected", "map", "unmap", "delete", "remove"]
ALLOWED = {
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


@pytest.mark.parametrize(("status", "action"), list(itertools.product(STATUSES, ACTIONS)))
def test_only_the_references_transitions_exist(status: str, action: str) -> None:
    if (status, action) in ALLOWED:
        assert next_status(status, action, mappings_left=1) == ALLOWED[(status, action)]
    else:
        with pytest.raises(ConflictError, match=f"in status {status} cannot be"):
            next_status(status, action)


def test_removing_the_last_mapping_makes_it_not_configured_again() -> None:
    assert next_status("ACTIVE", "unmap", mappings_left=0) == "NOT_CONFIGURED"


@pytest.mark.parametrize(
    ("scope", "visible"),
    [
        ({"mode": "SHOW_ALL"}, {(1, "meeting"), (2, "meeting"), (1, "vacation"), (2, "vacation")}),
        ({"mode": "HIDE_SELECTED", "calendarIds": [2], "eventTypes": ["vacation"]}, {(1, "meeting")}),
        ({"mode": "SHOW_SELECTED", "calendarIds": [2], "eventTypes": ["vacation"]}, {(2, "vacation")}),
        ({"mode": "SHOW_SELECTED", "calendarIds": [2]}, {(2, "meeting"), (2, "vacation")}),
        ({"mode": "SHOW_SELECTED", "eventTypes": ["meeting"]}, {(1, "meeting"), (2, "meeting")}),
    ],
)
def test_scopes_show_what_their_mode_says(scope: dict[str, object], visible: set[tuple[int, str]]) -> None:
    parsed = Scope.model_validate(scope)
    assert {(c, t) for c in (1, 2) for t in ("meeting", "vacation") if parsed.covers(c, t)} == visible


@pytest.mark.parametrize(
    "scope",
    [
        {"mode": "SHOW_ALL", "calendarIds": [1]},
        {"mode": "SHOW_SELECTED"},
        {"mode": "SHOW_SOME"},
        {"mode": "SHOW_ALL", "x": 1},
    ],
)
def test_inconsistent_scopes_are_refused(scope: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="validation error"):
        Scope.model_validate(scope)


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_seconds(n, 5) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff_seconds(50, 5) == MAX_BACKOFF_SECONDS
    # an hour of a partner being down costs about a dozen attempts, far below maxReceiveCount (100)
    waited, attempts = 0, 0
    while waited < 3600:
        attempts += 1
        waited += backoff_seconds(attempts, 5)
    assert attempts < 15
