"""The `kubectl` steps of the smoke test and the submit command, each raising `StepError` with one line
that says what failed: reach the API, read or create an object, wait for a Job, wait for a Deployment's
rollout, forward a Service's port; and the stack's kubeconfigs, written where only this user reads them.

Everything goes through the real `kubectl` (or the binary `--kubectl` names), with the cloud's kubeconfig
and its exec plugin (`aws eks get-token`, `gke-gcloud-auth-plugin`, `kubelogin`), so a missing plugin or
an API endpoint that refuses this machine fails here, before any prediction is tried.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.catalog import Cloud
from infra.outputs import StackOutputs

FORWARDING = re.compile(r"Forwarding from 127\.0\.0\.1:(\d+)")
JOB_DONE = ("Complete", "SuccessCriteriaMet")
JOB_FAILED = ("Failed", "FailureTarget")


class StepError(Exception):
    """A smoke step failed; `step` names it (api, training job, serving rollout, serving, model version,
    replication, prediction)."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(f"{step}: {detail}")
        self.step, self.detail = step, detail


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


@dataclass(frozen=True)
class Kubectl:
    binary: str
    kubeconfig: Path
    namespace: str
    request_timeout: float = 20.0

    def _command(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", str(self.kubeconfig), "--namespace", self.namespace, *args]

    def run(self, *args: str, timeout: float, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                self._command(*args),
                input=stdin,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError as exc:
            raise StepError("api", f"{self.binary} not found: install kubectl") from exc
        except subprocess.TimeoutExpired as exc:
            raise StepError("api", f"kubectl {args[0]} did not finish in {timeout:.0f}s") from exc

    def reach(self) -> None:
        """The API answers `/readyz` through the kubeconfig's exec plugin."""
        limit = f"--request-timeout={self.request_timeout:.0f}s"
        done = self.run(limit, "get", "--raw", "/readyz", timeout=self.request_timeout + 30)
        if done.returncode != 0:
            raise StepError("api", f"cannot reach the Kubernetes API: {last_line(done.stderr)}")

    def read(self, step: str, *what: str) -> Any:
        """`kubectl get WHAT --output=json`, parsed; None when the object is not found."""
        done = self.run("get", *what, "--output=json", timeout=self.request_timeout + 30)
        if done.returncode != 0:
            if "NotFound" in done.stderr or "not found" in done.stderr:
                return None
            raise StepError(step, f"cannot read {' '.join(what)}: {last_line(done.stderr)}")
        return json.loads(done.stdout)

    def create(self, step: str, manifest: Mapping[str, Any]) -> Any:
        """`kubectl create --filename=-` of one object; the object the API server created."""
        done = self.run(
            "create",
            "--filename=-",
            "--output=json",
            timeout=self.request_timeout + 30,
            stdin=json.dumps(manifest),
        )
        if done.returncode != 0:
            name = manifest["metadata"]["name"]
            raise StepError(step, f"cannot create {manifest['kind']} {name}: {last_line(done.stderr)}")
        return json.loads(done.stdout)

    def wait_job(
        self, name: str, timeout: float, poll: float, sleep: Callable[[float], None] = time.sleep
    ) -> str:
        """Wait until the Job completes; its one-line state. A Job already removed after it finished
        (`ttlSecondsAfterFinished`) counts as done: the prediction then proves its model is served."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.read("training job", "job", name)
            if job is None:
                return f"job {name} is gone (removed after it finished)"
            state = job_state(job)
            if state == "complete":
                return f"job {name} complete"
            if state.startswith("failed"):
                raise StepError("training job", f"job {name} {state}")
            if time.monotonic() >= deadline:
                raise StepError("training job", f"job {name} still running after {timeout:.0f}s")
            sleep(poll)

    def rollout(self, deployment: str, timeout: float) -> str:
        done = self.run(
            "rollout", "status", f"deployment/{deployment}", f"--timeout={timeout:.0f}s", timeout=timeout + 30
        )
        if done.returncode != 0:
            detail = last_line(done.stderr or done.stdout)
            raise StepError("serving rollout", f"deployment {deployment} not rolled out: {detail}")
        return f"rollout of {deployment} complete"

    @contextmanager
    def port_forward(self, service: str, port: int, timeout: float = 30.0) -> Iterator[int]:
        """`kubectl port-forward service/NAME :PORT`; yields the local port while it runs."""
        try:
            process = subprocess.Popen(
                self._command("port-forward", f"service/{service}", f":{port}"),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        except FileNotFoundError as exc:
            raise StepError("api", f"{self.binary} not found: install kubectl") from exc
        try:
            yield _forwarded_port(process, timeout)
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def kubeconfig(outputs: StackOutputs, cloud: Cloud, directory: Path) -> Path:
    """Write the cloud's kubeconfig from the outputs into `directory`, readable by this user only (0600);
    ValueError when the outputs were read without `--show-secrets` or hold none for the cloud."""
    if not isinstance(outputs.kubeconfigs, dict):
        hint = "save the outputs with `pulumi stack output --json --show-secrets`"
        raise ValueError(f"kubeconfigs: hidden ([secret]): {hint}")
    if cloud not in outputs.kubeconfigs:
        raise ValueError(
            f"kubeconfigs: none for {cloud}, only for {', '.join(outputs.kubeconfigs) or 'no cloud'}"
        )
    path = directory / f"{cloud}.kubeconfig"
    path.touch(mode=0o600)
    path.write_text(outputs.kubeconfigs[cloud])
    return path


def job_state(job: Mapping[str, Any]) -> str:
    """`complete`, `failed (<reason>: <message>)` or `running`, from the Job's conditions: a terminal one,
    or the `SuccessCriteriaMet`/`FailureTarget` that precedes it while the pods are terminating."""
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") in JOB_DONE:
            return "complete"
        if condition.get("type") in JOB_FAILED:
            reason = condition.get("reason") or condition["type"]
            return f"failed ({reason}: {condition.get('message') or 'no message'})"
    return "running"


def _forwarded_port(process: subprocess.Popen[str], timeout: float) -> int:
    """Read kubectl's output until it says which local port it forwards (or it exits)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline, seen = time.monotonic() + timeout, list[str]()
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            raise StepError("serving", f"port-forward exited: {last_line(''.join(seen))}")
        seen.append(line)
        if match := FORWARDING.search(line):
            return int(match.group(1))
    raise StepError("serving", f"port-forward did not start in {timeout:.0f}s")
