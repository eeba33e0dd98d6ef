"""`python -m examples.app.smoke (--stack NAME | --outputs FILE)`: after `pulumi up`, prove each cloud of
the stack serves. `up` waits neither for the training Job nor for the serving pods, so on every cloud, in
parallel: reach the Kubernetes API, wait for the Job (`trainingJob`), wait for the rollout of
`<model>-serving`, then send one real prediction through `kubectl port-forward` (or straight to
`servingUrl` with --direct, from inside the cluster's network). Exit 1 naming every cloud that failed and
the step, 2 when the outputs cannot be used. CI runs it after every deploy; a person runs the same command
after a manual `pulumi up` (README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from examples.app import client
from examples.app.__main__ import SAMPLE
from examples.app.kube import Kubectl, StepError
from infra.catalog import Cloud
from infra.outputs import Endpoint, StackOutputs

REST_PORT = 8501
"""TF Serving's REST port on the `<model>-serving` Service (infra/clouds/base.py SERVING_PORTS)."""


@dataclass(frozen=True)
class Result:
    cloud: str
    passed: list[str]
    failure: StepError | None = None

    def line(self) -> str:
        if self.failure is None:
            return f"smoke {self.cloud}: ok - {'; '.join(self.passed)}"
        return f"smoke {self.cloud}: FAILED at {self.failure.step} - {self.failure.detail}"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m examples.app.smoke", description=__doc__)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="read `pulumi stack output --json --show-secrets --stack NAME`")
    source.add_argument("--outputs", type=Path, help="saved `pulumi stack output --json --show-secrets`")
    parser.add_argument("--cloud", action="append", help="check only this cloud (repeatable)")
    parser.add_argument("--namespace", default="ml", help="the stack's `namespace` (default: ml)")
    parser.add_argument("--model", default="digits", help="model name when servingUrl is still empty")
    parser.add_argument("--kubectl", default="kubectl", help="kubectl binary (default: kubectl on PATH)")
    parser.add_argument("--job-timeout", type=float, default=3600, help="seconds to wait for the Job")
    parser.add_argument("--rollout-timeout", type=float, default=900, help="seconds for the rollout")
    parser.add_argument("--poll", type=float, default=15, help="seconds between Job status reads")
    parser.add_argument("--timeout", type=float, default=10, help="seconds per prediction request")
    route = parser.add_mutually_exclusive_group()
    route.add_argument("--direct", action="store_true", help="predict at servingUrl, no port-forward")
    route.add_argument(
        "--url", action="append", default=[], metavar="CLOUD=URL", help="predict at URL for CLOUD"
    )
    return parser.parse_args(argv)


def load(args: argparse.Namespace) -> StackOutputs:
    if args.outputs:
        text = args.outputs.read_text()
    else:
        command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", args.stack]
        text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return StackOutputs.model_validate_json(text)


def model_of(cloud_url: str, default: str) -> str:
    """`digits` from `http://host:8501/v1/models/digits:predict`."""
    return cloud_url.rsplit("/", 1)[-1].split(":", 1)[0] if cloud_url else default


def check(cloud: Cloud, outputs: StackOutputs, kube: Kubectl, args: argparse.Namespace) -> Result:
    """The four steps on one cloud; the first that fails ends it."""
    section = outputs.clouds[cloud]
    model = model_of(section.serving_url, args.model)
    urls = dict(u.split("=", 1) for u in args.url)
    passed: list[str] = []
    try:
        kube.reach()
        passed.append("API reachable")
        passed.append(kube.wait_job(section.training_job, args.job_timeout, args.poll))
        passed.append(kube.rollout(f"{model}-serving", args.rollout_timeout))
        if cloud in urls or args.direct:
            url = urls.get(cloud) or section.serving_url
            if not url:
                raise StepError("prediction", "servingUrl is empty: the load balancer has no address yet")
            passed.append(_predict(cloud, url, args.timeout, "at " + url))
        else:
            with kube.port_forward(f"{model}-serving", REST_PORT) as port:
                url = f"http://127.0.0.1:{port}/v1/models/{model}:predict"
                passed.append(_predict(cloud, url, args.timeout, "through port-forward"))
    except StepError as exc:
        return Result(cloud, passed, exc)
    return Result(cloud, passed)


def _predict(cloud: Cloud, url: str, timeout: float, how: str) -> str:
    policy = client.Policy(timeout=timeout, attempts=3)
    try:
        found = client.predict([Endpoint(cloud=cloud, url=url)], [SAMPLE], policy)
    except client.AllEndpointsFailedError as exc:
        raise StepError("prediction", exc.failures[-1]) from exc
    scores = found.predictions[0]
    best = max(range(len(scores)), key=scores.__getitem__) if isinstance(scores, list) else scores
    return f"predicted class {best} {how}"


def run(outputs: StackOutputs, args: argparse.Namespace) -> list[Result]:
    if not isinstance(outputs.kubeconfigs, dict):
        raise ValueError("the kubeconfigs are hidden: read the outputs with --show-secrets")
    clouds = [c for c in outputs.clouds if not args.cloud or c in args.cloud]
    with tempfile.TemporaryDirectory(prefix="smoke-") as tmp, ThreadPoolExecutor(len(clouds) or 1) as pool:
        jobs = []
        for cloud in clouds:
            path = Path(tmp, f"{cloud}.kubeconfig")
            path.touch(mode=0o600)
            path.write_text(outputs.kubeconfigs[cloud])
            kube = Kubectl(args.kubectl, path, args.namespace)
            jobs.append(pool.submit(check, cloud, outputs, kube, args))
        return [job.result() for job in jobs]


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        results = run(load(args), args)
    except (ValidationError, ValueError, OSError, subprocess.CalledProcessError, json.JSONDecodeError) as exc:
        print(f"smoke: cannot use the stack outputs: {exc}", file=sys.stderr)
        return 2
    annotate = os.environ.get("GITHUB_ACTIONS") == "true"
    for result in results:
        print(result.line(), flush=True)
        if result.failure and annotate:
            print(f"::error title=smoke test failed on {result.cloud}::{result.line()}")
    failed = [r.cloud for r in results if r.failure]
    print(f"smoke: failed on {', '.join(failed)}" if failed else f"smoke: passed on {len(results)} clouds")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
