"""Deletion protection of stateful resources (keys, buckets, registries) in stacks whose config turns
`protect` on. Resource options are not inputs: the offline plan sees `protect` and `retainOnDelete` through
its mock monitor, a policy pack sees `protect` in each resource's options (and no `retainOnDelete`)."""

from __future__ import annotations

from policy.model.stack import Stack, Violation


def unprotected(stack: Stack, control_id: str, *types: str) -> list[Violation]:
    if not stack.protect:
        return []
    return [
        res.violation(control_id, "the stack sets `protect`, so this resource needs the protect option")
        for res in stack.of(*types)
        if not (res.protect or res.retain_on_delete)
    ]
