"""A stand-in for `kubectl` in the smoke tests. Its "kubeconfig" is JSON that says how the cluster
behaves: `api` (up|down), `job` (Complete|Failed|Running|Missing), `rollout` (ok|stuck) and `forward`
(the local port that `port-forward` reports, where a TF Serving stand-in listens). Standard library only:
it starts as a fresh interpreter on every call."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def job(cluster: dict[str, Any]) -> tuple[int, str]:
    state = cluster.get("job", "Complete")
    if state == "Missing":
        return 1, 'Error from server (NotFound): jobs.batch "train" not found'
    failed = {"type": state, "status": "True", "reason": "BackoffLimitExceeded"}
    return 0, json.dumps({"status": {"conditions": [] if state == "Running" else [failed]}})


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
