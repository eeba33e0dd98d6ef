"""docs/controls.md lists every control the policy pack registers, and no other, with its title and the
rule functions that check it; no document points outside the repository."""

from __future__ import annotations

import re
import subprocess

from policy.controls import CONTROLS
from tests.plans import ROOT

DOC = ROOT / "docs" / "controls.md"
ROW = re.compile(r"^\| ([A-Z]{2}-\d{2}) \| (.+?) \| (.+?) \| `(\w+)\.py`: (.+?) \|$", re.MULTILINE)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _rows() -> dict[str, tuple[str, str, list[str]]]:
    rows = ROW.findall(DOC.read_text())
    found = {id_: (title, module, re.findall(r"`(\w+)`", rules)) for id_, title, _, module, rules in rows}
    assert len(found) == len(rows), "a control is listed twice"
    return found


def test_lists_exactly_the_registered_controls_with_their_titles() -> None:
    rows = _rows()
    assert set(rows) == set(CONTROLS)
    assert {id_: title for id_, (title, _, _) in rows.items()} == {c.id: c.title for c in CONTROLS.values()}


def test_names_rules_that_check_each_control() -> None:
    for id_, (_, module, names) in _rows().items():
        control = CONTROLS[id_]
        registered = {r.__name__ for r in [*control.resource_rules, *control.stack_rules]}
        modules = {r.__module__ for r in [*control.resource_rules, *control.stack_rules]}
        assert names, id_
        assert set(names) <= registered, (id_, set(names) - registered)
        assert modules == {f"policy.controls.{module}"}, (id_, modules)


def _tracked(*patterns: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_no_file_points_outside_the_repository() -> None:
    outside = "../" + "sha" + "red"  # spelled apart so this file does not match itself
    files = [ROOT / p for p in _tracked()]
    assert [str(f) for f in files if f.is_file() and outside in f.read_text(errors="ignore")] == []


def test_relative_links_in_documents_resolve_inside_the_repository() -> None:
    broken = []
    for name in _tracked("*.md"):
        path = ROOT / name
        for target in LINK.findall(path.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{name}: {target}")
    assert broken == []
