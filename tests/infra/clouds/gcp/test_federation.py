"""GCP as a replication target (dev trains on AWS; dev trained on Azure trusts AKS): a workload identity
pool whose provider trusts the home issuer for the replicator alone, a conditional objectUser grant to
that principal under models/, STS enabled; and GCP as the home cloud (prod): the issuer its tokens carry,
and Cloud NAT on a reserved address that Azure's firewall admits."""

from __future__ import annotations

import json
import re

import pytest

from infra.catalog import Cloud
from infra.clouds.gcp.federation import pool_id
from plan.fakes.clock import CREATED
from plan.fakes.gcp import FAKE_PROJECT_NUMBER
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.federated import (
    MODELS,
    SUBJECT,
    aks_issuer,
    answered,
    azure_home_plan,
    eks_issuer,
    one_named,
    replicator,
)
from tests.infra.clouds.gcp.helpers import BUCKET_IAM, CLUSTER, SERVICE, gcp, gcp_config, one

POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
STATIC = "time:index/static:Static"
PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
ADDRESS = "gcp:compute/address:Address"
NAT = "gcp:compute/routerNat:RouterNat"


def _home(dev_plan: Plan, home: Cloud) -> tuple[Plan, str]:
    """The plan in which `home` trains and GCP is a target, and the home cluster's issuer."""
    if home == "aws":
        return dev_plan, eks_issuer(dev_plan)
    plan = azure_home_plan()
    return plan, aks_issuer(plan)


def _trust(plan: Plan, home: Cloud) -> tuple[PlannedResource, PlannedResource, PlannedResource]:
    name = f"{plan.stack}-gcp-federation-{home}"
    return (
        one_named(plan, POOL, f"{name}-pool"),
        one_named(plan, PROVIDER, f"{name}-provider"),
        one_named(plan, BUCKET_IAM, f"{name}-objects"),
    )


def test_the_component_hangs_under_the_platform_with_its_provider(dev_plan: Plan) -> None:
    (trust,) = dev_plan.of_type("gpu-platform:gcp:FederatedTrust")
    assert trust.name == "dev-gcp-federation-aws"
    assert dev_plan.by_urn()[str(trust.parent)].type == "gpu-platform:gcp:Platform"
    children = [r for r in dev_plan.resources if r.parent == trust.urn]
    assert sorted(r.type for r in children) == sorted([POOL, PROVIDER, BUCKET_IAM, STATIC])
    google = [r for r in children if r.type != STATIC]
    assert {str(r.provider).rsplit("::", 1)[1] for r in google} == {"dev-gcp-provider"}


@pytest.mark.parametrize("home", ["aws", "azure"])
def test_the_provider_admits_only_the_replicator_of_the_home_issuer(dev_plan: Plan, home: Cloud) -> None:
    plan, issuer = _home(dev_plan, home)
    pool, provider, _ = _trust(plan, home)
    ident = pool_id(home, "dev", issuer, int(CREATED.timestamp()))
    assert re.fullmatch(r"[a-z0-9-]{4,32}", ident)
    assert ident.startswith(f"{home}-dev-")
    assert not ident.startswith("gcp-")
    assert pool.inputs["workloadIdentityPoolId"] == ident
    assert provider.inputs["workloadIdentityPoolId"] == ident
    assert provider.inputs["workloadIdentityPoolProviderId"] == ident
    # The issuer verbatim (AKS's trailing slash too), the token's own audience: no allowed audiences.
    assert provider.inputs["oidc"] == {"issuerUri": issuer}
    assert provider.inputs["attributeMapping"] == {"google.subject": "assertion.sub"}
    assert provider.inputs["attributeCondition"] == f"assertion.sub == '{SUBJECT}'"


def test_a_new_issuer_or_a_trust_made_again_gets_new_pool_ids() -> None:
    """A pool's id stays taken for about 30 days after it is deleted: another cluster needs another, and
    so does the same cluster trusted again (a new creation time)."""
    issuer = "https://oidc.eks.us-east-1.amazonaws.com/id/A"
    first = pool_id("aws", "dev", issuer, 1_767_225_600)
    assert first == pool_id("aws", "dev", issuer, 1_767_225_600)
    assert first != pool_id("aws", "dev", "https://oidc.eks.us-east-1.amazonaws.com/id/B", 1_767_225_600)
    assert first != pool_id("aws", "dev", issuer, 1_767_225_601)
    assert len(pool_id("azure", "a-very-long-stack-name-indeed", "https://x/", 0)) == 32


