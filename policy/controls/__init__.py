"""Every control of docs/controls.md as pure rule functions, one module per area; importing this package
registers them all in `CONTROLS`. The vocabulary the rules are written in is `policy.model`."""

from policy.controls import (
    admission,
    cluster,
    cluster_logs,
    config,
    control_plane,
    cross_cloud,
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
from policy.model.control import CONTROLS

__all__ = [
    "CONTROLS",
    "admission",
    "cluster",
    "cluster_logs",
    "config",
    "control_plane",
    "cross_cloud",
    "iam_aws",
    "identity",
    "identity_order",
    "jobs",
    "network",
    "node_pools",
    "nodes",
    "registry",
    "serving",
    "storage",
    "storage_s3",
    "workload_resources",
    "workloads",
]
