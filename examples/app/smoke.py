"""`python -m examples.app.smoke (--stack NAME | --outputs FILE)`: after `pulumi up`, prove each cloud of
the stack serves, and serves the home cloud's model. `up` waits neither for the training Job nor for the
serving pods, so on every cloud, in parallel: reach the Kubernetes API; on the home cloud (the one with
`training`) wait for the Job, for the rollout of `<model>-serving`, and read the version TF Serving serves;
on the others wait for that version, then for the rollout, then until their TF Serving reports that
version (or a newer one) AVAILABLE, which proves the replicator reached them; everywhere, send one real
prediction pinned to the version through `kubectl port-forward` (or straight to `servingUrl` with
--direct, from inside the cluster's network; behind the serving gateway, with the first client's key from
`apiKeys`). Exit 1 naming every cloud that failed and the step, 2 when
the outputs cannot be used. CI runs it after every deploy; a person runs the same command after a manual
`pulumi up` (README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from examples.app import client
from examples.app.__main__ import SAMPLE
from examples.app.kube import Kubectl, StepError, kubeconfig
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
    parser.add_argument("--cloud", action="append", help="check this cloud and the home (repeatable)")
    parser.add_argument("--namespace", default="ml", help="the stack's `namespace` (default: ml)")
    parser.add_argument("--kubectl", default="kubectl", help="kubectl binary (default: kubectl on PATH)")
    parser.add_argument("--job-timeout", type=float, default=3600, help="seconds to wait for the Job")
    parser.add_argument("--rollout-timeout", type=float, default=900, help="seconds for the rollout")
    parser.add_argument(
        "--replication-timeout", type=float, default=1800, help="seconds for the home's version to arrive"
    )
    parser.add_argument("--poll", type=float, default=15, help="seconds between status reads")
    parser.add_argument("--timeout", type=float, default=10, help="seconds per HTTP request")
    route = parser.add_mutually_exclusive_group()
    route.add_argument("--direct", action="store_true", help="predict at servingUrl, no port-forward")
    route.add_argument(
        "--url", action="append", default=[], metavar="CLOUD=URL", help="predict at URL for CLOUD"
    )
    parser.add_argument(
        "--ca-file",
        type=Path,
        metavar="PATH",
        help="a CA bundle trusted besides the system's, for https URLs",
    )
    return parser.parse_args(argv)


def access(outputs: StackOutputs, ca_file: Path | None) -> client.Access:
    """The first client's key when the clouds sit behind the serving gateway, for --direct and https
    `--url`s; the port-forward reaches TF Serving itself, over http, where no key is sent."""
    serving, keys = outputs.serving, outputs.api_keys
    if serving is None or not isinstance(keys, dict):
        return client.Access(ca_file=ca_file)
    name = next((c for c in serving.clients if c in keys), None)
    return client.Access(keys[name] if name else None, serving.key_header, ca_file)


def load(args: argparse.Namespace) -> StackOutputs:
    if args.outputs:
        text = args.outputs.read_text()
    else:
        command = ["pulumi", "stack", "output", "--json", "--show-secrets", "--stack", args.stack]
        text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return StackOutputs.model_validate_json(text)


def check(
    cloud: Cloud, outputs: StackOutputs, kube: Kubectl, args: argparse.Namespace, home: Future[int]
) -> Result:
    """The steps on one cloud; the first that fails ends it. The home cloud resolves `home` with the
    version it serves, or cancels it when it fails first; the others wait for it."""
    section = outputs.clouds[cloud]
    model, trained_on = section.model.name, section.model.trained_on
    keyed = access(outputs, args.ca_file)
    passed: list[str] = []
    try:
        kube.reach()
        passed.append("API reachable")
        if section.training:
            passed.append(kube.wait_job(section.training.job, args.job_timeout, args.poll))
        else:
            wanted = _home_version(home, trained_on)
        passed.append(kube.rollout(f"{model}-serving", args.rollout_timeout))
        with _serving(cloud, model, section.serving_url, kube, args) as (url, how):
            if section.training:
                version = _await_version("model version", url, 1, args.rollout_timeout, args, keyed=keyed)
                home.set_result(version)
                passed.append(f"serves version {version}")
            else:
                version = _await_version(
                    "replication", url, wanted, args.replication_timeout, args, keyed=keyed
                )
                passed.append(f"serves version {version}, replicated from {trained_on}")
            passed.append(_predict(cloud, url, version, args.timeout, how, keyed=keyed))
    except StepError as exc:
        return Result(cloud, passed, exc)
    finally:
        if section.training:
            home.cancel()  # no-op once resolved
    return Result(cloud, passed)


def _home_version(home: Future[int], trained_on: Cloud) -> int:
    """The version the home cloud serves, once its check has read it."""
    try:
        return home.result()
    except CancelledError as exc:
        raise StepError("replication", f"no version to wait for: the home cloud {trained_on} failed") from exc


@contextmanager
def _serving(
    cloud: Cloud, model: str, serving_url: str, kube: Kubectl, args: argparse.Namespace
) -> Iterator[tuple[str, str]]:
    """The predict URL to use, and how it is reached: `--url`, `--direct` or a port-forward."""
    urls = dict(u.split("=", 1) for u in args.url)
    if cloud in urls or args.direct:
        url = urls.get(cloud) or serving_url
        if not url:
            raise StepError("serving", "servingUrl is empty: the load balancer has no address yet")
        yield url, "at " + url
    else:
        with kube.port_forward(f"{model}-serving", REST_PORT) as port:
            yield f"http://127.0.0.1:{port}/v1/models/{model}:predict", "through port-forward"


def _await_version(
    step: str, url: str, at_least: int, timeout: float, args: argparse.Namespace, *, keyed: client.Access
) -> int:
    """Read TF Serving's model status until it reports a version >= `at_least` AVAILABLE; the newest."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            versions = client.available(url, args.timeout, keyed)
            state = f"serves {sorted(versions)}" if versions else "serves no version"
        except client.KeyRefusedError as exc:
            raise StepError(step, f"model status: {exc}") from exc
        except (client.RetryableError, client.EndpointError) as exc:
            versions, state = set(), f"model status: {exc}"
        if versions and max(versions) >= at_least:
            return max(versions)
        if time.monotonic() >= deadline:
            wanted = f"version {at_least}" if at_least > 1 else "a version"
            raise StepError(step, f"{state} after {timeout:.0f}s, not {wanted}")
        time.sleep(args.poll)