@pytest.mark.parametrize("home", ["aws", "azure"])
def test_the_principal_gets_object_user_under_models_only(dev_plan: Plan, home: Cloud) -> None:
    plan, issuer = _home(dev_plan, home)
    bucket = gcp_config(plan).bucket_name
    pool, _, grant = _trust(plan, home)
    pools = f"projects/{FAKE_PROJECT_NUMBER}/locations/global/workloadIdentityPools"
    name = f"{pools}/{pool_id(home, 'dev', issuer, int(CREATED.timestamp()))}"
    assert grant.inputs == {
        "bucket": bucket,
        "role": "roles/storage.objectUser",
        "member": f"principal://iam.googleapis.com/{name}/subject/{SUBJECT}",
        "condition": {
            "title": "models-digits-prefix-only",
            "description": f"Read, write, delete and list objects under {MODELS} only",
            "expression": (
                f'resource.name.startsWith("projects/_/buckets/{bucket}/objects/{MODELS}") || '
                f'api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("{MODELS}")'
            ),
        },
    }
    assert pool.urn in grant.depends_on
    principals = [g for g in gcp(plan, BUCKET_IAM) if g.inputs["member"].startswith("principal")]
    assert principals == [grant]


def test_the_replicator_presents_the_providers_audience_and_its_config(dev_plan: Plan) -> None:
    _, provider, _ = _trust(dev_plan, "aws")
    ident = provider.inputs["workloadIdentityPoolProviderId"]
    audience = (
        f"//iam.googleapis.com/projects/{FAKE_PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
        f"{ident}/providers/{ident}"
    )
    pod = replicator(dev_plan)
    assert pod.token("gcp")["audience"] == audience
    assert json.loads(pod.files["gcp-credentials.json"]) == {
        "type": "external_account",
        "audience": audience,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": "https://sts.googleapis.com/v1/token",
        "credential_source": {"file": "/var/run/secrets/gpu-platform/gcp/token", "format": {"type": "text"}},
    }
    (config,) = [
        s["configMap"] for s in pod.volumes["gcp-federation"]["projected"]["sources"] if "configMap" in s
    ]
    assert config["items"] == [{"key": "gcp-credentials.json", "path": "credentials.json"}]
    google = {k: v for k, v in pod.env.items() if k.startswith("GOOGLE_")}
    assert google == {
        "GOOGLE_APPLICATION_CREDENTIALS": "/var/run/secrets/gpu-platform/gcp/credentials.json",
        "GOOGLE_CLOUD_PROJECT": gcp_config(dev_plan).project,
    }


def test_sts_is_enabled_and_the_trust_waits_for_it(stack_plan: Plan, dev_plan: Plan) -> None:
    services = {r.inputs["service"]: r for r in gcp(stack_plan, SERVICE)}
    assert services["sts.googleapis.com"].inputs["disableOnDestroy"] is False
    dev_services = {r.inputs["service"]: r.urn for r in gcp(dev_plan, SERVICE)}
    pool, provider, _ = _trust(dev_plan, "aws")
    for resource in (pool, provider):
        assert {dev_services["iam.googleapis.com"], dev_services["sts.googleapis.com"]} <= set(
            resource.depends_on
        )


def test_the_home_cloud_federates_nothing(prod_plan: Plan) -> None:
    assert not prod_plan.of_type(POOL)
    assert not prod_plan.of_type("gpu-platform:gcp:FederatedTrust")


def test_the_gke_issuer_is_what_the_other_clouds_trust(prod_plan: Plan) -> None:
    """`https://container.googleapis.com/v1/projects/<project id>/locations/<location>/clusters/<name>`,
    exactly as GKE's tokens carry it in `iss`."""
    cluster = one(prod_plan, CLUSTER)
    assert (gcp_config(prod_plan).project, cluster.inputs["location"], cluster.inputs["name"]) == (
        "acme-gpu-platform-prod",
        "us-central1",
        "prod-gpu-platform",
    )
    issuer = (
        "https://container.googleapis.com/v1/projects/acme-gpu-platform-prod/locations/us-central1/clusters/"
        "prod-gpu-platform"
    )
    provider = one_named(
        prod_plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "prod-aws-federation-gcp-oidc"
    )
    credential = one_named(
        prod_plan,
        "azure-native:managedidentity:FederatedIdentityCredential",
        "prod-azure-federation-gcp-credential",
    )
    assert provider.inputs["url"] == credential.inputs["issuer"] == issuer
    assert cluster.urn in provider.property_dependencies["url"]
    assert cluster.urn in credential.property_dependencies["issuer"]


def test_cloud_nat_uses_one_reserved_address_which_azure_admits(stack_plan: Plan) -> None:
    (address,) = [a for a in gcp(stack_plan, ADDRESS) if "-gateway-" not in a.name]
    assert address.inputs["addressType"] == "EXTERNAL"
    assert address.inputs["region"] == gcp_config(stack_plan).region
    nat = one(stack_plan, NAT)
    outputs = answered(stack_plan.stack, address)
    assert nat.inputs["natIpAllocateOption"] == "MANUAL_ONLY"
    assert nat.inputs["natIps"] == [outputs["selfLink"]]
    assert address.urn in nat.depends_on
    if stack_plan.stack == "prod":  # trained on GCP: Azure's storage firewall lets its NAT through
        (account,) = stack_plan.of_type("azure-native:storage:StorageAccount")
        rules = account.inputs["networkRuleSet"]["ipRules"]
        assert rules == [{"iPAddressOrRange": outputs["address"], "action": "Allow"}]
