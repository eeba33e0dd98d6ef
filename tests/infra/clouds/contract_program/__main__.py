"""A test program: each enabled cloud's platform alone, exporting every field of the contract it returns,
so the contract tests read resolved values and secret marks through the ordinary plan runner."""

import pulumi

from infra import clouds, config

cfg = config.load()
contracts = {}
for cloud in cfg.clouds:
    built = clouds.build(cloud, cfg)
    registry = built.registry
    contracts[cloud] = {
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
        "storageEnv": dict(built.storage_env),
        "spotTolerations": [dict(t) for t in built.spot_tolerations],
        "identityEgress": [
            {"cidr": e.cidr, "port": e.port, "protocol": e.protocol} for e in built.identity_egress
        ],
        "network": dict(built.network),
    }
pulumi.export("contracts", contracts)
