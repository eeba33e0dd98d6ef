"""Predictions with failover: each endpoint in the stack's order, a few attempts with exponential backoff
and jitter on errors that may pass (connection refused or reset, timeouts, 5xx, 429), then the next cloud;
an answer the endpoint will keep giving (another 4xx, a malformed body, a certificate that does not verify)
moves on at once.

With a `Pin`, every cloud is asked for one model version (`/v1/models/<name>/versions/<v>:predict`), so a
failover never changes the version that answers; `pin` chooses it through TF Serving's model-status API
(`GET /v1/models/<name>`).

Behind the serving gateway (`serving` in the stack outputs) the URLs are https and a request carries a
client's key (`Access`): TLS is always verified, against the system's CAs and `Access.ca_file`; a key is
sent over https only. A gateway that refuses the key (401, 403) ends the failover at once
(`KeyRefusedError`): every cloud holds the same keys, so no other would take it."""

from __future__ import annotations

import functools
import json
import random
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from infra.outputs import StackOutputs

Instances = list[Any]
Scope = Literal["every", "first"]
KEY_HEADER = "x-api-key"
"""The header the serving gateway reads a client's key from (`serving.keyHeader`)."""
_PREDICT_URL = re.compile(r"^(?P<model>.+/v1/models/[^/:]+):predict$")


class Target(Protocol):
    """What the failover needs of an endpoint: a name for its messages and a predict URL. The stack
    outputs' `Endpoint`s are targets, and so is `Local`."""

    @property
    def cloud(self) -> str: ...

    @property
    def url(self) -> str: ...


@dataclass(frozen=True)
class Local:
    """One predict URL under a name of the caller's choosing: `local` for one TF Serving REST server such
    as `python -m trainer serve` here, `global` for the serving gateway's global name, which answers from
    whichever healthy cloud DNS sends the request to."""

    url: str
    cloud: str = "local"


@dataclass(frozen=True)
class Access:
    """How requests reach the servers: the API key, sent in `header` to https URLs only (None: no key), and
    a CA bundle trusted besides the system's, for a private or test CA (None: the system's alone)."""

    key: str | None = None
    header: str = KEY_HEADER
    ca_file: Path | None = None

    def headers(self, url: str) -> dict[str, str]:
        """The key's header for `url`: none over plain http, where anyone on the path would read it."""
        return {self.header: self.key} if self.key and url.startswith("https://") else {}

    def opener(self) -> urllib.request.OpenerDirector:
        """The opener for every request; `OSError` (or `ssl.SSLError`) if `ca_file` cannot be loaded."""
        return _opener(self.ca_file)


@dataclass(frozen=True)
class Policy:
    timeout: float = 5.0
    """Seconds for one request, connect and read together."""
    attempts: int = 3
    """Tries per endpoint before the next cloud."""
    backoff: float = 0.2
    max_backoff: float = 2.0


@dataclass(frozen=True)
class Pin:
    """The model version every cloud is asked for."""

    version: int
    skip: frozenset[str] = frozenset()
    """Clouds known not to serve it: left out of the failover."""
    failures: list[str] = field(default_factory=list)
    """Why each of them was left out, and the status reads that failed, one line each."""


@dataclass(frozen=True)
class Prediction:
    cloud: str
    url: str
    predictions: list[Any]
    version: int | None = None
    """The pinned version that answered; None unpinned (TF Serving's REST predict does not say)."""
    failures: list[str] = field(default_factory=list)
    """What failed before this answer, one line each."""


class RetryableError(Exception):
    pass


class EndpointError(Exception):
    pass


class KeyRefusedError(Exception):
    """The gateway refused the API key (401 or 403): no other cloud is tried, since all hold the same keys."""


class AllEndpointsFailedError(Exception):
    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__("no endpoint answered:\n" + "\n".join(f"  {f}" for f in failures))
        self.failures = list(failures)


def load(path: str | None = None, stack: str | None = None, show_secrets: bool = False) -> StackOutputs:
    """The stack outputs from a saved file (`-` for stdin), else from `pulumi stack output` (with
    `--show-secrets` if `show_secrets`)."""
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
            *(["--show-secrets"] if show_secrets else []),
            *(["--stack", stack] if stack else []),
        ]
        text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return StackOutputs.model_validate_json(text)


def model_url(url: str) -> str:
    """The model-status URL `http://HOST:PORT/v1/models/<name>` of a predict URL."""
    match = _PREDICT_URL.match(url)
    if not match:
        raise ValueError(f"not a TF Serving predict URL: {url}")
    return match["model"]


def versioned(url: str, version: int) -> str:
    """The predict URL of one version: `.../v1/models/<name>/versions/<version>:predict`."""
    return f"{model_url(url)}/versions/{version}:predict"


@functools.cache
def _opener(ca_file: Path | None) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()  # verifies the chain and the host name, always
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    # Internal load balancers sit in private networks that a corporate proxy cannot reach.
    proxies = urllib.request.ProxyHandler({})
    return urllib.request.build_opener(proxies, urllib.request.HTTPSHandler(context=context))


