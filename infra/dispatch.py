"""MultiKueue across the clouds (`queues.dispatch`): the one module that sees the manager's contract and
its workers' at once, as infra/replication.py does for storage.

The home cluster is the manager. Each worker is asked, through its contract's `admit_api`, to let the
manager's token refresher sign in to its API server by the issuer of the manager's tokens, and says how;
the worker then gets its side of MultiKueue (queues of the manager's names, and RBAC for the identity the
refresher signs in as), and the manager gets the MultiKueue objects and the refresher (docs/queues.md).
Each worker's API access list admits the manager's egress addresses (`replication.platforms`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from infra.catalog import Cloud
from infra.clouds.base import GENERAL_POOL, POOL_LABEL, CloudPlatform, ForeignWorkload
from infra.config import StackConfig
from infra.kueue import controller
from infra.kueue.multikueue import ManagerArgs, MultiKueueManager, MultiKueueWorker, WorkerArgs
from infra.kueue.refresher import APP, RefresherArgs, WorkerTokenRefresher
from infra.workloads import Workloads
from infra.workloads.training import UID


def refresher_workload(home: CloudPlatform) -> ForeignWorkload:
    """The manager's token refresher, as the workers see it; it needs no bucket prefix."""
    return ForeignWorkload(
        cloud=home.cloud,
        issuer=home.oidc_issuer,
        namespace=controller.NAMESPACE,
        service_account=APP,
        prefix="",
    )


def build(
    cfg: StackConfig, platforms: Mapping[Cloud, CloudPlatform], workloads: Mapping[Cloud, Workloads]
) -> WorkerTokenRefresher | None:
    """MultiKueue's manager on the home cluster and its workers; None without `queues.dispatch`."""
    dispatch = cfg.queues.dispatch
    manager = workloads[cfg.training_cloud]
    if dispatch is None or manager.training_image is None:
        return None
    foreign = refresher_workload(platforms[cfg.training_cloud])
    access = {cloud: platforms[cloud].admit_api(foreign) for cloud in dispatch.workers}
    for cloud in dispatch.workers:
        worker = workloads[cloud]
        MultiKueueWorker(
            f"{worker.name}-multikueue",
            WorkerArgs(
                subject=access[cloud].subject,
                teams=cfg.team_queues(cloud),
                labels=worker.kueue_labels,
                ready=worker.kueue.ready,
            ),
            pulumi.ResourceOptions(parent=worker),
        )
    built = MultiKueueManager(
        f"{manager.name}-multikueue",
        ManagerArgs(
            teams=cfg.team_queues(cfg.training_cloud),
            workers={cloud: cfg.team_queues(cloud) for cloud in dispatch.workers},
            labels=manager.kueue_labels,
            ready=manager.kueue.serving,
            namespaces=[manager.namespace],
        ),
        pulumi.ResourceOptions(parent=manager),
    )
    return WorkerTokenRefresher(
        f"{manager.name}-refresher",
        RefresherArgs(
            image=manager.training_image,
            uid=UID,
            workers=access,
            secrets=built.secrets,
            node_selector={POOL_LABEL: GENERAL_POOL},
            labels=manager.kueue_labels,
            ready=[built, *(r for a in access.values() for r in a.ready)],
        ),
        pulumi.ResourceOptions(parent=manager),
    )
