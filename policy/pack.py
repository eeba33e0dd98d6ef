"""The CrossGuard policies: one per control of docs/controls.md, named by its ID, from `policy.controls`.

A control with only resource rules becomes a `ResourceValidationPolicy`; one with stack rules (it spans
resources, like "every bucket has a public access block") a `StackValidationPolicy`, which reports each
finding on its resource's URN. Both report only mandatory findings; the advisory ones (a stack waiver, a
rule's own reason) go to the `advisory-findings` policy, so a waiver never hides a finding and never fails.

The stack config (`gpu-platform:waivers`, `gpu-platform:protect`) is read through `pulumi.Config`: the
Pulumi CLI hands a policy pack the stack's config (pulumi/pulumi#20570). With an older CLI nothing is
waived and protection is not checked; override a whole control with `--policy-pack-config` instead
(`{"ST-12": "advisory"}`), see policy/README.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import engine
from policy.controls import CONTROLS
from policy.model.control import Control
from policy.model.stack import Resource, Stack, cloud_of

PROJECT = "gpu-platform"
ADVISORY_POLICY = "advisory-findings"


@dataclass(frozen=True)
class Settings:
    waivers: Mapping[tuple[str, str], str]
    protect: bool | None


def stack_settings() -> Settings:
    """The stack's waivers and `protect`, from the config the CLI passes the pack (empty if none)."""
    try:
        config = pulumi.Config(PROJECT)
        return Settings(engine.parse_waivers(config.get_object("waivers")), config.get_bool("protect"))
    except Exception:  # an old CLI passes no config; a policy must never crash on that
        return Settings({}, None)


def plain(value: Any) -> Any:
    """Property values without pulumi_policy's unknown-checking proxies: rules treat unknowns themselves
    (as "cannot tell yet") instead of aborting the whole policy at the first one."""
    if isinstance(value, str) or not isinstance(value, Mapping | Sequence):
        return value
    target: Any = value
    try:
        target = target["__target"]
    except (KeyError, TypeError, IndexError):
        target = value
    if isinstance(target, Mapping):
        return {k: plain(target[k]) for k in target}
    return [plain(v) for v in target]


def _urn(obj: Any) -> str | None:
    return getattr(obj, "urn", None) if obj is not None else None


def from_args(args: ResourceValidationArgs) -> Resource:
    provider = _urn(args.provider)
    return Resource(
        type=args.resource_type,
        name=args.name,
        props=plain(args.props),
        urn=args.urn,
        cloud=cloud_of(args.urn, provider),
        parent=getattr(args.opts, "parent", None),
        protect=bool(getattr(args.opts, "protect", False)),
    )


def to_stack(resources: Sequence[Any], protect: bool | None) -> Stack:
    converted = []
    for r in resources:
        by_property = {k: frozenset(d.urn for d in ds) for k, ds in (r.property_dependencies or {}).items()}
        deps = {d.urn for d in r.dependencies}.union(*by_property.values())
        converted.append(
            Resource(
                type=r.resource_type,
                name=r.name,
                props=plain(r.props),
                urn=r.urn,
                cloud=cloud_of(r.urn, _urn(r.provider)),
                parent=_urn(r.parent),
                depends_on=frozenset(deps),
                protect=bool(r.opts.protect),
                property_deps=by_property,
            )
        )
    return Stack(tuple(converted), protect)


def _resource_policy(control: Control, settings: Callable[[], Settings]) -> Policy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        res = from_args(args)
        waivers = settings().waivers
        for v in engine.check_resource(control, res):
            if engine.severity(v, res.cloud, waivers)[0] == "mandatory":
                report(str(v), None)

    return ResourceValidationPolicy(
        name=control.id, description=f"{control.title}: {control.description}", validate=validate
    )


def _stack_policy(control: Control, settings: Callable[[], Settings]) -> Policy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        current = settings()
        stack = to_stack(args.resources, current.protect)
        for finding, v in _judged(engine.check_stack(control, stack), stack, current):
            if finding.severity == "mandatory":
                report(str(v), v.urn or None)

    level = EnforcementLevel.ADVISORY if control.advisory else EnforcementLevel.MANDATORY
    return StackValidationPolicy(
        name=control.id,
        description=f"{control.title}: {control.description}",
        validate=validate,
        enforcement_level=level,
    )


def _judged(violations: list[Any], stack: Stack, settings: Settings) -> list[tuple[engine.Finding, Any]]:
    return list(zip(engine.judge(violations, stack, settings.waivers), violations, strict=True))


def _advisory_policy(settings: Callable[[], Settings]) -> Policy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        current = settings()
        stack = to_stack(args.resources, current.protect)
        everything = [v for c in CONTROLS.values() if not c.advisory for v in engine.check_stack(c, stack)]
        for finding, v in _judged(everything, stack, current):
            if finding.severity == "advisory":
                report(f"{v} (advisory: {finding.reason})", v.urn or None)

    return StackValidationPolicy(
        name=ADVISORY_POLICY,
        description="Findings of mandatory controls that only advise: waived by the stack config for that "
        "cloud, or marked advisory by the rule (with the reason).",
        validate=validate,
        enforcement_level=EnforcementLevel.ADVISORY,
    )


def policies(settings: Callable[[], Settings] = stack_settings) -> list[Policy]:
    built = [
        _stack_policy(c, settings) if c.stack_rules else _resource_policy(c, settings)
        for c in CONTROLS.values()
    ]
    return [*built, _advisory_policy(settings)]
