"""The training Job: an Indexed Job of `workers` pods, one per TensorFlow worker, and a headless Service
through which the workers find each other (`<job>-<index>.<service>`, from which the trainer derives
`TF_CONFIG`; see training/trainer/distribute.py).

The pod runs the trainer's commands as one short shell chain in one container:

    prepare-data (when a data source is set) -> train -> evaluate -> export   (the last two on worker 0)

rather than as init containers, because evaluate and export must run on worker 0 only, which an init
container cannot express, and one container keeps its GPU, its staged data and one log from start to end.
`prepare-data` runs on every worker: it is deterministic and each file is published atomically, so
concurrent runs write the same bytes, and no worker has to wait for another. `set -e` ends the chain at
the first failure with that command's status, so a usage error (status 2) fails the Job at once.

The Job name carries a hash of the image reference and the training config: any change to either is a
new Job (Pulumi replaces it), and a pod restarted within one Job resumes from that Job's checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import naming, pods
from infra.config.types import Training
from infra.kueue import QUEUE_LABEL
from infra.pods import Obj

APP = "trainer"
UID = 10001
"""The trainer image's user (training/Dockerfile)."""
WORKER_PORT = 2222
USAGE_ERROR = 2
"""The trainer's exit status for bad options or data layout (trainer/errors.py): retrying cannot help."""
RETRIES_PER_WORKER = 3
TTL_SECONDS = 7 * 24 * 3600
"""A finished Job stays a week for its logs; after that, `pulumi refresh` would see it gone and the next
`up` would run it again, resuming from its checkpoints."""
SCRATCH = "20Gi"
CHAIN = """set -eu
if [ -n "${TRAINER_SOURCE:-}" ]; then python -m trainer prepare-data; fi
python -m trainer train
if [ "${JOB_COMPLETION_INDEX:-0}" = 0 ]; then
  python -m trainer evaluate
  python -m trainer export
fi
"""


def job_name(model: str, image: str, training: Training) -> str:
    """`train-<model>-<hash>`: short enough for pod host names (`<job>-<index>`, 63 characters at most)."""
    return f"train-{model}-{naming.short_hash(image, training.model_dump_json())}"


def data_uri(bucket: str, source: str) -> str:
    """Where prepared data lives: per source, so different sources never overwrite each other."""
    if not source:
        return f"{bucket}/data/prepared"
    return f"{bucket}/data/{source if source == 'digits' else 'src-' + naming.short_hash(source)}"


@dataclass(frozen=True, kw_only=True)
class TrainingJobArgs:
    namespace: pulumi.Input[str]
    image: pulumi.Input[str]
    training: Training
    queue: str
    """The LocalQueue of the namespace that admits the Job: Kueue picks the pool (a flavor), and adds its
    node selector and tolerations to the pods when it admits all the workers at once."""
    queue_ready: Sequence[pulumi.Resource]
    model_name: str
    bucket_uri: pulumi.Input[str]
    model_uri: pulumi.Input[str]
    """Where `export` commits the versions: the model base path serving and the replicator read."""
    service_account: pulumi.Input[str]
    pod_labels: Mapping[str, str]
    storage_env: Mapping[str, pulumi.Input[str]]
    grace_seconds: int
    """How long a pod has between SIGTERM and SIGKILL: the cloud's spot reclaim notice, in which the
    trainer writes a last checkpoint."""
    identity_ready: Sequence[pulumi.Resource]
    """The cloud side of the trainer's identity; pods created before it get no credentials."""
    labels: Mapping[str, str]
    selector: Mapping[str, str]


