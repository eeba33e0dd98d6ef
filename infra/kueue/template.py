"""The Job template users submit from (`queues.dispatch`): a suspended CronJob in the manager's team
namespace whose `jobTemplate` is a training Job for the team's MultiKueue queue.

Kubernetes has no Job template object; a CronJob that is suspended never starts a Job, and its
`jobTemplate` is a Job's labels and spec that the API server validates and that `kubectl get` returns. The
submit command (`python -m examples.submit`, docs/queues.md) reads it, names a Job after it, sets the
model version, and creates the Job in the manager's queue; MultiKueue copies it to the first worker that
admits it. The spec therefore names nothing of one cluster (infra/workloads/training.py): each worker
gives it its bucket (`trainer-env`), the workers' Service, the trainer's identity, and the pull Secret
through which its nodes pull the image from the manager's registry, which the refresher keeps fresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra import pods
from infra.workloads.training import JobTemplateArgs, job_template

NEVER = "0 0 1 1 *"
"""A schedule is required; `suspend` keeps the CronJob from ever acting on it."""


def template_name(model: str) -> str:
    return f"train-{model}"


@dataclass(frozen=True, kw_only=True)
class TemplateArgs:
    namespace: pulumi.Input[str]
    template: JobTemplateArgs
    labels: Mapping[str, str]
    ready: Sequence[pulumi.Resource]
    """The queue the template names: a Job submitted before it exists is refused by Kueue's webhook."""


class JobTemplate(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, args: TemplateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("gpu-platform:kueue:JobTemplate", name, None, opts)
        cron_job = k8s.batch.v1.CronJob(
            f"{name}-cron-job",
            metadata=pods.metadata(template_name(args.template.model_name), args.namespace, args.labels),
            spec={
                "schedule": NEVER,
                "suspend": True,
                "concurrency_policy": "Forbid",
                "job_template": job_template(args.template),
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.ready)),
        )
        self.name = cron_job.metadata.name
        self.register_outputs({"name": self.name})
