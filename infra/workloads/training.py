"""The training Job: an Indexed Job of `workers` pods, one per TensorFlow worker, which find each other
through the cluster's headless worker Service (infra/workloads/trainer_env.py).

The pod runs the trainer's commands as one short shell chain in one container:

    prepare-data (when a data source is set) -> train -> evaluate -> export   (the last two on worker 0)

rather than as init containers, because evaluate and export must run on worker 0 only, which an init
container cannot express, and one container keeps its GPU, its staged data and one log from start to end.
`prepare-data` runs on every worker: it is deterministic and each file is published atomically, so
concurrent runs write the same bytes, and no worker has to wait for another. `set -e` ends the chain at
the first failure with that command's status, so a usage error (status 2) fails the Job at once.

The spec (`job_template`) names nothing of one cluster: the bucket comes from the cluster's `trainer-env`
ConfigMap and the run's directory from the Job's own name, both by Kubernetes' `$(VAR)` expansion, so the
same spec trains on the home cluster (the stack's Job) and on any MultiKueue worker (the Jobs users submit
from the manager's template, infra/kueue/template.py).

The stack's Job name carries a hash of the image reference and the training config: any change to either
is a new Job (Pulumi replaces it), and a pod restarted within one Job resumes from that Job's checkpoints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra import naming, pods
from infra.clouds.base import MODELS_PREFIX
from infra.config.types import Training
from infra.kueue import QUEUE_LABEL
from infra.pods import Obj
from infra.workloads.trainer_env import BUCKET_VAR, CONFIG_MAP, WORKER_PORT, worker_service

APP = "trainer"
UID = 10001
"""The trainer image's user (training/Dockerfile)."""
USAGE_ERROR = 2
"""The trainer's exit status for bad options or data layout (trainer/errors.py): retrying cannot help."""
RETRIES_PER_WORKER = 3
TTL_SECONDS = 7 * 24 * 3600
"""A finished Job stays a week for its logs; after that, `pulumi refresh` would see it gone and the next
`up` would run it again, resuming from its checkpoints."""
SCRATCH = "20Gi"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
"""The label the Job controller puts on every pod of a Job: how a pod learns its Job's name."""
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


def var(name: str) -> str:
    """A reference Kubernetes expands in a container's env, command and args to an earlier variable."""
    return f"$({name})"


