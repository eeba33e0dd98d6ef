"""What a training Job needs from the cluster it runs on, so that one Job spec runs on any of the stack's
clusters unchanged (MultiKueue copies a Job to its workers as it is; docs/queues.md):

- the ConfigMap `trainer-env`, which the trainer's container reads whole (`envFrom`): the cluster's own
  bucket as `TRAINER_BUCKET`, from which the Job's paths are built by Kubernetes' `$(VAR)` expansion, and
  the environment its cloud's storage SDK needs beside the pod's identity (never a credential);
- the headless Service `train-<model>-workers`, through which the workers find each other
  (`<job>-<index>.<service>`, from which the trainer derives `TF_CONFIG`; see trainer/distribute.py).

Every cluster that trains declares both: the home cluster, and with `queues.dispatch` each worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import pods

CONFIG_MAP = "trainer-env"
BUCKET_VAR = "TRAINER_BUCKET"
WORKER_PORT = 2222


def worker_service(model: str) -> str:
    """The workers' headless Service: one per model, shared by every Job that trains it."""
    return f"train-{model}-workers"


@dataclass(frozen=True, kw_only=True)
class TrainerEnvArgs:
    namespace: pulumi.Input[str]
    model_name: str
    bucket_uri: pulumi.Input[str]
    storage_env: Mapping[str, pulumi.Input[str]]
    labels: Mapping[str, str]
    selector: Mapping[str, str]
    """The trainer pods' labels, which the Service selects."""


class TrainerEnv(pulumi.ComponentResource):
    ready: list[pulumi.Resource]
    """The ConfigMap and the Service: a pod started before them fails to start or cannot find its peers."""

    def __init__(self, name: str, args: TrainerEnvArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:TrainerEnv", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, **args.selector}
        config = k8s.core.v1.ConfigMap(
            f"{name}-config",
            metadata=pods.metadata(CONFIG_MAP, args.namespace, labels),
            data={BUCKET_VAR: args.bucket_uri, **args.storage_env},
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-workers",
            metadata=pods.metadata(worker_service(args.model_name), args.namespace, labels),
            spec={
                "cluster_ip": "None",
                "selector": dict(args.selector),
                # Workers must resolve each other while they start, before any readiness.
                "publish_not_ready_addresses": True,
                "ports": [{"name": "worker", "port": WORKER_PORT, "target_port": WORKER_PORT}],
            },
            opts=child,
        )
        self.ready = [config, service]
        self.register_outputs({})
