"""iCalendar import and export (pure: no I/O), RFC 5545 with the quirks of real exporters.

* :mod:`.reader` — decode and structurally validate an uploaded file, index its VEVENTs without
  building them all (streaming: one VEVENT is parsed at a time).
* :mod:`.zones` — TZID → IANA zone: IANA names, Windows names (Outlook), vendor-prefixed ids,
  and a file's own VTIMEZONE definitions.
* :mod:`.convert` — one VEVENT (parsed with icalendar; Google's X-WR-TIMEZONE applied by
  :mod:`.xwr`) → the fields of a teamcal event record; never expands a rule.
* :mod:`.writer` — event records → a VCALENDAR with a VTIMEZONE for every TZID used.

icalendar is imported here only: the layer ships it, but only the ``ical``
function imports this package (other functions' cold starts do not pay for them).
"""