class TrainingJob(pulumi.ComponentResource):
    job_name: pulumi.Output[str]
    model_uri: pulumi.Output[str]

    def __init__(self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:TrainingJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {**args.labels, **args.selector}
        service_name = f"train-{args.model_name}-workers"
        k8s.core.v1.Service(
            f"{name}-workers",
            metadata=pods.metadata(service_name, args.namespace, labels),
            spec={
                "cluster_ip": "None",
                "selector": dict(args.selector),
                # Workers must resolve each other while they start, before any readiness.
                "publish_not_ready_addresses": True,
                "ports": [{"name": "worker", "port": WORKER_PORT, "target_port": WORKER_PORT}],
            },
            opts=child,
        )
        # The name is known before the Job exists, and its pods need it (TRAINER_JOB_NAME).
        self._job_name = pulumi.Output.from_input(args.image).apply(
            lambda image: job_name(args.model_name, image, args.training)
        )
        self.model_uri = pulumi.Output.from_input(args.model_uri)
        job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata={
                **pods.metadata(self._job_name, args.namespace, {**labels, QUEUE_LABEL: args.queue}),
                "annotations": pods.SKIP_AWAIT,
            },
            spec=self._spec(args, service_name),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*args.identity_ready, *args.queue_ready],
                # Kueue owns `suspend` once the Job exists: an update that set it back would stop a
                # running Job (its pods deleted, training resumed from the last checkpoint).
                ignore_changes=["spec.suspend"],
            ),
        )
        self.job_name = job.metadata.name
        self.register_outputs({"jobName": self.job_name, "modelUri": self.model_uri})

    def _spec(self, args: TrainingJobArgs, service_name: str) -> Obj:
        workers = args.training.workers
        return {
            # Created suspended: Kueue's webhook would suspend it too, but a Job must never start before
            # its queue admits every worker.
            "suspend": True,
            "completion_mode": "Indexed",
            "completions": workers,
            "parallelism": workers,
            # Each worker may fail a few times; a worker that runs out fails the Job at once, because the
            # others cannot finish their collective steps without it.
            "backoff_limit_per_index": RETRIES_PER_WORKER,
            "max_failed_indexes": 0,
            "backoff_limit": RETRIES_PER_WORKER * workers,
            "pod_failure_policy": {
                "rules": [
                    {
                        "action": "FailJob",
                        "on_exit_codes": {"container_name": APP, "operator": "In", "values": [USAGE_ERROR]},
                    },
                    # Preemption, eviction or a spot reclaim is not the pod's fault: retry without counting
                    # it, and the new pod resumes from the checkpoints.
                    {
                        "action": "Ignore",
                        "on_pod_conditions": [{"type": "DisruptionTarget", "status": "True"}],
                    },
                ]
            },
            "ttl_seconds_after_finished": TTL_SECONDS,
            # A Job whose workers cannot all be scheduled would otherwise hold the GPUs it got forever.
            "active_deadline_seconds": args.training.active_deadline_hours * 3600,
            "template": {
                "metadata": {"labels": {**args.labels, **args.selector, **args.pod_labels}},
                "spec": self._pod(args, service_name),
            },
        }

    def _pod(self, args: TrainingJobArgs, service_name: str) -> Obj:
        volume, mount = pods.scratch("tmp", pods.TMP, SCRATCH)
        t = args.training
        return {
            "restart_policy": "Never",
            "subdomain": service_name,
            "service_account_name": args.service_account,
            "automount_service_account_token": False,
            "security_context": pods.pod_security(UID),
            # The GPU taint every GPU pool carries; Kueue adds the pool's node selector and, on spot, the
            # spot taint's toleration, from the flavor it admits the Job to.
            "tolerations": [pods.GPU_TOLERATION],
            "termination_grace_period_seconds": args.grace_seconds,
            "containers": [
                {
                    "name": APP,
                    "image": args.image,
                    "command": ["/bin/sh", "-c", CHAIN],
                    "env": pods.env(self._env(args, service_name)),
                    "ports": [{"name": "worker", "container_port": WORKER_PORT}],
                    "resources": pods.resources(t.cpu, t.memory, t.gpus_per_worker),
                    "security_context": pods.container_security(UID),
                    "volume_mounts": [mount],
                }
            ],
            "volumes": [volume],
        }

    def _env(self, args: TrainingJobArgs, service_name: str) -> dict[str, pulumi.Input[str]]:
        """Every option as a `TRAINER_*` variable (trainer/cli.py); the run's directory is per Job."""
        t, bucket = args.training, pulumi.Output.from_input(args.bucket_uri)
        run = pulumi.Output.concat(bucket, "/training/", self._job_name)
        values: dict[str, pulumi.Input[str]] = {
            "TRAINER_DATA": bucket.apply(lambda b: data_uri(b, t.data_source)),
            "TRAINER_MODEL_DIR": run,
            "TRAINER_CHECKPOINT_DIR": pulumi.Output.concat(run, "/checkpoints"),
            "TRAINER_EXPORT_DIR": self.model_uri,
            "TRAINER_EPOCHS": str(t.epochs),
            "TRAINER_BATCH_SIZE": str(t.batch_size),
            "TRAINER_WORKERS": str(t.workers),
            "TRAINER_JOB_NAME": self._job_name,
            "TRAINER_WORKER_SERVICE": service_name,
            "TRAINER_WORKER_PORT": str(WORKER_PORT),
            # The trainer exits with a clear error, instead of training on CPU, when it sees fewer.
            "TRAINER_EXPECT_GPUS": str(t.gpus_per_worker),
        }
        if t.data_source:
            values["TRAINER_SOURCE"] = t.data_source
        return {**values, **args.storage_env}
