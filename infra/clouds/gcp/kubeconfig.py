"""The kubeconfig of a GKE cluster: no credentials inside, `gke-gcloud-auth-plugin` fetches a short-lived
token from the caller's gcloud login (or workload identity in CI) on every use."""

from __future__ import annotations

import json

AUTH_PLUGIN = "gke-gcloud-auth-plugin"


def render(cluster: str, endpoint: str, ca_data: str) -> str:
    """JSON is YAML, and `json.dumps` cannot produce a malformed document."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": AUTH_PLUGIN,
            "installHint": "gcloud components install gke-gcloud-auth-plugin (cloud.google.com/kubernetes-"
            "engine/docs/how-to/cluster-access-for-kubectl)",
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster,
                    "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_data},
                }
            ],
            "users": [{"name": cluster, "user": user}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "current-context": cluster,
        },
        indent=2,
    )
