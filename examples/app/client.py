"""Predictions with failover: each endpoint in the stack's order, a few attempts with exponential backoff
and jitter on errors that may pass (connection refused or reset, timeouts, 5xx, 429), then the next cloud;
an answer the endpoint will keep giving (another 4xx, a malformed body) moves on at once."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra.outputs import Endpoint, StackOutputs

Instances = list[Any]
# Internal load balancers sit in private networks that a corporate proxy cannot reach.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Policy:
    timeout: float = 5.0
    """Seconds for one request, connect and read together."""
    attempts: int = 3
    """Tries per endpoint before the next cloud."""
    backoff: float = 0.2
    max_backoff: float = 2.0


@dataclass(frozen=True)
class Prediction:
    cloud: str
    url: str
    predictions: list[Any]
    failures: list[str] = field(default_factory=list)
    """What failed before this answer, one line each."""


class RetryableError(Exception):
    pass


class EndpointError(Exception):
    pass


class AllEndpointsFailedError(Exception):
    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__("no endpoint answered:\n" + "\n".join(f"  {f}" for f in failures))
        self.failures = list(failures)


def load(path: str | None = None, stack: str | None = None) -> StackOutputs:
    """The stack outputs from a saved file (`-` for stdin), else from `pulumi stack output`."""
    if path == "-":
        text = sys.stdin.read()
    elif path:
        text = Path(path).read_text()
    else:
        command = [
            "pulumi",
            "stack",
            "output",
            "--json",
            *(["--stack", stack] if stack else []),
        ]
        text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return StackOutputs.model_validate_json(text)


def post(url: str, instances: Instances, timeout: float) -> list[Any]:
    """One TF Serving REST predict call (`{"instances": [...]}` -> `{"predictions": [...]}`)."""
    body = json.dumps({"instances": instances}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as exc:
        kind = RetryableError if exc.code >= 500 or exc.code == 429 else EndpointError
        raise kind(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:  # refused, reset, DNS, timeouts
        raise RetryableError(str(getattr(exc, "reason", exc))) from exc
    except json.JSONDecodeError as exc:
        raise EndpointError("response is not JSON") from exc
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != len(instances):
        raise EndpointError("response has no predictions for the instances")
    return predictions


def predict(
    endpoints: Sequence[Endpoint],
    instances: Instances,
    policy: Policy = Policy(),
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
) -> Prediction:
    """The first endpoint's answer that succeeds, in order; `AllEndpointsFailedError` if none does."""
    failures: list[str] = []
    for endpoint in endpoints:
        if not endpoint.url:
            failures.append(f"{endpoint.cloud}: no address yet")
            continue
        for attempt in range(1, policy.attempts + 1):
            try:
                found = post(endpoint.url, instances, policy.timeout)
                return Prediction(endpoint.cloud, endpoint.url, found, failures)
            except RetryableError as exc:
                failures.append(f"{endpoint.cloud} attempt {attempt}: {exc}")
                if attempt < policy.attempts:
                    delay = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
                    sleep(delay * (0.5 + jitter() / 2))  # jitter spreads clients that failed together
            except EndpointError as exc:
                failures.append(f"{endpoint.cloud} attempt {attempt}: {exc}")
                break
    raise AllEndpointsFailedError(failures)