@dataclass(frozen=True, kw_only=True)
class JobTemplateArgs:
    """What a training Job's spec is built from; nothing in it belongs to one cluster."""

    image: pulumi.Input[str]
    training: Training
    model_name: str
    queue: str
    """The LocalQueue of the namespace that admits the Job: Kueue picks the pool (a flavor), and adds its
    node selector and tolerations to the pods when it admits all the workers at once."""
    service_account: pulumi.Input[str]
    pod_labels: Mapping[str, str]
    """The trainer's identity labels of every cluster the Job may run on (a label one cloud needs means
    nothing to the others)."""
    grace_seconds: int
    """How long a pod has between SIGTERM and SIGKILL: the longest spot reclaim notice of those clusters,
    in which the trainer writes a last checkpoint."""
    labels: Mapping[str, str]
    selector: Mapping[str, str]
    pull_secrets: Sequence[str] = ()
    """Image pull Secrets, for clusters whose nodes cannot pull the image by their own identity."""
    managed_by: str | None = None
    """The controller that owns the Job instead of Kubernetes' Job controller (MultiKueue on a manager)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """More trainer options, beside those from `training`."""


def job_template(args: JobTemplateArgs) -> Obj:
    """A training Job's metadata labels and spec, as a CronJob's `job_template` holds them."""
    return {
        "metadata": {"labels": {**args.labels, **args.selector, QUEUE_LABEL: args.queue}},
        "spec": _spec(args),
    }


def _spec(args: JobTemplateArgs) -> Obj:
    workers = args.training.workers
    spec: Obj = {
        # Created suspended: Kueue's webhook would suspend it too, but a Job must never start before its
        # queue admits every worker.
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
                # Preemption, eviction or a spot reclaim is not the pod's fault: retry without counting it,
                # and the new pod resumes from the checkpoints.
                {"action": "Ignore", "on_pod_conditions": [{"type": "DisruptionTarget", "status": "True"}]},
            ]
        },
        "ttl_seconds_after_finished": TTL_SECONDS,
        # A Job whose workers cannot all be scheduled would otherwise hold the GPUs it got forever.
        "active_deadline_seconds": args.training.active_deadline_hours * 3600,
        "template": {
            "metadata": {"labels": {**args.labels, **args.selector, **args.pod_labels}},
            "spec": _pod(args),
        },
    }
    if args.managed_by:
        spec["managed_by"] = args.managed_by
    return spec


def _pod(args: JobTemplateArgs) -> Obj:
    volume, mount = pods.scratch("tmp", pods.TMP, SCRATCH)
    t = args.training
    service = worker_service(args.model_name)
    pod: Obj = {
        "restart_policy": "Never",
        "subdomain": service,
        "service_account_name": args.service_account,
        "automount_service_account_token": False,
        "security_context": pods.pod_security(UID),
        # The GPU taint every GPU pool carries; Kueue adds the pool's node selector and, on spot, the spot
        # taint's toleration, from the flavor it admits the Job to.
        "tolerations": [pods.GPU_TOLERATION],
        "termination_grace_period_seconds": args.grace_seconds,
        "containers": [
            {
                "name": APP,
                "image": args.image,
                "command": ["/bin/sh", "-c", CHAIN],
                "env_from": [{"config_map_ref": {"name": CONFIG_MAP}}],
                "env": _env(args, service),
                "ports": [{"name": "worker", "container_port": WORKER_PORT}],
                "resources": pods.resources(t.cpu, t.memory, t.gpus_per_worker),
                "security_context": pods.container_security(UID),
                "volume_mounts": [mount],
            }
        ],
        "volumes": [volume],
    }
    if args.pull_secrets:
        pod["image_pull_secrets"] = [{"name": name} for name in args.pull_secrets]
    return pod


def _env(args: JobTemplateArgs, service: str) -> list[Obj]:
    """Every option as a `TRAINER_*` variable (trainer/cli.py). The run's directory is per Job, named after
    it; the job name comes first, because a `$(VAR)` reference expands only to a variable defined before."""
    t, bucket = args.training, var(BUCKET_VAR)
    run = f"{bucket}/training/{var('TRAINER_JOB_NAME')}"
    values = {
        "TRAINER_DATA": data_uri(bucket, t.data_source),
        "TRAINER_MODEL_DIR": run,
        "TRAINER_CHECKPOINT_DIR": f"{run}/checkpoints",
        "TRAINER_EXPORT_DIR": f"{bucket}/{MODELS_PREFIX}{args.model_name}",
        "TRAINER_EPOCHS": str(t.epochs),
        "TRAINER_BATCH_SIZE": str(t.batch_size),
        "TRAINER_WORKERS": str(t.workers),
        "TRAINER_WORKER_SERVICE": service,
        "TRAINER_WORKER_PORT": str(WORKER_PORT),
        # The trainer exits with a clear error, instead of training on CPU, when it sees fewer.
        "TRAINER_EXPECT_GPUS": str(t.gpus_per_worker),
        **({"TRAINER_SOURCE": t.data_source} if t.data_source else {}),
        **args.env,
    }
    job = {
        "name": "TRAINER_JOB_NAME",
        "value_from": {"field_ref": {"field_path": f"metadata.labels['{JOB_NAME_LABEL}']"}},
    }
    return [job, *pods.env(values)]


@dataclass(frozen=True, kw_only=True)
class TrainingJobArgs:
    namespace: pulumi.Input[str]
    template: JobTemplateArgs
    ready: Sequence[pulumi.Resource]
    """The trainer's identity on the cloud side (pods created before it get no credentials), the queue,
    and the cluster's trainer environment."""


class TrainingJob(pulumi.ComponentResource):
    """The stack's own training Job, named for its image and training config."""

    job_name: pulumi.Output[str]

    def __init__(self, name: str, args: TrainingJobArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:workloads:TrainingJob", name, None, opts)
        t = args.template
        template = job_template(t)
        named = pulumi.Output.from_input(t.image).apply(
            lambda image: job_name(t.model_name, image, t.training)
        )
        job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata={
                **pods.metadata(named, args.namespace, template["metadata"]["labels"]),
                "annotations": pods.SKIP_AWAIT,
            },
            spec=template["spec"],
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.ready),
                # Kueue owns `suspend` once the Job exists: an update that set it back would stop a running
                # Job (its pods deleted, training resumed from the last checkpoint).
                ignore_changes=["spec.suspend"],
            ),
        )
        self.job_name = job.metadata.name
        self.register_outputs({"jobName": self.job_name})
