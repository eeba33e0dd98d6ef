"""Training Job controls: preemption tolerance (RL-05), hygiene and scheduling onto the GPU pool (RL-06),
and checkpoints in a versioned bucket of the stack (RL-07). They hold for every Job outside kube-system;
RL-07 for those that use GPUs (the training Jobs)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policy.controls.storage_s3 import BUCKET as S3_BUCKET
from policy.controls.storage_s3 import VERSIONING, attached
from policy.model import env, k8s, kueue, pools
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, get, is_true, number, present, unknown
from policy.model.stack import Resource, Stack, Violation

MAX_BACKOFF = 10
CHECKPOINT_ENV = re.compile(r"(^|_)CHECKPOINT_DIR$")
CHECKPOINT_FLAG = "--checkpoint-dir"
URI = re.compile(r"^(s3|gs|az|abfss?)://([^/@]+)")
GCS_BUCKET = "gcp:storage/bucket:Bucket"
BLOB_CONTAINER = "azure-native:storage:BlobContainer"
BLOB_SERVICE = "azure-native:storage:BlobServiceProperties"

RL05 = control(
    "RL-05",
    "Preemption-tolerant Job",
    "Jobs ignore pod disruptions (podFailurePolicy Ignore on DisruptionTarget), restart pods never, and "
    f"bound their retries (backoffLimit at most {MAX_BACKOFF}).",
)
RL06 = control(
    "RL-06",
    "Job hygiene",
    "Jobs are cleaned up after they finish (ttlSecondsAfterFinished) and time out (a positive "
    "activeDeadlineSeconds); GPU Jobs select their pool and tolerate every taint it carries (GPU, Spot), "
    "or are queued in a LocalQueue of the stack whose every flavor does so for them (Kueue).",
)
RL07 = control(
    "RL-07",
    "Checkpoint and resume wired",
    "Training Jobs write checkpoints (CHECKPOINT_DIR or --checkpoint-dir) to a versioned bucket of this "
    "stack; the trainer resumes from them (BackupAndRestore, tested offline).",
)


def _ignores_disruption(rule: Mapping[str, Any]) -> bool:
    conditions = as_list(rule.get("onPodConditions"))
    return rule.get("action") == "Ignore" and any(c.get("type") == "DisruptionTarget" for c in conditions)


@resource_rule(RL05, k8s.JOB)
def preemption(type_: str, props: Props) -> Iterator[str]:
    if k8s.is_system(props):
        return
    rules = get(props, "spec.podFailurePolicy.rules")
    if not unknown(rules) and not any(_ignores_disruption(r) for r in as_list(rules)):
        yield "spec.podFailurePolicy.rules needs {action: Ignore, onPodConditions: [type: DisruptionTarget]}"
    if get(props, "spec.template.spec.restartPolicy") != "Never":
        yield 'spec.template.spec.restartPolicy must be "Never"'
    backoff = get(props, "spec.backoffLimit")
    if not unknown(backoff) and not (0 <= (number(backoff) or -1) <= MAX_BACKOFF):
        yield f"spec.backoffLimit must be set, at most {MAX_BACKOFF}"


@resource_rule(RL06, k8s.JOB)
def hygiene(type_: str, props: Props) -> Iterator[str]:
    if k8s.is_system(props):
        return
    if not present(get(props, "spec.ttlSecondsAfterFinished")):
        yield "spec.ttlSecondsAfterFinished must be set"
    deadline = get(props, "spec.activeDeadlineSeconds")
    if not unknown(deadline) and not (number(deadline) or 0) > 0:
        yield (
            "spec.activeDeadlineSeconds must be set and positive: a Job whose workers cannot all be "
            "scheduled holds its GPUs until then"
        )
    pod = k8s.pod_spec(type_, props) or {}
    required = get(pod, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution")
    selects = present(pod.get("nodeSelector")) or present(required) or kueue.queue_of(props)
    if k8s.uses_gpu(pod) and not selects:
        yield "a GPU Job must select its pool (nodeSelector, required node affinity, or a Kueue queue)"


@stack_rule(RL06)
def tolerates_pool(stack: Stack) -> list[Violation]:
    found = []
    index = pools.by_label(stack)
    for res, pod in k8s.workloads(stack, k8s.JOB):
        if k8s.is_system(res.props):
            continue
        if kueue.queue_of(res.props):
            found += [res.violation(RL06, m) for m in _queued_placement(stack, res, index)]
            continue
        label = (pod.get("nodeSelector") or {}).get(pools.POOL_LABEL)
        if label:
            found += [
                res.violation(RL06, m)
                for m in _placement(res, label, as_list(pod.get("tolerations")), stack, index)
            ]
    return found


def _placement(
    res: Resource,
    label: Any,
    tolerations: list[Any],
    stack: Stack,
    index: Mapping[tuple[str, str], list[pools.Pool]],
) -> Iterator[str]:
    """Problems of pods that select pool `label` with `tolerations`."""
    targets = index.get((str(res.cloud), str(label)), [])
    for pool in targets:
        for taint in pool.taints:
            if not k8s.tolerates(tolerations, taint.key, taint.value, taint.effect):
                yield f"does not tolerate {taint} of pool {pool.label}"
    if not targets and any(p.cloud == res.cloud for p in pools.pools(stack)):
        yield f"selects {pools.POOL_LABEL}={label}, which no pool carries"


def _queued_placement(
    stack: Stack, res: Resource, index: Mapping[tuple[str, str], list[pools.Pool]]
) -> Iterator[str]:
    """A queued Job's pods get the node labels and tolerations of the flavor Kueue admits them to: every
    flavor of its queue must select a pool and tolerate its taints."""
    flavors = kueue.flavors_of(stack, res)
    if flavors is None:
        yield f"its queue {kueue.queue_of(res.props)!r} is not a LocalQueue of its namespace in this stack"
        return
    if not flavors:
        yield f"its queue {kueue.queue_of(res.props)!r} admits to no flavor"
    for flavor_name, flavor in flavors:
        if flavor is None:
            yield f"flavor {flavor_name!r} of its queue is not a ResourceFlavor of this stack"
            continue
        label = (get(flavor.props, "spec.nodeLabels") or {}).get(pools.POOL_LABEL)
        if not label:
            yield f"flavor {flavor_name!r} of its queue selects no pool ({pools.POOL_LABEL})"
            continue
        tolerations = as_list(get(flavor.props, "spec.tolerations"))
        for problem in _placement(res, label, tolerations, stack, index):
            yield f"flavor {flavor_name!r}: {problem}"


def checkpoint_uris(stack: Stack, job: Resource, pod: Mapping[str, Any]) -> list[Any]:
    """Every checkpoint location a Job's containers get, from the environment (as the kubelet expands it
    in the Job's cluster) or the arguments."""
    found: list[Any] = []
    where, name = (job.cloud, k8s.namespace(job.props)), k8s.object_name(job.props, job.name)
    for c in k8s.containers(pod):
        defined = env.container_env(stack, where, c.spec, name)
        found += [value for key, value in defined.items() if CHECKPOINT_ENV.search(key)]
        args = [str(a) for a in as_list(c.spec.get("args")) + as_list(c.spec.get("command"))]
        for i, arg in enumerate(args):
            if arg == CHECKPOINT_FLAG and i + 1 < len(args):
                found.append(args[i + 1])
            elif arg.startswith(CHECKPOINT_FLAG + "="):
                found.append(arg.split("=", 1)[1])
    return found


