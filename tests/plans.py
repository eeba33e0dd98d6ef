"""Run the offline plan from tests: a stack file as it is, or a stack file with config changed in memory."""

from __future__ import annotations

import copy
import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from plan import runner, stackfile

ROOT = Path(__file__).resolve().parents[1]
DELETE = object()
"""Use as an override value to remove a key."""


@functools.cache
def planned(stack: str) -> runner.Plan:
    """The plan of `Pulumi.<stack>.yaml`, computed once per test session."""
    return runner.run(stackfile.load(ROOT, stack), stack)


def stack_values(stack: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    return dict(doc["config"])


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `overrides` into a copy of `base`; dicts merge, anything else replaces, DELETE removes."""
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def plan_with(overrides: Mapping[str, Any], base: str = "dev") -> runner.Plan:
    """Plan `base` with config keys changed, e.g. {"gpu-platform:aws": {"natGateways": "perZone"}}."""
    values = merged(stack_values(base), overrides)
    return runner.run(stackfile.load(ROOT, f"{base}-test", overrides=values), base)


def platform_resources(plan: runner.Plan, cloud: str) -> list[runner.PlannedResource]:
    """The resources of one cloud's platform component tree (its workloads tree left out)."""
    by_urn = plan.by_urn()

    def top(res: runner.PlannedResource) -> runner.PlannedResource:
        while res.parent is not None and res.parent in by_urn:
            res = by_urn[res.parent]
        return res

    return [r for r in plan.resources if top(r).type == f"gpu-platform:{cloud}:Platform"]


def waits_for(plan: runner.Plan, resource: runner.PlannedResource, other: runner.PlannedResource) -> bool:
    """Whether `resource` is created only after `other`: directly, or through what it depends on (a
    settling pause between a grant and its user, say)."""
    by_urn, seen, todo = plan.by_urn(), set(), list(resource.depends_on)
    while todo:
        urn = todo.pop()
        if urn == other.urn:
            return True
        if urn not in seen and urn in by_urn:
            seen.add(urn)
            todo.extend(by_urn[urn].depends_on)
    return False


CONTRACT_PROGRAM = Path(__file__).parent / "infra" / "clouds" / "contract_program"


@functools.cache
def contract_plan(stack: str) -> runner.Plan:
    """Each cloud's `platform.build(args)` alone on the stack's config, every contract field exported:
    `outputs["contracts"][cloud]` holds the values and `secret_outputs` the secret ones."""
    return runner.run(dataclasses.replace(stackfile.load(ROOT, stack), program_dir=CONTRACT_PROGRAM), stack)