def _predict(cloud: Cloud, url: str, version: int, timeout: float, how: str, *, keyed: client.Access) -> str:
    policy = client.Policy(timeout=timeout, attempts=3)
    endpoint = Endpoint(cloud=cloud, url=url)
    try:
        found = client.predict([endpoint], [SAMPLE], policy, pin=client.Pin(version), access=keyed)
    except client.KeyRefusedError as exc:
        raise StepError("prediction", str(exc)) from exc
    except client.AllEndpointsFailedError as exc:
        raise StepError("prediction", exc.failures[-1]) from exc
    scores = found.predictions[0]
    best = max(range(len(scores)), key=scores.__getitem__) if isinstance(scores, list) else scores
    return f"predicted class {best} with version {version} {how}"


def run(outputs: StackOutputs, args: argparse.Namespace) -> list[Result]:
    """Every cloud asked for, and the home cloud, whose version the others are compared with."""
    homes = [c for c, section in outputs.clouds.items() if section.training]
    if len(homes) != 1:
        raise ValueError(f"one cloud must have `training` (the home cloud), not {len(homes)}")
    clouds = [c for c in outputs.clouds if not args.cloud or c in args.cloud or c in homes]
    home: Future[int] = Future()
    with tempfile.TemporaryDirectory(prefix="smoke-") as tmp, ThreadPoolExecutor(len(clouds)) as pool:
        jobs = []
        for cloud in clouds:
            kube = Kubectl(args.kubectl, kubeconfig(outputs, cloud, Path(tmp)), args.namespace)
            jobs.append(pool.submit(check, cloud, outputs, kube, args, home))
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
