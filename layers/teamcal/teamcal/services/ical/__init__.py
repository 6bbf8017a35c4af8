"""iCalendar use cases, one module each.

* :mod:`.export` — a calendar's .ics (direct and as snapshots in the bucket);
* :mod:`.feeds` — subscription feeds (a secret URL serving the calendar's .ics);
* :mod:`.import_jobs` — the import entry points (inline, upload ticket, the S3 worker) and jobs;
* :mod:`.importer` — one run of an import over a parsed file;
* :mod:`.stores` — the repositories they share and the calendar lookup.

Reference: calendar-integrations.txt ("Export Calendar to iCal format", "Import from iCal file":
"Imported events are added as Non-JIRA Events with default color"); RFC 5545; issue 5.
"""
