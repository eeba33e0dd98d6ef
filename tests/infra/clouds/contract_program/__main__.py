"""A test program: each enabled cloud's platform alone, exporting every field of the contract it returns,
so the contract tests read resolved values and secret marks through the ordinary plan runner."""

import pulumi

from infra import clouds, config
from infra.catalog import CLOUDS
from infra.clouds.base import MODELS_PREFIX, SERVICE_ACCOUNTS, ForeignWorkload

FOREIGN_ISSUER = "https://issuer.example/clusters/home"
"""A stand-in for another cloud's cluster issuer, which each cloud is asked to trust."""
REFRESHER_NAMESPACE, REFRESHER_ACCOUNT = "kueue-system", "worker-token-refresher"

cfg = config.load()
contracts = {}
for cloud in cfg.clouds:
    built = clouds.build(cloud, cfg)
    foreign = ForeignWorkload(
        cloud=next(c for c in CLOUDS if c != cloud),
        issuer=FOREIGN_ISSUER,
        namespace=cfg.namespace,
        service_account=SERVICE_ACCOUNTS["replicator"],
        prefix=MODELS_PREFIX,
    )
    access = built.federate(foreign)
    # MultiKueue's token refresher of the same foreign cluster: its trust shares the issuer's.
    api = built.admit_api(
        ForeignWorkload(
            cloud=foreign.cloud,
            issuer=FOREIGN_ISSUER,
            namespace=REFRESHER_NAMESPACE,
            service_account=REFRESHER_ACCOUNT,
            prefix="",
        )
    )
    # The same refresher's name in this cluster, as the home cluster's: it mints pulls of this registry.
    pull = built.grant_pull(REFRESHER_NAMESPACE, REFRESHER_ACCOUNT)
    # The gateway's addresses, which DNS names and the gateway's load balancer takes.
    gateway = built.gateway_address()
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
        "oidcIssuer": built.oidc_issuer,
        "egressIps": built.egress_ips,
        "federated": {
            "foreignCloud": foreign.cloud,
            "audience": access.audience,
            "env": dict(access.env),
            "files": dict(access.files),
            "ready": [r.urn for r in access.ready],
        },
        "api": {
            "server": api.server,
            "caData": api.ca_data,
            "audience": api.audience,
            "token": dict(api.token),
            "subject": {"kind": api.subject.kind, "name": api.subject.name},
            "ready": [r.urn for r in api.ready],
        },
        "pull": {
            "host": pull.host,
            "token": dict(pull.token),
            "serviceAccount": pull.binding.service_account,
            "annotations": dict(pull.binding.annotations),
            "podLabels": dict(pull.binding.pod_labels),
            "ready": [r.urn for r in pull.binding.ready],
        },
        "gateway": {
            "ips": gateway.ips,
            "annotations": dict(gateway.annotations),
            "ready": [r.urn for r in gateway.ready],
        },
    }
pulumi.export("contracts", contracts)
