"""A stand-in for `kubectl` in the smoke and submit tests. Its "kubeconfig" is JSON that says how the
cluster behaves: `api` (up|down), `job` (Complete|Failed|Running|Missing), `rollout` (ok|stuck) and
`forward` (the local port that `port-forward` reports, where a TF Serving stand-in listens); for submit,
`cronjob` (the template `get cronjob` returns, else NotFound), `jobs` and `workloads` (the Job's status
and its Workload's, one per successive read, the last repeated) and `record` (a folder where it keeps
the reads it answered and the object `create` was given, `created.json`). Standard library only: it
starts as a fresh interpreter on every call."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

UID = "5b1f8c2e-0000-4000-8000-000000000001"


def job(cluster: dict[str, Any]) -> tuple[int, str]:
    state = cluster.get("job", "Complete")
    if state == "Missing":
        return 1, 'Error from server (NotFound): jobs.batch "train" not found'
    failed = {"type": state, "status": "True", "reason": "BackoffLimitExceeded"}
    return 0, json.dumps({"status": {"conditions": [] if state == "Running" else [failed]}})


def nth(cluster: dict[str, Any], key: str) -> Any:
    """The entry of `cluster[key]` for this read: one more than the reads of `key` recorded."""
    calls = Path(cluster["record"], "calls")
    done = calls.read_text().splitlines() if calls.exists() else []
    with calls.open("a") as log:
        log.write(key + "\n")
    return cluster[key][min(done.count(key), len(cluster[key]) - 1)]


def create(cluster: dict[str, Any]) -> tuple[int, str]:
    manifest = json.load(sys.stdin)
    Path(cluster["record"], "created.json").write_text(json.dumps(manifest))
    return 0, json.dumps({**manifest, "metadata": {**manifest["metadata"], "uid": UID}})


def workloads(cluster: dict[str, Any], argv: list[str]) -> tuple[int, str]:
    """The Workload of the created Job, when asked for it by its uid."""
    mine = f"--selector=kueue.x-k8s.io/job-uid={UID}" in argv
    items = [{"status": nth(cluster, "workloads")}] if mine else []
    return 0, json.dumps({"items": items})


def rollout(cluster: dict[str, Any]) -> tuple[int, str]:
    if cluster.get("rollout") == "stuck":
        return 1, 'error: deployment "digits-serving" exceeded its progress deadline'
    return 0, 'deployment "digits-serving" successfully rolled out'


def main(argv: list[str]) -> int:
    with open(argv[argv.index("--kubeconfig") + 1]) as config:
        cluster = json.load(config)
    verbs = [a for a in argv if not a.startswith("-")]
    if cluster.get("api") == "down":
        code, text = 1, "Unable to connect to the server: dial tcp 192.0.2.1:443: i/o timeout"
    elif "--raw" in argv:
        code, text = 0, "ok"
    elif "create" in verbs:
        code, text = create(cluster)
    elif "cronjob" in verbs:
        found = "cronjob" in cluster
        code, text = (0, json.dumps(cluster["cronjob"])) if found else (1, "Error from server (NotFound)")
    elif "workloads.kueue.x-k8s.io" in verbs:
        code, text = workloads(cluster, argv)
    elif "job" in verbs and "jobs" in cluster:
        code, text = 0, json.dumps({"status": nth(cluster, "jobs")})
    elif "job" in verbs:
        code, text = job(cluster)
    elif "rollout" in verbs:
        code, text = rollout(cluster)
    elif "port-forward" in verbs:
        print(f"Forwarding from 127.0.0.1:{cluster['forward']} -> 8501", flush=True)
        time.sleep(60)
        return 0
    else:
        code, text = 2, f"fake kubectl: unexpected {argv}"
    print(text, file=sys.stderr if code else sys.stdout)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
