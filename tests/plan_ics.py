"""The one-VEVENT iCalendar file (UID ``plan-1``) the import-reach tests send (issue 11, case 4)."""

from __future__ import annotations


def plan_ics(sequence: int, summary: str) -> str:
    """A calendar with the VEVENT ``plan-1`` at ``SEQUENCE`` ``sequence``, 2026-03-10 09:00-10:00 UTC."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//teamcal tests//EN",
        "BEGIN:VEVENT",
        "UID:plan-1",
        f"SEQUENCE:{sequence}",
        "DTSTAMP:20260301T000000Z",
        "DTSTART:20260310T090000Z",
        "DTEND:20260310T100000Z",
        f"SUMMARY:{summary}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"
