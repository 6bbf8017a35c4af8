"""Origin: every stored form of an event's ``origin`` reads as one type, and writes back as it was."""

from __future__ import annotations

from typing import Any

import pytest

from teamcal.models.origin import Origin, OriginKind

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("stored", "kind"),
    [
        (None, OriginKind.LOCAL),
        ("google", OriginKind.GOOGLE),
        ("jira", OriginKind.JIRA),
        ({"synchronizationId": 7, "eventId": 11}, OriginKind.PARTNER),
        ({"synchronizationId": "x"}, OriginKind.OTHER),
        ("somewhere", OriginKind.OTHER),
    ],
)
def test_every_stored_origin_reads_as_one_type(stored: Any, kind: OriginKind) -> None:
    record = {} if stored is None else {"origin": stored}
    origin = Origin.of(record)
    assert origin.kind is kind
    if kind is not OriginKind.OTHER:
        assert origin.stored() == stored


def test_a_partner_replica_knows_the_synchronization_it_came_through() -> None:
    origin = Origin.of({"origin": {"synchronizationId": 7, "eventId": 11}})
    assert origin == Origin.partner(7, 11)
    assert origin.came_through(7)
    assert not origin.came_through(8)
    assert not Origin.of({"origin": "google"}).came_through(7)
