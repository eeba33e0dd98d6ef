"""CF-01, config validated before any resource exists, is a property of the program, not of any
resource: `infra.config.load()` raises before the first registration, and the offline plan exits 2 with
nothing captured (tests/plan/test_cli.py). The pack records the control so that every ID of
docs/controls.md has a policy; its stack rule finds nothing by construction (see policy/README.md)."""

from __future__ import annotations

from policy.model.control import control, stack_rule
from policy.model.stack import Stack, Violation

CF01 = control(
    "CF-01",
    "Config validated before any resource",
    "Invalid stack config stops the program before any resource is registered (checked by the program "
    "and the offline plan, which exits 2; nothing on resource inputs to check).",
    advisory=True,
)


@stack_rule(CF01)
def validated_before_resources(stack: Stack) -> list[Violation]:
    """A stack that got as far as registering resources passed validation: nothing to report."""
    del stack
    return []
