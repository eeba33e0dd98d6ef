"""The kubeconfig of a GKE cluster: no credentials inside, `gke-gcloud-auth-plugin` fetches a short-lived
token on every use.

The plugin asks gcloud's own login by default; `--use_application_default_credentials` makes it use the
Application Default Credentials instead, the identity the gcp provider deploys with (`gcloud auth
application-default login`, or workload identity federation in CI), so both halves of `pulumi up` act as
one principal. See kubernetes/cloud-provider-gcp cmd/gke-gcloud-auth-plugin.
"""

from __future__ import annotations

import json

AUTH_PLUGIN = "gke-gcloud-auth-plugin"
ADC_FLAG = "--use_application_default_credentials"


def render(cluster: str, endpoint: str, ca_data: str) -> str:
    """JSON is YAML, and `json.dumps` cannot produce a malformed document."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": AUTH_PLUGIN,
            "args": [ADC_FLAG],
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
