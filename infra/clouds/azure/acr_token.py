"""ACR push credentials from the deployer's Entra token, with no admin user and no stored key.

ACR does not take an Entra token as a docker password. Its documented two-hop flow exchanges the token
at `POST https://<login server>/oauth2/exchange` (`grant_type=access_token`, the registry as `service`,
the `tenant`, the `access_token`) for an ACR refresh token, which docker then sends as the password of
the all-zero user (github.com/Azure/acr/blob/main/docs/AAD-OAuth.md). An ARM-audience token is accepted
there while the registry's `azureADAuthenticationAsArmPolicy` is enabled.

pulumi-azure-native has no invoke for the exchange, so `RefreshToken` is a Pulumi dynamic resource: the
program's own code, run by the engine on `pulumi up` (never in a preview, and not on the mock engine).
Its input is the deployer's current token, fetched anew on every run, so every `up` exchanges again and
the builds get a fresh refresh token (valid for hours; the builds need minutes).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pulumi
from pulumi import dynamic

TIMEOUT_SECONDS = 30
USERNAME = "00000000-0000-0000-0000-000000000000"
"""The user name that tells ACR the password is one of its refresh tokens."""


class ExchangeError(Exception):
    """The registry refused the exchange or answered with something that is not a refresh token."""


def exchange(endpoint: str, service: str, tenant: str, access_token: str) -> str:
    """The ACR refresh token for `access_token`, from `<endpoint>/oauth2/exchange`."""
    form = {"grant_type": "access_token", "service": service, "tenant": tenant, "access_token": access_token}
    request = urllib.request.Request(
        f"{endpoint.rstrip('/')}/oauth2/exchange",
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        raise ExchangeError(
            f"{service} refused the token exchange (HTTP {exc.code}): the deployer needs AcrPush on the "
            "registry, and the registry must accept ARM-audience tokens"
        ) from exc
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise ExchangeError(f"cannot exchange a token at {endpoint}: {exc}") from exc
    token = body.get("refresh_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise ExchangeError(f"{service} answered the token exchange without a refresh_token")
    return token


class _Provider(dynamic.ResourceProvider):
    """Exchanges on create and on every update; nothing to delete (the token simply expires). The Entra
    token is an input only: it never goes into the outputs, so the stack's state does not keep it."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        return dynamic.CreateResult(id_=props["service"], outs=_exchanged(props))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> dynamic.DiffResult:
        # Each run brings a fresh Entra token, and the refresh token of the last run may have expired.
        return dynamic.DiffResult(changes=True, replaces=[])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=_exchanged(news))


def _exchanged(props: dict[str, Any]) -> dict[str, Any]:
    token = exchange(props["endpoint"], props["service"], props["tenant"], props["access_token"])
    return {"endpoint": props["endpoint"], "service": props["service"], "tenant": props["tenant"],
            "refresh_token": token}  # fmt: skip


class RefreshToken(dynamic.Resource, module="acr", name="RefreshToken"):
    """`refresh_token`: the docker password for `USERNAME` on the registry, a secret."""

    refresh_token: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        *,
        login_server: pulumi.Input[str],
        tenant: pulumi.Input[str],
        access_token: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = {
            "endpoint": pulumi.Output.concat("https://", login_server),
            "service": login_server,
            "tenant": tenant,
            "access_token": pulumi.Output.secret(access_token),
            "refresh_token": None,
        }
        secret = pulumi.ResourceOptions(additional_secret_outputs=["refresh_token"])
        super().__init__(_Provider(), name, props, pulumi.ResourceOptions.merge(opts, secret))
