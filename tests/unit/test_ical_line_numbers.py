"""Line numbers in the reader's messages are the file's lines as an editor shows them: folded
content lines (RFC 5545 §3.1) and blank lines before the calendar count. Before, they counted
unfolded lines, so every fold above a problem moved the number (libical's smallcluster.ics:
"Line 12" named a matched END:VCALENDAR; the stray one is on line 13)."""

from __future__ import annotations

import pytest

from teamcal.ical import reader
from teamcal.ical.errors import IcsFileError

FOLDED = (
    "BEGIN:VCALENDAR\r\n"  # 1
    "VERSION:2.0\r\n"  # 2
    "BEGIN:VEVENT\r\n"  # 3
    "UID:a\r\n"  # 4
    "DTSTART\r\n"  # 5
    " :19970714T170000Z\r\n"  # 6 (folded)
    "DESCRIPTION:a long text that an exporter folds over\r\n"  # 7
    " several lines as RFC 5545 says\r\n"  # 8 (folded)
    "\tand once more\r\n"  # 9 (folded)
    "END:VEVENT\r\n"  # 10
)


def test_a_stray_end_is_named_by_its_line_in_the_file() -> None:
    # Given a calendar with folded lines before a stray END:VCALENDAR (line 12)
    text = FOLDED + "END:VCALENDAR\r\nEND:VCALENDAR\r\n"
    # When it is read
    with pytest.raises(IcsFileError) as refused:
        reader.read(text)
    # Then the message names line 12, as an editor counts
    assert str(refused.value).startswith("Line 12: END:VCALENDAR without a matching BEGIN"), str(refused.value)


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_blank_lines_before_the_calendar_and_every_line_ending_count(newline: str) -> None:
    # Given two blank lines before the calendar, folds, and a mismatched END on line 12
    text = ("\r\n\r\n" + FOLDED.removesuffix("END:VEVENT\r\n") + "END:VTODO\r\nEND:VCALENDAR\r\n").replace(
        "\r\n", newline
    )
    # When it is read
    with pytest.raises(IcsFileError) as refused:
        reader.read(text.encode())
    # Then both lines are named as in the file (END on 12, its VEVENT's BEGIN on 5)
    message = str(refused.value)
    assert message.startswith("Line 12: END:VTODO does not close BEGIN:VEVENT of line 5"), message


def test_warnings_and_vevent_lines_are_lines_of_the_file() -> None:
    # Given folds, then a second VEVENT (line 11) and content after the calendar (line 15)
    text = FOLDED + "BEGIN:VEVENT\r\nDTSTART:19970715T170000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\nX-JUNK:1\r\n"
    # When it is read
    doc = reader.read(text)
    # Then the warning and the VEVENT's first line are those of the file
    assert doc.warnings == ["Line 15: content after END:VCALENDAR was ignored"]
    assert [doc.line_number(span.first) for span in doc.events] == [3, 11]
