"""Waits for what a cloud finishes after its API call has returned: a role assignment reaching the
service that checks it, a service agent that an API enablement creates a little later.

The clouds document these delays, and a provider cannot see them: the resource exists, the next call
still fails (a 403 from a cluster's authorizer, "service account does not exist", "principal has no access
to the key"). A `Sleep` between the two, on create only, turns a failed first `pulumi up` into a slower
one; later runs do not wait. Each platform passes its own `time` provider to its children, because the
stacks disable default providers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumiverse_time as time


def provider(name: str, parent: pulumi.Resource) -> time.Provider:
    return time.Provider(f"{name}-time", opts=pulumi.ResourceOptions(parent=parent))


def settle(name: str, after: Sequence[pulumi.Resource], duration: str, parent: pulumi.Resource) -> time.Sleep:
    """A resource that exists `duration` (Go syntax: `90s`, `5m`) after everything in `after` does."""
    return time.Sleep(
        name, create_duration=duration, opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after))
    )
