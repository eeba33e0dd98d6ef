"""docs/decisions/: every record is listed in the index, under its number and title, and numbered in order."""

from __future__ import annotations

import re

from tests.plans import ROOT

DECISIONS = ROOT / "docs" / "decisions"


def test_the_index_lists_every_record_once_in_order() -> None:
    records = sorted(p.name for p in DECISIONS.glob("[0-9][0-9][0-9][0-9]-*.md"))
    listed = re.findall(r"^\| \[(\d{4})\]\(([^)]+)\) \|", (DECISIONS / "README.md").read_text(), re.MULTILINE)
    assert [link for _, link in listed] == records
    assert [int(number) for number, _ in listed] == list(range(1, len(records) + 1))
    for number, link in listed:
        assert link.startswith(f"{number}-")
        assert (DECISIONS / link).read_text().startswith(f"# {number} ")
