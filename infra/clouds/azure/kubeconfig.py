"""The AKS kubeconfig: the server and CA from `listManagedClusterUserCredentials`, authenticated by
`kubelogin` against Entra ID (local accounts are disabled, so there is no static credential to use).

`--login azurecli` reuses the deployer's `az login`; `kubelogin` reads `AAD_LOGIN_METHOD` first, so CI can
switch to `workloadidentity` or `spn` without a different kubeconfig.
See https://azure.github.io/kubelogin/concepts/login-modes.html
"""

from __future__ import annotations

import base64
from typing import Any

import yaml

AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The application id of the AKS AAD server, the same in every tenant."""
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def exec_kubeconfig(user_credentials_b64: str) -> str:
    """Rebuild the user kubeconfig AKS returns (base64 YAML) with a `kubelogin` exec user."""
    source: dict[str, Any] = yaml.safe_load(base64.b64decode(user_credentials_b64))
    entry = source["clusters"][0]
    name = entry["name"]
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": name,
                "cluster": {
                    "server": entry["cluster"]["server"],
                    "certificate-authority-data": entry["cluster"]["certificate-authority-data"],
                },
            }
        ],
        "users": [{"name": f"{name}-entra", "user": {"exec": _kubelogin()}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-entra"}}],
        "current-context": name,
    }
    return yaml.safe_dump(doc, sort_keys=False)


def ca_data(user_credentials_b64: str) -> str:
    """The cluster CA (base64 PEM, as `certificate-authority-data`) of the user kubeconfig AKS returns."""
    source: dict[str, Any] = yaml.safe_load(base64.b64decode(user_credentials_b64))
    data: str = source["clusters"][0]["cluster"]["certificate-authority-data"]
    return data


def _kubelogin() -> dict[str, Any]:
    return {
        "apiVersion": EXEC_API_VERSION,
        "command": "kubelogin",
        "args": ["get-token", "--login", "azurecli", "--server-id", AKS_SERVER_ID],
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }
