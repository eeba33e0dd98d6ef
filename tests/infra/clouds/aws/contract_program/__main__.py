"""A test program: the AWS platform alone, exporting every field of the contract it returns."""

import pulumi

from infra import config
from infra.clouds.aws import platform

built = platform.build(config.load())
registry = built.registry
pulumi.export(
    "contract",
    {
        "cloud": built.cloud,
        "region": built.region,
        "clusterName": built.cluster_name,
        "kubeconfig": built.kubeconfig,
        "k8sProvider": built.k8s_provider.urn,
        "bucketUri": built.bucket_uri,
        "registry": {
            "host": registry.host,
            "repository": registry.repository,
            "auth": {
                "address": registry.auth.address,
                "username": registry.auth.username,
                "password": registry.auth.password,
            },
        },
        "identities": {
            role: {
                "serviceAccount": b.service_account,
                "annotations": dict(b.annotations),
                "podLabels": dict(b.pod_labels),
            }
            for role, b in built.identities.items()
        },
        "missing": {c.name: reason for c, reason in built.missing.items()},
        "serviceAnnotations": dict(built.service_annotations),
        "network": dict(built.network),
    },
)
