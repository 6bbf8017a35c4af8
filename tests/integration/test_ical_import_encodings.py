"""POST /calendar/{id}/import with a file that is not UTF-8, as API Gateway delivers it: a
``text/calendar`` body is a binary media type, so it arrives base64-encoded, byte for byte.
The importer reads Windows-1252 (old Outlook exports) and UTF-16 with a BOM
(:func:`teamcal.ical.reader.decode`): the API must hand it those bytes, not refuse them as a
non-UTF-8 JSON body. Found by importing libical's test calendars (some are not UTF-8)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.ccj import assert_jira_error
from tests.integration.ical import ical, moto_resources, search, zoned_calendar

pytestmark = pytest.mark.integration

OUTLOOK = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 11.0 MIMEDIR//EN\r\n"
    "BEGIN:VEVENT\r\nUID:cafe@outlook\r\nDTSTAMP:20260301T000000Z\r\n"
    "DTSTART:20260305T100000Z\r\nDTEND:20260305T110000Z\r\nSUMMARY:Caf\u00e9 r\u00e9union\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """One moto for the module (each test creates its own calendar)."""
    with moto_resources():
        yield


@pytest.mark.parametrize(
    ("encoding", "warning"),
    [("cp1252", "Windows-1252"), ("utf-16", "UTF-16")],
    ids=["windows-1252", "utf-16-bom"],
)
def test_a_calendar_that_is_not_utf8_is_imported_with_a_warning(
    aws: None, lambda_context: Any, encoding: str, warning: str
) -> None:
    # Given an Outlook export with accents, in Windows-1252 or UTF-16 (with its BOM)
    cal = zoned_calendar(lambda_context)
    data = OUTLOOK.encode(encoding)
    # When it arrives base64-encoded as text/calendar (API Gateway's binary media type)
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/import", lambda_context, base64_body=data)
    # Then it is imported, saying how it was read
    assert status == 202, body
    assert body["created"] == 1, body
    assert any(warning in w for w in body["warnings"]), body["warnings"]
    # and the text is the one the user wrote
    found = search(lambda_context, cal["id"], "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z")
    assert [v["summary"] for v in found] == ["Caf\u00e9 r\u00e9union"]


def test_binary_garbage_that_is_not_utf8_says_what_the_file_is(aws: None, lambda_context: Any) -> None:
    # Given a fuzzed file with control bytes that is not UTF-8 either (libical's crash.ics)
    cal = zoned_calendar(lambda_context)
    data = b"BEGIN:VCALENDAR\nX-LIC-NOTE: Over Slot 1\\, \xc9\xc9\xc91P#J\x0c\xff\x0c\x12\x0c\nEND:VCALENDAR\n"
    # When it is imported
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/import", lambda_context, base64_body=data)
    # Then it is refused by the importer, naming the file's problem
    assert status == 400, body
    assert_jira_error(body, "file")
    assert "binary data" in body["errors"]["file"]


def test_a_json_route_still_refuses_a_body_that_is_not_utf8(aws: None, lambda_context: Any) -> None:
    # Given a JSON route of the same function (POST /calendar/{id}/feed)
    cal = zoned_calendar(lambda_context)
    # When its body arrives base64-encoded and is not UTF-8
    status, body, _ = ical("POST", f"/calendar/{cal['id']}/feed", lambda_context, base64_body=b'{"name": "caf\xe9"}')
    # Then it is refused as before (400, Jira's body)
    assert status == 400, body
    assert_jira_error(body)
