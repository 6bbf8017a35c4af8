"""Reading an uploaded .ics file: decode, validate its structure, index its components.

The reader never builds the whole calendar as objects. It unfolds the content lines (RFC 5545
§3.1), walks them once to check the component structure (``BEGIN``/``END`` pairs, RFC 5545 §3.4,
§3.6) and records, for every top-level VEVENT, its line range, UID and whether it has a
RECURRENCE-ID. The importer then parses one VEVENT at a time with icalendar
(:meth:`IcsDocument.vevent_text`), so memory holds the text, a small index entry per VEVENT and
one parsed component — never every parsed event, and never an expanded rule.

File-level problems raise :class:`~teamcal.ical.errors.IcsFileError` with a message for the user:
empty, binary, HTML error pages served as .ics, anything that does not start with
``BEGIN:VCALENDAR``, a truncated file (a component left open at the end), mismatched ``END``
lines, content before the calendar, more than :data:`MAX_EVENTS` VEVENTs. Content after the
(last) ``END:VCALENDAR`` is ignored with a warning, and ``END:VCALENDARD`` read as meant.

A damaged component that is not a VEVENT (a VTODO closed by ``END:VTOOD``, a VALARM never
closed) does not fail the file: it is skipped with a warning and the VEVENTs around it are read.
Its end is the first line that makes sense again: an ``END`` of a component around it, or a
``BEGIN`` of a component that cannot be nested in it (VEVENT, VTODO, VJOURNAL, VFREEBUSY,
VTIMEZONE). A damaged VEVENT still fails the file (its properties cannot be told apart from
what follows).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from teamcal.ical.errors import IcsFileError

#: The most VEVENTs one file may hold (a bigger calendar should be split).
MAX_EVENTS = 50_000
#: The deepest component nesting accepted (VCALENDAR > VEVENT > VALARM is 3).
MAX_DEPTH = 8

_UNFOLD = re.compile(r"(?:\r\n|\n|\r)[ \t]")
_LINES = re.compile(r"\r\n|\n|\r")
_HTML = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<!--", b"<title")
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "a gzip archive",
    b"%PDF": "a PDF document",
    b"\xff\xd8\xff": "a JPEG image",
}
#: Components that only appear directly inside VCALENDAR.
_TOP_LEVEL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"})
_CONTROL = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x20)) | {0x0B, 0x0C, 0x7F}


@dataclass(frozen=True, slots=True)
class VEventSpan:
    """One top-level VEVENT: its ordinal (0-based, file order), line range (inclusive, in the
    unfolded lines), UID (``None`` when absent) and raw RECURRENCE-ID (params and value, e.g.
    ``;TZID=Europe/Berlin:20240105T100000``; ``None`` when absent) and the line ranges of
    damaged components inside it (``holes``, left out of its text)."""

    index: int
    first: int
    last: int
    uid: str | None
    recurrence_id: str | None
    #: Line ranges (inclusive) of damaged components inside the VEVENT, left out of its text.
    holes: tuple[tuple[int, int], ...] = ()


@dataclass
class IcsDocument:
    """A structurally valid iCalendar file, indexed.

    ``properties``: calendar-level properties (upper-case name → value of the first occurrence,
    e.g. ``X-WR-TIMEZONE``, ``X-WR-CALNAME``, ``METHOD``); ``timezones``: the text of every
    VTIMEZONE; ``events``: one :class:`VEventSpan` per VEVENT in file order; ``ignored``: other
    top-level components by name (VTODO, VJOURNAL, ...); ``warnings``: notes for the job.
    """

    lines: list[str]
    properties: dict[str, str] = field(default_factory=dict)
    timezones: list[str] = field(default_factory=list)
    events: list[VEventSpan] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    #: The folded text ``lines`` were unfolded from, and how many lines were stripped before it.
    source: str = field(default="", repr=False)
    source_offset: int = 0
    _starts: list[int] | None = field(default=None, repr=False)

    def line_number(self, index: int) -> int:
        """The 1-based line of the file, as an editor counts it (folded lines included), where
        unfolded line ``index`` (0-based, an index into ``lines``) starts. Computed on first use
        (for messages only)."""
        if self._starts is None:
            source, starts = self.source, [0]
            for n, match in enumerate(_LINES.finditer(source), start=1):
                if source[match.end() : match.end() + 1] not in (" ", "\t"):
                    starts.append(n)
            self._starts = starts
        starts = self._starts
        physical = starts[index] if index < len(starts) else index
        return self.source_offset + physical + 1

    def vevent_text(self, span: VEventSpan) -> str:
        """The unfolded text of one VEVENT (``BEGIN:VEVENT`` … ``END:VEVENT``, CRLF line ends),
        without its damaged components."""
        lines = self.lines[span.first : span.last + 1]
        for first, last in reversed(span.holes):
            del lines[first - span.first : last - span.first + 1]
        return "\r\n".join(lines) + "\r\n"


def _looks_binary(head: bytes) -> str | None:
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return what
    if any(b in _CONTROL for b in head):
        return "binary data"
    return None


def decode(data: bytes) -> tuple[str, list[str]]:
    """The text of an uploaded file and warnings about its encoding.

    UTF-8 (with or without BOM) as RFC 5545 §3.1.4 requires; UTF-16 with a BOM is accepted;
    other bytes are read as Windows-1252 with a warning (old Outlook exports).

    Raises:
        IcsFileError: empty, binary (NUL or control bytes, a known binary signature), or an HTML
            page.
    """
    if not data.strip():
        raise IcsFileError("The file is empty: an iCalendar file starts with BEGIN:VCALENDAR")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ["the file is UTF-16; it was read as such"]
        except UnicodeDecodeError:
            raise IcsFileError("The file is not text: it starts with a UTF-16 mark but is not UTF-16") from None
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    what = _looks_binary(head)
    if what is not None:
        raise IcsFileError(f"The file is {what}, not an iCalendar (.ics) text file")
    lowered = head[:1024].lower()
    if not lowered.startswith(b"begin:vcalendar") and (lowered.startswith(_HTML) or b"<html" in lowered):
        raise IcsFileError(
            "The file is an HTML page, not an iCalendar file: "
            "the export link probably returned an error or a login page"
        )
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), ["the file is not UTF-8; it was read as Windows-1252"]


def _value(line: str) -> tuple[str, str]:
    """``NAME;PARAMS:VALUE`` → (upper-case name, value); the colon may not be inside quotes."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            name = line[:i].split(";", 1)[0]
            return name.strip().upper(), line[i + 1 :]
    return line.split(";", 1)[0].strip().upper(), ""