def _versioned_bucket(stack: Stack, cloud: str | None, scheme: str, name: str) -> bool:
    if scheme == "gs":
        return any(
            b.props.get("name") == name and is_true(get(b.props, "versioning.enabled"))
            for b in stack.of(GCS_BUCKET)
            if b.cloud == cloud
        )
    if scheme == "s3":
        return any(
            any(
                get(v.props, "versioningConfiguration.status") == "Enabled"
                for v in attached(stack, b, VERSIONING)
            )
            for b in stack.of(S3_BUCKET)
            if b.props.get("bucket") == name and b.cloud == cloud
        )
    containers = [c for c in stack.of(BLOB_CONTAINER) if name in (c.props.get("containerName"), c.name)]
    versioned = any(is_true(s.props.get("isVersioningEnabled")) for s in stack.of(BLOB_SERVICE))
    return bool(containers) and versioned


def _checkpoint_problem(stack: Stack, res: Resource, uris: list[Any]) -> str | None:
    if not uris:
        return f"needs a checkpoint location (an env var ending in CHECKPOINT_DIR, or {CHECKPOINT_FLAG})"
    for uri in uris:
        if unknown(uri):
            continue
        match = URI.match(str(uri or ""))
        bucket = match[2] if match else None
        scheme = match[1] if match else ""
        if bucket and scheme.startswith("abfs"):
            bucket = bucket.split("@")[0]
        if not bucket or not _versioned_bucket(stack, res.cloud, scheme[:2], bucket):
            return f"checkpoints at {uri!r} must be in a versioned bucket of this stack"
    return None


@stack_rule(RL07)
def checkpoints(stack: Stack) -> list[Violation]:
    found = []
    for res, pod in k8s.workloads(stack, k8s.JOB):
        if k8s.is_system(res.props) or not k8s.uses_gpu(pod):
            continue
        problem = _checkpoint_problem(stack, res, checkpoint_uris(stack, res, pod))
        if problem:
            found.append(res.violation(RL07, problem))
    return found
