"""Train anywhere, serve everywhere: the one module that sees two clouds' contracts at once.

The home cloud (`training.cloud`, else the first of `clouds`) runs the replicator; a version may be
exported into any cloud's bucket (the home's, or a MultiKueue worker's). Every other cloud is asked,
through its contract's `federate`, to trust the home cluster's `replicator` service account, by the
issuer of its tokens, for `models/<model>/` of its own bucket, and says what the replicator's pod needs to
act as the identity it made (docs/replication.md walks the trust chain of each pair); on the home bucket
the replicator's own identity reads and writes `models/` (each cloud's `identity.py`). The home cluster
then runs the replicator, which copies every committed version from wherever it is to everywhere else
(infra/workloads/replicator.py). Nothing here names a cloud: the pairs come from the stack's `clouds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from infra import clouds
from infra.catalog import Cloud
from infra.clouds.base import SERVICE_ACCOUNTS, CloudPlatform, ForeignWorkload, model_prefix
from infra.config import StackConfig
from infra.pods import app_labels
from infra.workloads import APPS, Workloads
from infra.workloads.replicator import FederatedLocation, Replicator, ReplicatorArgs


def platforms(cfg: StackConfig) -> dict[Cloud, CloudPlatform]:
    """Every enabled cloud's platform, the home cloud's first: the others' storage firewalls admit its
    cluster's egress addresses, from which the replicator writes, and so do the API access lists of
    MultiKueue's workers, which the home cluster manages (infra/dispatch.py)."""
    home = clouds.build(cfg.training_cloud, cfg)
    others = {
        c: clouds.build(c, cfg, admit=home.egress_ips, **_worker_args(home, c in cfg.dispatch_workers))
        for c in cfg.clouds
        if c != home.cloud
    }
    return {c: home if c == home.cloud else others[c] for c in cfg.clouds}


def _worker_args(home: CloudPlatform, worker: bool) -> dict[str, Any]:
    """What a MultiKueue worker admits of the manager: its egress addresses to the API server, and the
    trainer repository of its registry, from which the Jobs it dispatches pull."""
    return {"api_admit": home.egress_ips, "admit_image": home.registry.repository} if worker else {}


def replicator_workload(cfg: StackConfig, home: CloudPlatform) -> ForeignWorkload:
    """The home cluster's replicator, as the other clouds see it."""
    return ForeignWorkload(
        cloud=home.cloud,
        issuer=home.oidc_issuer,
        namespace=cfg.namespace,
        service_account=SERVICE_ACCOUNTS["replicator"],
        # One model's versions, not every model's: the grant is the most the replicator could overwrite.
        prefix=model_prefix(cfg.serving.model_name),
    )


def build(
    cfg: StackConfig, platforms: Mapping[Cloud, CloudPlatform], workloads: Mapping[Cloud, Workloads]
) -> Replicator | None:
    """Federate every other cloud to the home cluster's replicator and run it there; None with one cloud."""
    home, built = platforms[cfg.training_cloud], workloads[cfg.training_cloud]
    others = [p for cloud, p in platforms.items() if cloud != home.cloud]
    if not others or built.training_image is None:
        return None
    foreign = replicator_workload(cfg, home)
    federated = [
        FederatedLocation(cloud=p.cloud, model_uri=workloads[p.cloud].model_uri, access=p.federate(foreign))
        for p in others
    ]
    identity = home.identities["replicator"]
    return Replicator(
        f"{built.name}-replicator",
        ReplicatorArgs(
            namespace=built.namespace.name,
            image=built.training_image,
            home=home.cloud,
            home_uri=built.model_uri,
            newest=cfg.serving.keep_versions,
            federated=federated,
            service_account=built.namespace.accounts["replicator"],
            pod_labels=identity.pod_labels,
            storage_env=home.storage_env,
            ready=[*identity.ready, *(r for t in federated for r in t.access.ready)],
            labels=built.labels,
            selector=app_labels(APPS["replicator"], cfg.stack),
        ),
        opts=pulumi.ResourceOptions(parent=built),
    )
