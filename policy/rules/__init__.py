"""Every control of docs/controls.md as pure rule functions, one module per area; importing this package
registers them all in `CONTROLS`."""

from policy.rules import (
    admission,
    cluster,
    cluster_logs,
    config,
    control_plane,
    iam_aws,
    identity,
    identity_order,
    jobs,
    network,
    node_pools,
    nodes,
    registry,
    serving,
    storage,
    storage_s3,
    workload_resources,
    workloads,
)
from policy.rules.base import CONTROLS, Control, Resource, Stack, Violation, cloud_of

MODULES = (
    control_plane,
    cluster_logs,
    cluster,
    admission,
    nodes,
    node_pools,
    iam_aws,
    identity,
    identity_order,
    storage_s3,
    storage,
    registry,
    network,
    workloads,
    workload_resources,
    serving,
    jobs,
    config,
)
__all__ = ["CONTROLS", "MODULES", "Control", "Resource", "Stack", "Violation", "cloud_of"]
