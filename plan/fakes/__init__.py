"""Plausible cloud answers for the offline plan's mock engine.

Each cloud module registers, by type token, what a real create would return beyond the inputs (ids, ARNs,
endpoints, certificate data, OIDC issuers) and what each invoke the program makes would answer. A resource
type without a fake echoes its inputs with a generated id; an invoke without a fake is an error, so a new
data-source call cannot slip into the program unplanned.
"""

from __future__ import annotations

from typing import Any

from plan.fakes import aws, azure, clock, docker_build, gcp, kubernetes, random
from plan.fakes.registry import INVOKES, RESOURCES, Ctx

__all__ = ["UnplannedInvokeError", "invoke", "resource"]
_MODULES = (aws, gcp, azure, kubernetes, docker_build, clock, random)


class UnplannedInvokeError(Exception):
    pass


def resource(type_: str, name: str, inputs: dict[str, Any], stack: str) -> tuple[str, dict[str, Any]]:
    ctx = Ctx(type_=type_, name=name, inputs=inputs, stack=stack)
    fake = RESOURCES.get(type_)
    extra = fake(ctx) if fake else {}
    state = {**inputs, **extra}
    return str(state.pop("__id", f"{name}-id")), state


def invoke(token: str, args: dict[str, Any]) -> dict[str, Any]:
    fake = INVOKES.get(token)
    if fake is None:
        known = ", ".join(sorted(INVOKES))
        raise UnplannedInvokeError(f"the offline plan has no fake for invoke {token!r}; known: {known}")
    return fake(args)