class _Walker:
    """One pass over the unfolded lines (see :func:`read`)."""

    def __init__(self, lines: list[str], max_events: int, source: str = "", offset: int = 0) -> None:
        self.lines = lines
        self.max_events = max_events
        self.doc = IcsDocument(lines, source=source, source_offset=offset)
        self.at = self.doc.line_number
        self.stack: list[tuple[str, int]] = []
        self.calendars = 0
        self.uid: str | None = None
        self.rid: str | None = None
        #: Stack positions of damaged components (skipped when they close).
        self.damaged: set[int] = set()
        self.holes: list[tuple[int, int]] = []
        self.trailing = False

    def walk(self) -> IcsDocument:
        for i, line in enumerate(self.lines):
            if not line.strip():
                continue
            head = line[:6].upper()
            if head == "BEGIN:":
                self._begin(i, line[6:].strip().upper())
            elif head[:4] == "END:":
                self._end(i, line[4:].strip().upper())
            else:
                self._property(i, line)
        if self.stack:
            name, at = self.stack[-1]
            raise IcsFileError(
                f"The file is truncated: BEGIN:{name} on line {self.at(at)} is never closed (no END:{name})"
            )
        if self.calendars == 0:
            raise IcsFileError("The file holds no VCALENDAR")
        return self.doc

    def _damage(self, depth: int, why: str) -> None:
        """Mark the open component at stack position ``depth`` damaged (warned once)."""
        if depth not in self.damaged:
            self.damaged.add(depth)
            name, at = self.stack[depth]
            self.doc.warnings.append(f"Line {self.at(at)}: a damaged {name[:40]} was skipped ({why})")

    def _can_skip(self, depth: int) -> bool:
        """Whether every open component from stack position ``depth`` up may be skipped (none
        is the calendar or a VEVENT)."""
        return depth >= 1 and all(name != "VEVENT" for name, _ in self.stack[depth:])

    def _close_damaged(self, depth: int, i: int) -> None:
        """Pop the (damaged) components above stack position ``depth - 1``; line ``i`` is the
        first after them."""
        while len(self.stack) > depth:
            self._damage(len(self.stack) - 1, "it is never closed")
            self.damaged.discard(len(self.stack) - 1)
            _, at = self.stack.pop()
            if len(self.stack) >= 2 and self.stack[1][0] == "VEVENT":
                self.holes.append((at, i - 1))

    def _begin(self, i: int, name: str) -> None:
        if not self.stack and name != "VCALENDAR":
            raise IcsFileError(f"Line {self.at(i)}: expected BEGIN:VCALENDAR, found BEGIN:{name[:40]}")
        if name in _TOP_LEVEL and len(self.stack) > 1 and self._can_skip(1):
            self._close_damaged(1, i)
        self.stack.append((name, i))
        if len(self.stack) > MAX_DEPTH:
            raise IcsFileError(f"Line {self.at(i)}: components are nested more than {MAX_DEPTH} deep")
        if len(self.stack) == 2 and name == "VEVENT":
            self.uid, self.rid, self.holes = None, None, []

    def _end(self, i: int, name: str) -> None:
        if not self.stack:
            raise IcsFileError(f"Line {self.at(i)}: END:{name[:40]} without a matching BEGIN")
        open_name, at = self.stack[-1]
        if open_name == "VCALENDAR" and name != open_name and name.startswith("VCAL"):
            self.doc.warnings.append(f"Line {self.at(i)}: END:{name[:40]} was read as END:VCALENDAR")
            name = open_name
        names = [n for n, _ in self.stack]
        if open_name != name and name in names:
            depth = len(names) - 1 - names[::-1].index(name)
            if self._can_skip(depth + 1):
                self._close_damaged(depth + 1, i)
                open_name, at = self.stack[-1]
        elif open_name != name and self._can_skip(len(self.stack) - 1):
            self._damage(len(self.stack) - 1, f"line {self.at(i)}: END:{name[:40]} does not close it")
            return
        if open_name != name:
            raise IcsFileError(
                f"Line {self.at(i)}: END:{name[:40]} does not close BEGIN:{open_name} of line {self.at(at)}"
                " (the file is damaged or truncated)"
            )
        self.stack.pop()
        if len(self.stack) in self.damaged:
            self.damaged.discard(len(self.stack))
            return
        if not self.stack:
            self.calendars += 1
        elif len(self.stack) == 1:
            self._component(name, at, i)

    def _component(self, name: str, first: int, last: int) -> None:
        doc = self.doc
        if name == "VEVENT":
            if len(doc.events) >= self.max_events:
                raise IcsFileError(f"The file holds more than {self.max_events} events: split it into several files")
            holes = tuple(sorted({h for h in self.holes if h[0] <= h[1]}))
            doc.events.append(VEventSpan(len(doc.events), first, last, self.uid, self.rid, holes))
        elif name == "VTIMEZONE":
            doc.timezones.append("\r\n".join(self.lines[first : last + 1]) + "\r\n")
        else:
            doc.ignored[name] += 1

    def _property(self, i: int, line: str) -> None:
        depth = len(self.stack)
        if depth == 0 and self.calendars:
            if not self.trailing:
                self.trailing = True
                self.doc.warnings.append(f"Line {self.at(i)}: content after END:VCALENDAR was ignored")
            return
        if depth == 0:
            raise IcsFileError(f"Line {self.at(i)}: content outside BEGIN:VCALENDAR … END:VCALENDAR: {line[:60]!r}")
        if depth == 1:
            name, value = _value(line)
            self.doc.properties.setdefault(name, value)
        elif depth == 2 and self.stack[1][0] == "VEVENT":
            first = line[:1].upper()
            if first == "U" and line[:4].upper() in ("UID:", "UID;"):
                self.uid = _value(line)[1].strip() or None
            elif first == "R" and line[:13].upper() == "RECURRENCE-ID":
                self.rid = line[13:].strip()


