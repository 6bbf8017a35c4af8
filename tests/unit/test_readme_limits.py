"""The README states the limits the code enforces (a reader sizes their client by them)."""

from __future__ import annotations

import re
from pathlib import Path

from teamcal.services.events import PAGE_CAP, SEARCH_CAP

README = Path(__file__).resolve().parents[2] / "README.md"


def _search_paragraph() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("- `POST /event/search`")
    return re.sub(r"\s+", " ", text[start : text.index("\n\n", start)])


def test_readme_gives_the_search_expansion_cap_of_the_code() -> None:
    # Given the README's paragraph on POST /event/search
    paragraph = _search_paragraph()
    # Then it names the code's expansion cap and the values-per-response cap
    assert f"expands at most {SEARCH_CAP:,} occurrences" in paragraph
    assert f"at most {PAGE_CAP:,} values" in paragraph
