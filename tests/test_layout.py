"""The house rules a reader relies on, checked on the source: `infra/` is only the program `pulumi up`
runs, and nothing generic branches on a cloud's name (docs/decisions/0014 and 0015)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.catalog import CLOUDS
from tests.plans import ROOT

INFRA = ROOT / "infra"
NOT_IN_THE_PROGRAM = ("plan", "policy", "rich", "preflight")


def _modules(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(tree: ast.AST) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _cloud_branches(tree: ast.AST) -> Iterator[int]:
    """Lines that compare something with a cloud's name (`cloud == "aws"`, `x in ("gcp", ...)`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                names = side.elts if isinstance(side, ast.Tuple | ast.List | ast.Set) else [side]
                if any(isinstance(n, ast.Constant) and n.value in CLOUDS for n in names):
                    yield node.lineno


def test_the_program_imports_neither_the_plan_nor_the_pack_nor_rich() -> None:
    found = {
        f"{p.relative_to(ROOT)}: {name}"
        for p in _modules(INFRA)
        for name in _imports(ast.parse(p.read_text()))
        if name.split(".")[0] in NOT_IN_THE_PROGRAM
    }
    assert found == set()


@pytest.mark.parametrize("package", ["infra/config", "infra/workloads"])
def test_generic_code_never_branches_on_a_clouds_name(package: str) -> None:
    found = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in _modules(ROOT / package)
        for line in _cloud_branches(ast.parse(p.read_text()))
    ]
    assert found == []


def test_the_branch_finder_finds_a_branch() -> None:
    tree = ast.parse('if cloud == "azure":\n    pass\nif c in ("gcp", "x"):\n    pass\nok = c == "eu"\n')
    assert list(_cloud_branches(tree)) == [1, 3]


def _args_classes(tree: ast.AST) -> Iterator[tuple[str, set[str]]]:
    """Each `...Args` class with the keywords of its `@dataclass(...)` set to True."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name.endswith("Args"):
            flags: set[str] = set()
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "dataclass":
                    flags |= {
                        k.arg
                        for k in decorator.keywords
                        if k.arg and isinstance(k.value, ast.Constant) and k.value.value
                    }
            yield node.name, flags


def test_every_components_args_are_frozen_and_keyword_only() -> None:
    found = {
        f"{p.relative_to(ROOT)}: {name}": flags
        for p in _modules(INFRA)
        for name, flags in _args_classes(ast.parse(p.read_text()))
    }
    assert len(found) > 20
    assert {k: v for k, v in found.items() if not {"frozen", "kw_only"} <= v} == {}
