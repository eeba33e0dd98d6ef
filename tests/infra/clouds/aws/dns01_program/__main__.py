"""A test program: the AWS platform alone, asked to trust GKE's replicator (`federate`) and to let
cert-manager on EKS, GKE and AKS answer DNS-01 in the serving zone, exporting what each cluster gets."""

import pulumi

from infra import config
from infra.catalog import Cloud
from infra.clouds.aws.platform import AwsPlatform
from infra.clouds.base import MODELS_PREFIX, SERVICE_ACCOUNTS, ForeignWorkload, PlatformArgs
from infra.gateway.dns01 import SolverCluster

ISSUERS: dict[Cloud, str] = {
    "gcp": "https://container.googleapis.com/v1/projects/p/locations/us-central1/clusters/c",
    "azure": "https://eastus2.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111/",
}

cfg = config.load()
platform = AwsPlatform(f"{cfg.stack}-aws", PlatformArgs(cfg=cfg))
platform.federate(
    ForeignWorkload(
        cloud="gcp",
        issuer=ISSUERS["gcp"],
        namespace=cfg.namespace,
        service_account=SERVICE_ACCOUNTS["replicator"],
        prefix=MODELS_PREFIX,
    )
)
issuers: dict[Cloud, pulumi.Input[str]] = {"aws": platform.cluster.oidc_issuer, **ISSUERS}
accesses = {
    cloud: platform.dns01(SolverCluster(cloud=cloud, issuer=issuer)) for cloud, issuer in issuers.items()
}
pulumi.export(
    "dns01",
    {
        cloud: {
            "solver": dict(a.solver),
            "serviceAccount": a.binding.service_account,
            "annotations": dict(a.binding.annotations),
            "podLabels": dict(a.binding.pod_labels),
            "rules": [dict(r) for r in a.rules],
            "ready": [r.urn for r in a.binding.ready],
        }
        for cloud, a in accesses.items()
    },
)
pulumi.export("issuers", ISSUERS)
