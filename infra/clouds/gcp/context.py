"""What every GCP component shares: the cloud's name, child options, names GCP constrains, and label sets."""

from __future__ import annotations

import pulumi

from infra.catalog import Cloud
from infra.naming import labels, short_hash

CLOUD: Cloud = "gcp"
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def children(parent: pulumi.Resource, opts: pulumi.ResourceOptions | None) -> pulumi.ResourceOptions:
    """Options for a component's children: parented, and waiting for what the component waits for.

    Pulumi passes providers down to children but not `depends_on`, so a component created after the project
    APIs would otherwise let its children race the API enablement.
    """
    return pulumi.ResourceOptions(parent=parent, depends_on=opts.depends_on if opts else None)


def protected(base: pulumi.ResourceOptions, protect: bool) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(protect=protect))


def gcp_labels(stack: str, component: str) -> dict[str, str]:
    return labels(stack, CLOUD, component)


def account_id(stack: str, role: str) -> str:
    """A service-account id: 6-30 characters `[a-z][-a-z0-9]*[a-z0-9]`, unique per stack and role."""
    wanted = f"{stack}-{role}".lower()
    if len(wanted) <= 30:
        return wanted
    return f"{wanted[: 30 - 9].rstrip('-')}-{short_hash(stack, role)}"
