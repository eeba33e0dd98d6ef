"""Building compliant fixture stacks for the rule tests, and mutating one property of one resource.

A fixture resource names its dependencies by logical name; `stack()` turns them into URNs the way the
engine reports them. A mutation is (resource name, path, value): the path is dotted with `[i]` indexes,
`@protect` changes the resource option, `@deps` replaces the names the resource depends on, the value
DELETE removes the key, a callable maps the old value, and REMOVE drops the whole resource.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from policy import engine
from policy.controls import CONTROLS
from policy.model.stack import Resource, Stack, Violation

DELETE = object()
REMOVE = "<remove the resource>"
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


def _steps(path: str) -> list[str | int]:
    return [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"[^.\[\]]+|\[\d+\]", path)]


def set_path(props: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = _steps(path)
    target: Any = props
    for step in parents:
        if isinstance(step, str) and step not in target:
            target[step] = {}
        target = target[step]
    if value is DELETE:
        del target[last]
    elif callable(value):
        target[last] = value(copy.deepcopy(target[last]) if last in target or isinstance(last, int) else None)
    else:
        target[last] = value


def mutate(fixtures: Iterable[Fixture], name: str, path: str, value: Any) -> list[Fixture]:
    out = []
    found = False
    for f in fixtures:
        if f.name != name:
            out.append(f)
            continue
        found = True
        if path == REMOVE:
            continue
        if path == "@protect":
            out.append(replace(f, protect=value))
            continue
        if path == "@deps":
            out.append(replace(f, deps=tuple(value)))
            continue
        props = copy.deepcopy(f.props)
        set_path(props, path, value)
        out.append(replace(f, props=props))
    assert found, f"no fixture named {name}"
    return out


def violations(control_id: str, st: Stack) -> list[Violation]:
    return engine.check_stack(CONTROLS[control_id], st)


def json_edit(edit: Callable[[Any], None]) -> Callable[[str], str]:
    """A mutation of a JSON document property (an IAM policy) through `edit(doc)`."""

    def apply(text: str) -> str:
        doc = json.loads(text)
        edit(doc)
        return json.dumps(doc)

    return apply


Step = tuple[str, str, Any]
"""One mutation: (resource name, path, value)."""


def broken(fixtures: list[Fixture], steps: tuple[Step, ...]) -> Stack:
    for name, path, value in steps:
        fixtures = mutate(fixtures, name, path, value)
    return stack(fixtures, protect=True)


def assert_breaks(control_id: str, fixtures: list[Fixture], steps: tuple[Step, ...], on: str) -> None:
    """The compliant stack passes `control_id`; after the mutation it fails with a message that names the
    control and the resource `on` (the mutated one, or the one a removal leaves uncovered)."""
    assert violations(control_id, stack(fixtures, protect=True)) == []
    found = violations(control_id, broken(fixtures, steps))
    assert found, f"{control_id} did not catch {steps}"
    assert all(str(v).startswith(f"{control_id} ") for v in found), found
    assert any(v.resource == on and f" {on}: " in str(v) for v in found), [str(v) for v in found]


def case(cloud: str, control_id: str, *steps: Step, on: str | None = None) -> Any:
    """A pytest param for one mutation, with a readable id; `on` defaults to the first mutated resource."""
    label = ";".join(f"{n}.{p}={'DEL' if v is DELETE else 'fn' if callable(v) else v}" for n, p, v in steps)
    target = on or steps[0][0]
    return pytest.param(cloud, control_id, steps, target, id=f"{control_id}:{cloud}:{label}"[:160])
