"""Building compliant fixture stacks for the rule tests, and the changes a test makes to one of them.

A fixture resource names its dependencies by logical name; `stack()` turns them into URNs the way the
engine reports them. A change names the resource it changes and says what it does:

- `set_key(name, path, value)`, `delete_key(name, path)`, `update_key(name, path, fn)` (the new value is
  `fn(old value)`) and `edit_json(name, path, edit)` (a JSON document such as an IAM policy, edited in
  place) change an input; the path is dotted, with `[i]` indexes;
- `set_protect(name, protect)` changes the resource's `protect` option;
- `set_depends_on(name, names)` replaces the resources it depends on;
- `remove_resource(name)` drops it from the stack.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from policy import engine
from policy.controls import CONTROLS
from policy.model.stack import Resource, Stack, Violation

PROJECT = "gpu-platform"


@dataclass(frozen=True)
class Fixture:
    type: str
    name: str
    props: dict[str, Any]
    deps: tuple[str, ...] = ()
    cloud: str | None = None
    protect: bool = False


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::{PROJECT}::{type_}::{name}"


def stack(fixtures: Iterable[Fixture], protect: bool | None = None) -> Stack:
    fixtures = list(fixtures)
    urns = {f.name: urn(f.type, f.name) for f in fixtures}
    return Stack(
        tuple(
            Resource(
                type=f.type,
                name=f.name,
                props=f.props,
                urn=urns[f.name],
                cloud=f.cloud,
                depends_on=frozenset(urns[d] for d in f.deps if d in urns),
                protect=f.protect,
            )
            for f in fixtures
        ),
        protect,
    )


@dataclass(frozen=True)
class Change:
    """One change to the fixture named `resource`: `apply` returns the changed fixture, or None to drop
    it; `label` says what it does, for test ids and failure messages. Made by the functions below."""

    resource: str
    label: str
    apply: Callable[[Fixture], Fixture | None]

    def __str__(self) -> str:
        return f"{self.resource}: {self.label}"


def _steps(path: str) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"[^.\[\]]+|\[\d+\]", path)]


def _at_path(fixture: Fixture, path: str, change: Callable[[Any, str | int], None]) -> Fixture:
    """The fixture with `change(parent, last step)` applied to a copy of its props; the maps on the way to
    the key are created where missing."""
    props = copy.deepcopy(fixture.props)
    *parents, last = _steps(path)
    target: Any = props
    for step in parents:
        if isinstance(step, str) and step not in target:
            target[step] = {}
        target = target[step]
    change(target, last)
    return replace(fixture, props=props)


def set_key(resource: str, path: str, value: Any) -> Change:
    """Set the input at `path` to `value`."""

    def assign(parent: Any, key: str | int) -> None:
        parent[key] = copy.deepcopy(value)

    return Change(resource, f"{path}={value}", lambda f: _at_path(f, path, assign))


def delete_key(resource: str, path: str) -> Change:
    """Remove the input at `path` (which must be there)."""

    def delete(parent: Any, key: str | int) -> None:
        del parent[key]

    return Change(resource, f"{path} deleted", lambda f: _at_path(f, path, delete))


def update_key(resource: str, path: str, fn: Callable[[Any], Any]) -> Change:
    """Set the input at `path` to `fn(old value)`; the old value is None where the key is missing."""

    def update(parent: Any, key: str | int) -> None:
        parent[key] = fn(parent[key] if isinstance(key, int) or key in parent else None)

    return Change(resource, f"{path} updated by {fn.__name__}", lambda f: _at_path(f, path, update))


def edit_json(resource: str, path: str, edit: Callable[[Any], None]) -> Change:
    """Edit the JSON document held as a string at `path` (an IAM policy) in place through `edit(doc)`."""

    def rewrite(parent: Any, key: str | int) -> None:
        doc = json.loads(parent[key])
        edit(doc)
        parent[key] = json.dumps(doc)

    return Change(resource, f"{path} edited by {edit.__name__}", lambda f: _at_path(f, path, rewrite))


def set_protect(resource: str, protect: bool) -> Change:
    """Set the resource's `protect` option."""
    return Change(resource, f"protect={protect}", lambda f: replace(f, protect=protect))


def set_depends_on(resource: str, names: Sequence[str]) -> Change:
    """Make the resource depend on the resources `names` (logical names) and on nothing else."""
    return Change(resource, f"depends_on={list(names)}", lambda f: replace(f, deps=tuple(names)))


def remove_resource(resource: str) -> Change:
    """Drop the resource from the stack."""
    return Change(resource, "removed", lambda f: None)


def changed(fixtures: Iterable[Fixture], *changes: Change) -> list[Fixture]:
    """The fixtures after each change in turn; a change naming no fixture fails the test."""
    out = list(fixtures)
    for change in changes:
        assert any(f.name == change.resource for f in out), f"no fixture named {change.resource}"
        applied = (change.apply(f) if f.name == change.resource else f for f in out)
        out = [f for f in applied if f is not None]
    return out


def violations(control_id: str, st: Stack) -> list[Violation]:
    return engine.check_stack(CONTROLS[control_id], st)


def assert_breaks(control_id: str, fixtures: list[Fixture], changes: tuple[Change, ...], on: str) -> None:
    """The compliant stack passes `control_id`; after the changes it fails with a message that names the
    control and the resource `on` (the changed one, or the one a removal leaves uncovered)."""
    assert violations(control_id, stack(fixtures, protect=True)) == []
    found = violations(control_id, stack(changed(fixtures, *changes), protect=True))
    assert found, f"{control_id} did not catch {[str(c) for c in changes]}"
    assert all(str(v).startswith(f"{control_id} ") for v in found), found
    assert any(v.resource == on and f" {on}: " in str(v) for v in found), [str(v) for v in found]


def case(cloud: str, control_id: str, *changes: Change, on: str | None = None) -> Any:
    """A pytest param for one mutation, with a readable id; `on` defaults to the first changed resource."""
    label = ";".join(str(c) for c in changes)
    target = on or changes[0].resource
    return pytest.param(cloud, control_id, changes, target, id=f"{control_id}:{cloud}:{label}"[:160])