def _call(request: urllib.request.Request, timeout: float, access: Access) -> Any:
    """One REST call's JSON answer; `RetryableError` if it may pass, `EndpointError` if it will not,
    `KeyRefusedError` if the request carried a key and was refused."""
    keyed = access.headers(request.full_url)
    for name, value in keyed.items():
        request.add_unredirected_header(name, value)  # a redirect elsewhere does not get the key
    try:
        with access.opener().open(request, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        if keyed and exc.code in (401, 403):
            raise KeyRefusedError(f"HTTP {exc.code}: the API key was refused") from exc
        if exc.code == 401:
            raise EndpointError("HTTP 401: no API key was sent") from exc
        kind = RetryableError if exc.code >= 500 or exc.code == 429 else EndpointError
        raise kind(f"HTTP {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:  # refused, reset, DNS, timeouts, TLS
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLCertVerificationError):  # another try gets the same certificate
            raise EndpointError(f"TLS: certificate verify failed: {reason.verify_message}") from exc
        raise RetryableError(str(reason)) from exc
    except json.JSONDecodeError as exc:
        raise EndpointError("response is not JSON") from exc


def post(url: str, instances: Instances, timeout: float, access: Access = Access()) -> list[Any]:
    """One TF Serving REST predict call (`{"instances": [...]}` -> `{"predictions": [...]}`)."""
    body = json.dumps({"instances": instances}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    answer = _call(request, timeout, access)
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != len(instances):
        raise EndpointError("response has no predictions for the instances")
    return predictions


def available(url: str, timeout: float, access: Access = Access()) -> set[int]:
    """The versions that TF Serving behind predict `url` reports AVAILABLE (`model_version_status`)."""
    answer = _call(urllib.request.Request(model_url(url)), timeout, access)
    statuses = answer.get("model_version_status") if isinstance(answer, dict) else None
    if not isinstance(statuses, list):
        raise EndpointError("response has no model_version_status")
    try:
        return {int(s["version"]) for s in statuses if s["state"] == "AVAILABLE"}
    except (KeyError, TypeError, ValueError) as exc:
        raise EndpointError("model_version_status is malformed") from exc


def pin(
    endpoints: Sequence[Target], timeout: float, scope: Scope = "every", *, access: Access = Access()
) -> Pin:
    """The newest version AVAILABLE on every endpoint that reports its versions (`first`: on the first one
    that does). When they share none (TF Serving loads only a model's newest version unless told otherwise,
    so a cloud that the newest has not reached yet shares nothing with the others), the newest that any of
    them serves, and those without it are left out. One status read per endpoint, without retries: a cloud
    whose read fails stays in the failover, where it can only answer from the pinned version.
    `AllEndpointsFailedError` when no endpoint reports a version; `KeyRefusedError` naming the cloud."""
    served: dict[str, set[int]] = {}
    failures: list[str] = []
    for endpoint in endpoints:
        if not endpoint.url:
            continue  # `predict` says so in its turn
        try:
            versions = available(endpoint.url, timeout, access)
        except KeyRefusedError as exc:
            raise KeyRefusedError(f"{endpoint.cloud} versions: {exc}") from exc
        except (RetryableError, EndpointError) as exc:
            failures.append(f"{endpoint.cloud} versions: {exc}")
            continue
        if not versions:
            failures.append(f"{endpoint.cloud} versions: none AVAILABLE")
            continue
        served[endpoint.cloud] = versions
        if scope == "first":
            break
    if not served:
        raise AllEndpointsFailedError(failures or ["no endpoint has an address yet"])
    version = max(set.intersection(*served.values()) or set.union(*served.values()))
    lacking = [cloud for cloud, versions in served.items() if version not in versions]
    failures += [f"{c}: serves {sorted(served[c])}, not version {version}: left out" for c in lacking]
    return Pin(version, frozenset(lacking), failures)


def predict(
    endpoints: Sequence[Target],
    instances: Instances,
    policy: Policy = Policy(),
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    *,
    pin: Pin | None = None,
    access: Access = Access(),
) -> Prediction:
    """The first endpoint's answer that succeeds, in order; `AllEndpointsFailedError` if none does,
    `KeyRefusedError` (naming the cloud) as soon as a gateway refuses the key. With a `pin`, each endpoint
    is asked for its version, and those it leaves out are passed over."""
    failures = list(pin.failures) if pin else []
    for endpoint in endpoints:
        if pin and endpoint.cloud in pin.skip:
            continue
        if not endpoint.url:
            failures.append(f"{endpoint.cloud}: no address yet")
            continue
        url = versioned(endpoint.url, pin.version) if pin else endpoint.url
        for attempt in range(1, policy.attempts + 1):
            try:
                found = post(url, instances, policy.timeout, access)
                version = pin.version if pin else None
                return Prediction(endpoint.cloud, url, found, version=version, failures=failures)
            except KeyRefusedError as exc:
                raise KeyRefusedError(f"{endpoint.cloud} attempt {attempt}: {exc}") from exc
            except RetryableError as exc:
                failures.append(f"{endpoint.cloud} attempt {attempt}: {exc}")
                if attempt < policy.attempts:
                    delay = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
                    sleep(delay * (0.5 + jitter() / 2))  # jitter spreads clients that failed together
            except EndpointError as exc:
                failures.append(f"{endpoint.cloud} attempt {attempt}: {exc}")
                break
    raise AllEndpointsFailedError(failures)
