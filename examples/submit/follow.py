"""Following a submitted Job on the manager until it ends. The manager's Job mirrors the status of its
copy on the worker that runs it, and the manager's Workload for it (labelled with the Job's uid) names
that worker (`status.clusterName`, the MultiKueueCluster, which this stack names after the cloud) and the
state of its admission checks while it waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from examples.app.kube import Kubectl, StepError, job_state

JOB_UID_LABEL = "kueue.x-k8s.io/job-uid"
WORKLOADS = "workloads.kueue.x-k8s.io"


def follow(
    kube: Kubectl,
    name: str,
    uid: str,
    timeout: float,
    poll: float,
    *,
    say: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> str | None:
    """Say `admitted on <cloud>` when a worker admits the Job (again, should another take it over) and each
    new progress line; the cloud that ran it once it completes (None if its Workload never named one).
    StepError when it fails, is deleted, or has not completed within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    cloud, line = None, ""
    while True:
        found = kube.read("workload", WORKLOADS, f"--selector={JOB_UID_LABEL}={uid}")
        workload = ((found or {}).get("items") or [{}])[0]
        admitted = (workload.get("status") or {}).get("clusterName")
        if admitted and admitted != cloud:
            cloud = admitted
            say(f"admitted on {cloud}")
        job = kube.read("job", "job", name)
        if job is None:
            raise StepError("job", f"job {name} was deleted before it finished")
        if (now := progress(job, workload)) != line:
            line = now
            say(f"progress: {line}")
        state = job_state(job)
        if state == "complete":
            return cloud
        where = f"on {cloud}" if cloud else "before any worker admitted it"
        if state.startswith("failed"):
            raise StepError("job", f"job {name} {state} {where}")
        if time.monotonic() >= deadline:
            waited = f"admitted on {cloud}" if cloud else "not admitted by any worker"
            raise StepError("job", f"job {name} not complete after {timeout:.0f}s ({waited}; {line})")
        sleep(poll)


def progress(job: Mapping[str, Any], workload: Mapping[str, Any]) -> str:
    """The pods' counts, the Job's conditions that hold, and until a worker admits it, its checks."""
    status = job.get("status") or {}
    counts = ", ".join(f"{status.get(k, 0)} {k}" for k in ("active", "succeeded", "failed"))
    holding = [c["type"] for c in status.get("conditions") or [] if c.get("status") == "True"]
    parts = [counts, *holding]
    if not (workload.get("status") or {}).get("clusterName"):
        checks = (workload.get("status") or {}).get("admissionChecks") or []
        parts += [f"check {c['name']} {c.get('state', 'Pending')}: {c.get('message') or '-'}" for c in checks]
        parts += [] if checks else ["queued"]
    return "; ".join(parts)
