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
from dataclasses import dataclass

import pulumi

from infra.catalog import Cloud
from infra.clouds.base import GENERAL_POOL, POOL_LABEL, SERVICE_ACCOUNTS, CloudPlatform, ForeignWorkload
from infra.config import StackConfig
from infra.kueue import controller
from infra.kueue.multikueue import (
    MANAGED_BY,
    PULL_SECRET,
    ManagerArgs,
    MultiKueueManager,
    MultiKueueWorker,
    WorkerArgs,
)
from infra.kueue.refresher import APP, RefresherArgs, WorkerTokenRefresher
from infra.kueue.template import JobTemplate, TemplateArgs
from infra.pods import app_labels
from infra.workloads import APPS, Workloads
from infra.workloads.training import UID, JobTemplateArgs


def refresher_workload(home: CloudPlatform) -> ForeignWorkload:
    """The manager's token refresher, as the workers see it; it needs no bucket prefix."""
    return ForeignWorkload(
        cloud=home.cloud,
        issuer=home.oidc_issuer,
        namespace=controller.NAMESPACE,
        service_account=APP,
        prefix="",
    )


@dataclass(frozen=True)
class Dispatch:
    """What the stack built for MultiKueue, for its outputs."""

    refresher: WorkerTokenRefresher
    template: JobTemplate
    queues: dict[str, str]
    """Each team's MultiKueue LocalQueue on the manager."""
    queue: str
    """The one the template's Jobs go to: the training team's."""


def template_args(
    cfg: StackConfig,
    platforms: Mapping[Cloud, CloudPlatform],
    manager: Workloads,
    *,
    image: pulumi.Output[str],
    queue: str,
) -> JobTemplateArgs:
    """The Job users submit: the training team's MultiKueue queue, each worker's trainer identity labels,
    the longest spot notice of the workers, and the workers' pull Secret for the manager's registry."""
    workers = [platforms[cloud] for cloud in cfg.dispatch_workers]
    assert manager.training_image is not None
    return JobTemplateArgs(
        image=manager.training_image,
        training=cfg.training,
        model_name=cfg.serving.model_name,
        queue=queue,
        service_account=manager.namespace.accounts["trainer"],
        pod_labels={k: v for p in workers for k, v in p.identities["trainer"].pod_labels.items()},
        grace_seconds=max(p.spot_notice_seconds for p in workers),
        # The Job and its pods run on a worker: the manager's `cloud` label would misname them there.
        labels={k: v for k, v in manager.labels.items() if k != "cloud"},
        selector=app_labels(APPS["trainer"], cfg.stack),
        pull_secrets=[PULL_SECRET],
        managed_by=MANAGED_BY,
    )


def build(
    cfg: StackConfig, platforms: Mapping[Cloud, CloudPlatform], workloads: Mapping[Cloud, Workloads]
) -> Dispatch | None:
    """MultiKueue's manager on the home cluster and its workers; None without `queues.dispatch`."""
    dispatch = cfg.queues.dispatch
    manager = workloads[cfg.training_cloud]
    if dispatch is None or manager.training_image is None:
        return None
    foreign = refresher_workload(platforms[cfg.training_cloud])
    access = {cloud: platforms[cloud].admit_api(foreign) for cloud in dispatch.workers}
    ready: list[pulumi.Resource] = [*platforms[cfg.training_cloud].identities["trainer"].ready]
    pull_namespaces: set[str] = set()
    for cloud in dispatch.workers:
        worker = workloads[cloud]
        ready += [
            *platforms[cloud].identities["trainer"].ready,
            *(worker.trainer_env.ready if worker.trainer_env else []),
        ]
        side = MultiKueueWorker(
            f"{worker.name}-multikueue",
            WorkerArgs(
                subject=access[cloud].subject,
                teams=cfg.team_queues(cloud),
                labels=worker.kueue_labels,
                ready=worker.kueue.ready,
                image=manager.training_image,
                service_account=SERVICE_ACCOUNTS["trainer"],
                namespaces=[worker.namespace],
            ),
            pulumi.ResourceOptions(parent=worker),
        )
        ready.append(side)
        pull_namespaces.update(side.pull_namespaces)
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
    queue = built.local_queues[cfg.training_team().name]
    template = JobTemplate(
        f"{manager.name}-job-template",
        TemplateArgs(
            namespace=manager.namespace.name,
            template=template_args(cfg, platforms, manager, image=manager.training_image, queue=queue),
            labels=manager.labels,
            # A Job made from it runs on a worker as the trainer, in the worker's trainer environment,
            # pulling through the worker's pull Secret: none of which may be missing when it starts.
            ready=[built, *ready],
        ),
        pulumi.ResourceOptions(parent=manager),
    )
    home = platforms[cfg.training_cloud]
    refresher = WorkerTokenRefresher(
        f"{manager.name}-refresher",
        RefresherArgs(
            image=manager.training_image,
            uid=UID,
            workers=access,
            secrets=built.secrets,
            registry=home.grant_pull(controller.NAMESPACE, APP),
            pull_secret=PULL_SECRET,
            pull_namespaces=sorted(pull_namespaces),
            home=home.cloud,
            identity_egress=home.identity_egress,
            node_selector={POOL_LABEL: GENERAL_POOL},
            labels=manager.kueue_labels,
            ready=[built, *(r for a in access.values() for r in a.ready)],
        ),
        pulumi.ResourceOptions(parent=manager),
    )
    return Dispatch(refresher, template, built.local_queues, queue)
