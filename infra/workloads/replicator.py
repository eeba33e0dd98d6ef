"""The replicator: a CronJob in the home cluster that copies each committed model version, from whichever
cloud's bucket exported it (the home cloud's, or a MultiKueue worker's), to every other cloud's bucket,
the home's included (`python -m trainer replicate`, training/README.md).

It is keyless. The home bucket it reads and writes with the home cloud's own workload identity. To each
other cloud the pod presents a projected service-account token of that cloud's audience, mounted with
that cloud's non-secret configuration under `<FEDERATED_DIR>/<cloud>/`; each cloud's SDK reads its own
variables (`FederatedAccess.env`), so one process reaches every bucket with that bucket's identity. A
version is committed in a location only after every file matches the exporter's SHA256SUMS,
`saved_model.pb` last; a location that fails fails alone and the next run retries it, and a run finds
nothing to do once every location is current.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import pods
from infra.catalog import Cloud
from infra.clouds.base import FederatedAccess, federated_dir
from infra.pods import Obj
from infra.workloads.training import UID

APP = "replicator"
SCHEDULE = "*/10 * * * *"
"""Every ten minutes: a version reaches the other clouds at most that long after the export commits it."""
TOKEN_SECONDS = 3600
"""Lifetime of each projected token; the kubelet renews the file at 80% of it."""
DEADLINE_SECONDS = 3600
RETRIES = 2
"""Within one run; a location still failing after them fails the Job, and the next run tries again."""
SCRATCH = "20Gi"
"""Room for one model version, staged locally and verified between the download and the uploads."""


@dataclass(frozen=True, kw_only=True)
class FederatedLocation:
    """Another cloud's model base path, `<bucket>/models/<name>`, and how the replicator reaches it."""

    cloud: Cloud
    model_uri: pulumi.Input[str]
    access: FederatedAccess


@dataclass(frozen=True, kw_only=True)
class ReplicatorArgs:
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    """The trainer image, which carries the storage layer and `trainer replicate`."""
    home: Cloud
    home_uri: pulumi.Input[str]
    """The home cloud's model base path, reached with the pod's own identity."""
    newest: int
    """How many of the newest versions to keep current everywhere: as many as serving keeps."""
    federated: Sequence[FederatedLocation]
    service_account: pulumi.Input[str]
    pod_labels: Mapping[str, str]
    storage_env: Mapping[str, pulumi.Input[str]]
    """The home bucket's environment (its region or account)."""
    ready: Sequence[pulumi.Resource]
    """The home identity and every other cloud's trust and grant: a run before them would be refused."""
    labels: Mapping[str, str]
    selector: Mapping[str, str]


class Replicator(pulumi.ComponentResource):
    cron_job: pulumi.Output[str]

    def __init__(self, name: str, args: ReplicatorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:Replicator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, **args.selector}
        files = {
            f"{t.cloud}-{file}": content for t in args.federated for file, content in t.access.files.items()
        }
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=pods.metadata("replicator-targets", args.namespace, labels),
            data=files,
            opts=child,
        )
        job = k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=pods.metadata(APP, args.namespace, labels),
            spec={
                "schedule": SCHEDULE,
                # A slow copy must not overlap the next run: both would stage the same versions.
                "concurrency_policy": "Forbid",
                "starting_deadline_seconds": 600,
                "successful_jobs_history_limit": 3,
                "failed_jobs_history_limit": 3,
                "job_template": {
                    "spec": {
                        "backoff_limit": RETRIES,
                        "active_deadline_seconds": DEADLINE_SECONDS,
                        "ttl_seconds_after_finished": 24 * 3600,
                        "template": {
                            "metadata": {"labels": {**labels, **args.pod_labels}},
                            "spec": self._pod(args, config),
                        },
                    }
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[config, *args.ready]),
        )
        self.cron_job = job.metadata.name
        self.register_outputs({"cronJob": self.cron_job})

    def _pod(self, args: ReplicatorArgs, config: k8s.core.v1.ConfigMap) -> Obj:
        scratch, scratch_mount = pods.scratch("tmp", pods.TMP, SCRATCH)
        volumes, mounts = [scratch], [scratch_mount]
        for target in args.federated:
            volume = f"{target.cloud}-federation"
            sources: list[Obj] = [
                {
                    "service_account_token": {
                        "audience": target.access.audience,
                        "expiration_seconds": TOKEN_SECONDS,
                        "path": "token",
                    }
                }
            ]
            if target.access.files:
                items = [{"key": f"{target.cloud}-{f}", "path": f} for f in target.access.files]
                sources.append({"config_map": {"name": config.metadata.name, "items": items}})
            volumes.append({"name": volume, "projected": {"sources": sources}})
            mounts.append({"name": volume, "mount_path": federated_dir(target.cloud), "read_only": True})
        return {
            "restart_policy": "Never",
            "service_account_name": args.service_account,
            "automount_service_account_token": False,
            "security_context": pods.pod_security(UID),
            **pods.placement(None, ()),
            "containers": [
                {
                    "name": APP,
                    "image": args.image,
                    "command": ["python", "-m", "trainer", "replicate"],
                    "env": pods.env(self._env(args)),
                    "resources": pods.resources("1", "2Gi"),
                    "security_context": pods.container_security(UID),
                    "volume_mounts": mounts,
                }
            ],
            "volumes": volumes,
        }

    def _env(self, args: ReplicatorArgs) -> dict[str, pulumi.Input[str]]:
        uris = [(args.home, args.home_uri), *((t.cloud, t.model_uri) for t in args.federated)]
        locations = pulumi.Output.all(*(pulumi.Output.concat(cloud, "=", uri) for cloud, uri in uris))
        values: dict[str, pulumi.Input[str]] = {
            "TRAINER_REPLICATE_LOCATIONS": locations.apply(",".join),
            "TRAINER_REPLICATE_NEWEST": str(args.newest),
            "HOME": pods.TMP,
            # As the trainer image sets it, for an image built elsewhere (`training.image`): gcsfs's
            # experimental filesystem first asks for the bucket's layout, which a prefix grant refuses.
            "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
        }
        for env in [args.storage_env, *(t.access.env for t in args.federated)]:
            # Each cloud's SDK reads variables of its own: a clash would hand one cloud another's identity.
            clash = sorted(set(values) & set(env))
            if clash:
                raise ValueError(f"replicator environment: {', '.join(clash)} set for two clouds")
            values.update(env)
        return values
