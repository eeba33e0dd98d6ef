"""Registry pull Secrets in the worker clusters: a short-lived read-only credential for the home registry.

MultiKueue copies a training Job unchanged to a worker, so its image names the home cloud's registry,
which a worker on another cloud cannot pull from unaided. The Job's pods name a `kubernetes.io/
dockerconfigjson` Secret in `imagePullSecrets`; the stack creates it empty (`{"auths":{}}`) in each of the
registry's `namespaces` on every worker and lets the worker identity of the refresher `get` and `patch`
that Secret only. `refresh-workers` fills it: `.dockerconfigjson` is `{"auths": {<host>: {"username",
"password", "auth": base64("<username>:<password>")}}}`, the credential minted by `registry_tokens`.

The calls go to the worker's own API server (its `server` and `caData`), authenticated with the token the
same run keeps in the worker's kubeconfig Secret: the one it has just written or the one still valid
there, so no second token is minted for the worker (and the identity that may patch the pull Secret is
the one MultiKueue already uses). A worker whose kubeconfig could not be refreshed has no such token, and
its pull Secrets wait for the next run.

The timing is the kubeconfig's (`token_timing`): a pull Secret is rewritten only when it holds no
credential for `host`, its recorded expiry (annotation `gpu-platform/token-expires-at`) is missing or
unreadable, or less than the margin is left; a new credential is recorded to expire at its own expiry or
an hour after minting, whichever is first. The credential is minted at most once a run, and only if
some pull Secret is due (`OnceCredential`). Unlike an API token, a credential with less than the margin
left is still written when it outlives the one in the Secret, and one that does not is no failure: the
GKE metadata server hands out its cached token until about five minutes before it expires, so for a few
runs an hour the newest credential there is is the one already written, and the next run renews it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from trainer.kube_api import KubeApi
from trainer.registry_tokens import PullCredential
from trainer.token_timing import (
    EXPIRY_ANNOTATION,
    MAX_LIFETIME,
    TokenError,
    format_expiry,
    needs_refresh,
    parse_expiry,
    span,
)
from trainer.workers_file import Registry

PULL_SECRET_KEY = ".dockerconfigjson"
"""The key of a `kubernetes.io/dockerconfigjson` Secret."""


class MintFailed(Exception):  # noqa: N818 (the mint's own error is the cause, reported once)
    """The run's registry credential could not be minted; the cause is the mint's own exception."""


class OnceCredential:
    """The run's registry credential: minted on first use, then the same credential (or failure) for every
    later pull Secret, with the time it is to be replaced by."""

    def __init__(self, mint: Callable[[], PullCredential], margin: timedelta, now: Callable[[], datetime]):
        self._mint, self._margin, self.now = mint, margin, now
        self._minted: tuple[PullCredential, datetime] | None = None
        self.error: Exception | None = None

    def get(self) -> tuple[PullCredential, datetime]:
        if self._minted is None and self.error is None:
            try:
                credential, now = self._mint(), self.now()
                replace_at = min(credential.expires_at, now + MAX_LIFETIME)
                if replace_at <= now:
                    raise TokenError(
                        f"the registry gave a credential that expired at {format_expiry(replace_at)}"
                    )
                self._minted = credential, replace_at
            except Exception as exc:  # any cloud library's error: reported once, by the caller
                self.error = exc
        if self._minted is None:
            raise MintFailed from self.error
        return self._minted


def docker_config(host: str, credential: PullCredential) -> str:
    """The `.dockerconfigjson` for `host`."""
    pair = f"{credential.username}:{credential.password}".encode()
    entry = {
        "username": credential.username,
        "password": credential.password,
        "auth": base64.b64encode(pair).decode(),
    }
    return json.dumps({"auths": {host: entry}}, indent=2) + "\n"


def recorded_expiry(secret: Mapping[str, Any], registry: Registry) -> tuple[datetime | None, str]:
    """The expiry recorded on a pull Secret that holds a credential for `registry.host`, or None, with the
    reason a new one is needed then (for the log line)."""
    encoded = (secret.get("data") or {}).get(PULL_SECRET_KEY)
    try:
        auths = json.loads(base64.b64decode(encoded or "")).get("auths") or {}
        present = bool(auths.get(registry.host, {}).get("password"))
    except (ValueError, TypeError, AttributeError):
        present = False
    if not present:
        return None, f"no credential for {registry.host} yet"
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    expires_at = parse_expiry(annotations.get(EXPIRY_ANNOTATION))
    if expires_at is None:
        return None, f"no readable {EXPIRY_ANNOTATION} annotation"
    return expires_at, ""


def refresh_pull_secret(
    api: KubeApi, namespace: str, registry: Registry, credential: OnceCredential, *, margin: timedelta
) -> str:
    """Rewrite one pull Secret if it is due, in one conditional merge patch; what was done, for the log.
    Raises `KubeError` or `MintFailed`."""
    secret = api.get_secret(namespace, registry.secret)
    expires_at, reason = recorded_expiry(secret, registry)
    started = credential.now()
    if expires_at is not None and not needs_refresh(expires_at, started, margin):
        return f"still valid, {span(expires_at - started)} left"
    if expires_at is not None:
        reason = f"{span(expires_at - started)} left, under the margin of {span(margin)}"
    minted, replace_at = credential.get()
    if expires_at is not None and replace_at <= expires_at:
        return f"due ({reason}), but the registry has no newer credential yet: the next run renews it"
    metadata: dict[str, Any] = {"annotations": {EXPIRY_ANNOTATION: format_expiry(replace_at)}}
    version = (secret.get("metadata") or {}).get("resourceVersion")
    if version:
        metadata["resourceVersion"] = version
    encoded = base64.b64encode(docker_config(registry.host, minted).encode()).decode()
    api.patch_secret(namespace, registry.secret, {"metadata": metadata, "data": {PULL_SECRET_KEY: encoded}})
    return f"refreshed ({reason}), credential valid until {format_expiry(replace_at)}"