def read(data: bytes | str, *, max_events: int = MAX_EVENTS) -> IcsDocument:
    """Decode (bytes) and index an iCalendar file (see the module docstring).

    Several VCALENDAR objects in one file are read as one calendar (the first occurrence of a
    calendar property wins). Blank lines are ignored.

    Raises:
        IcsFileError: the file is not a structurally valid iCalendar file.
    """
    warnings: list[str] = []
    if isinstance(data, bytes):
        text, warnings = decode(data)
    else:
        text = data
    stripped = text.lstrip("\ufeff \t\r\n")
    offset = len(_LINES.findall(text, 0, len(text) - len(stripped)))
    text = stripped
    if not text:
        raise IcsFileError("The file is empty: an iCalendar file starts with BEGIN:VCALENDAR")
    first = text[:80].split("\n", 1)[0].strip()
    if first.upper() != "BEGIN:VCALENDAR":
        if first.startswith("<"):
            raise IcsFileError("The file is an HTML or XML page, not an iCalendar file")
        raise IcsFileError(f"Not an iCalendar file: it must start with BEGIN:VCALENDAR, not {first[:40]!r}")
    lines = _LINES.split(_UNFOLD.sub("", text))
    doc = _Walker(lines, max_events, text, offset).walk()
    doc.warnings.extend(warnings)
    return doc
