"""Integer ids: fresh ones and the stable ids of mirrored outside objects."""

from __future__ import annotations

import pytest

from teamcal.ids import MAX_ID, external_id, new_id

pytestmark = pytest.mark.unit


def test_new_ids_are_positive_distinct_and_below_2_53() -> None:
    ids = {new_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(0 < i <= MAX_ID for i in ids)


def test_external_ids_are_stable_and_separate_namespaces() -> None:
    a = external_id(1959, "ics", "uid-1@example.com")
    assert a == external_id(1959, "ics", "uid-1@example.com")
    assert 0 < a <= MAX_ID
    assert a != external_id(1960, "ics", "uid-1@example.com")
    assert a != external_id(1959, "google:primary", "uid-1@example.com")
    assert a != external_id(1959, "ics", "uid-1@example.com#20260302")
