"""The EKS kubeconfig, on which the cluster's Kubernetes provider runs.

No credentials inside: the user runs `aws eks get-token`, which signs a short-lived token with the
credentials the AWS CLI resolves, and EKS admits them by access entry (`cluster.py` creates the deployer's).
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws


def render(cluster: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig whose user runs `aws eks get-token`: short-lived tokens, nothing stored."""
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "current-context": cluster,
            "users": [{"name": cluster, "user": user}],
        },
        sort_keys=True,
    )


def of(cluster: aws.eks.Cluster, region: str) -> pulumi.Output[str]:
    """The cluster's kubeconfig, as a secret Output."""
    config: pulumi.Output[str] = pulumi.Output.all(
        cluster.name, cluster.endpoint, cluster.certificate_authority.data
    ).apply(lambda v: render(v[0], v[1], v[2], region))
    return pulumi.Output.secret(config)
