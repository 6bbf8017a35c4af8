"""Stored text: the characters allowed and the limits, for every way in (API, import, Google,
partner protocol). Issue 16: a ``userKeys`` entry holding CR/LF became structure in exports.

* Control characters (Unicode category Cc: C0, DEL, C1) and unpaired surrogates are refused in
  every stored text field. Multi-line fields (``summary``, ``description``, a calendar's
  ``value.description``) also take TAB and line breaks; CRLF and CR are stored as LF.
* Limits keep any event item well under DynamoDB's 400 KB even in 4-byte UTF-8 (summary 4 KB,
  description 128 KB, userKeys 51 KB, exdate/rdate ≈ 100 KB: under 300 KB in all):

  ========================  ==========================
  ``summary``               :data:`MAX_SUMMARY` characters
  ``description``           :data:`MAX_DESCRIPTION` characters
  ``userKeys``              :data:`MAX_USER_KEYS` entries of at most :data:`MAX_USER_KEY` characters
  ========================  ==========================

The checks are plain functions (:func:`check_text`) for the converters and pydantic types
(:data:`LineText`, :data:`MultiLineText`, :data:`UserKey`) for the wire models.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints

#: Longest event ``summary``, in characters.
MAX_SUMMARY = 1000
#: Longest event ``description``, in characters (was 100,000: 400 KB in 4-byte UTF-8).
MAX_DESCRIPTION = 32_768
#: Most ``userKeys`` entries on one event (was 500: 500 × 1,900 characters overflowed an item).
MAX_USER_KEYS = 100
#: Longest ``userKeys`` entry (a Jira account id is at most 128 characters).
MAX_USER_KEY = 128
#: Most EXDATE / RDATE values of one event (the events API's own limits).
MAX_EXDATES = 5000
MAX_RDATES = 1000

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_MULTILINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BREAK = re.compile("\r\n|\r")


def check_text(value: str, field: str = "text", *, multiline: bool = False) -> str:
    """``value`` as stored: unchanged for a one-line field; line breaks as LF for a multi-line one.

    Raises:
        ValueError: ``value`` holds a control character (TAB, CR and LF are allowed only when
            ``multiline``) or an unpaired surrogate; the message names ``field`` and the code point.
    """
    found = (_CONTROL_MULTILINE if multiline else _CONTROL).search(value)
    if found is not None:
        raise ValueError(f"{field} must not contain control characters (U+{ord(found.group()):04X})")
    return _BREAK.sub("\n", value) if multiline else value


def check_strings(data: Any, field: str, depth: int = 0) -> None:
    """Apply :func:`check_text` (multi-line) to every string inside decoded JSON ``data`` (keys
    too); ``field`` names the wire field in the error.

    Raises:
        ValueError: a string holds a control character other than TAB, CR or LF.
    """
    if isinstance(data, str):
        check_text(data, field, multiline=True)
    elif isinstance(data, dict):
        for key, item in data.items():
            check_text(str(key), field)
            check_strings(item, field, depth + 1)
    elif isinstance(data, list):
        for item in data:
            check_strings(item, field, depth + 1)


def _line(value: str) -> str:
    return check_text(value)


def _multiline(value: str) -> str:
    return check_text(value, multiline=True)


#: A one-line stored string (names, user keys, groups): no control characters at all.
LineText = Annotated[str, AfterValidator(_line)]
#: A multi-line stored string (summary, description): TAB and line breaks allowed, stored as LF.
MultiLineText = Annotated[str, AfterValidator(_multiline)]
#: One ``userKeys`` entry.
UserKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_USER_KEY), AfterValidator(_line)]
