"""Conditional GETs of feeds and exports (teamcal.conditional, RFC 9110 §13)."""

from __future__ import annotations

import pytest

from teamcal.conditional import Validators, http_date, not_modified, parse_http_date

V = Validators('"abc"', 784_111_777_000)  # Sun, 06 Nov 1994 08:49:37 GMT


def test_http_dates_round_trip_in_all_three_formats() -> None:
    assert http_date(784_111_777_999) == "Sun, 06 Nov 1994 08:49:37 GMT"
    for text in ("Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"):
        assert parse_http_date(text) == 784_111_777_000
    assert parse_http_date("yesterday") is None
    assert parse_http_date(None) is None


@pytest.mark.parametrize(
    ("inm", "ims", "expected"),
    [
        ('"abc"', None, True),
        ('W/"abc"', None, True),
        ('"x", "abc"', None, True),
        ("*", None, True),
        ('"x"', None, False),
        ('"x"', "Sun, 06 Nov 1994 08:49:37 GMT", False),  # If-None-Match decides when present
        (None, "Sun, 06 Nov 1994 08:49:37 GMT", True),
        (None, "Sun, 06 Nov 1994 08:49:38 GMT", True),
        (None, "Sun, 06 Nov 1994 08:49:36 GMT", False),
        (None, "not a date", False),
        (None, None, False),
    ],
)
def test_not_modified_follows_rfc_9110(inm: str | None, ims: str | None, expected: bool) -> None:
    assert not_modified(inm, ims, V) is expected
