"""The GCP platform as a whole: the contract it returns, the stack outputs, one explicit provider, and the
project APIs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.clouds import PLATFORM_MODULES
from infra.clouds.gcp import services
from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import SERVICE, gcp, gcp_config, stack_config
from tests.plans import contract_plan

Built = tuple[str, dict[str, Any], list[str]]


@pytest.fixture(scope="module", params=["dev", "prod"])
def built(request: pytest.FixtureRequest) -> Built:
    """The stack, the GCP contract's exported fields, and the paths of its secret fields."""
    plan = contract_plan(request.param)
    prefix = "contracts.gcp."
    secret = [p.removeprefix(prefix) for p in plan.secret_outputs if p.startswith(prefix)]
    return request.param, plan.outputs["contracts"]["gcp"], secret


def test_registered_as_the_gcp_platform() -> None:
    assert PLATFORM_MODULES["gcp"] == "infra.clouds.gcp.platform"


def test_contract_fields(built: Built) -> None:
    stack, c, _ = built
    project = f"acme-gpu-platform-{stack}"
    assert (c["cloud"], c["region"]) == ("gcp", "us-central1")
    assert c["k8sProvider"].split("::")[-2].endswith("pulumi:providers:kubernetes")
    assert c["clusterName"] == f"{stack}-gpu-platform"
    assert c["bucketUri"] == f"gs://{project}-ml"
    assert c["registry"]["host"] == c["registry"]["auth"]["address"] == "us-central1-docker.pkg.dev"
    assert c["registry"]["repository"] == f"us-central1-docker.pkg.dev/{project}/ml/trainer"
    # GKE installs the NVIDIA driver and device plugin itself.
    assert c["missing"] == {}
    assert c["identityEgress"] == [
        {"cidr": "169.254.169.254/32", "port": 80, "protocol": "TCP"},
        {"cidr": "169.254.169.252/32", "port": 988, "protocol": "TCP"},
    ]
    assert set(c["network"]) == {"network", "subnetwork"}


def test_contract_secrets_and_token_auth(built: Built) -> None:
    _, c, secret = built
    assert c["registry"]["auth"]["username"] == "oauth2accesstoken"
    assert c["registry"]["auth"]["password"]
    assert {"kubeconfig", "registry.auth.password"} <= set(secret)
    assert not {"bucketUri", "registry.repository", "registry.host"} & set(secret)


def test_contract_identities_annotate_the_gsa(built: Built) -> None:
    _, c, _ = built
    assert set(c["identities"]) == {"trainer", "serving"}
    for role, binding in c["identities"].items():
        assert binding["serviceAccount"] == role
        assert binding["podLabels"] == {}
        assert set(binding["annotations"]) == {"iam.gke.io/gcp-service-account"}
        email = binding["annotations"]["iam.gke.io/gcp-service-account"]
        assert email.endswith(".iam.gserviceaccount.com")
        assert email.split("@")[0].endswith(role)


def test_internal_load_balancer_annotation(built: Built) -> None:
    assert built[1]["serviceAnnotations"] == {"networking.gke.io/load-balancer-type": "Internal"}


def test_kubeconfig_uses_the_gke_auth_plugin(built: Built) -> None:
    kubeconfig = json.loads(built[1]["kubeconfig"])
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    # The provider's identity (Application Default Credentials), not gcloud's separate login.
    assert user["user"]["exec"]["args"] == ["--use_application_default_credentials"]
    assert "token" not in user["user"]
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"]["server"].startswith("https://")
    assert cluster["cluster"]["certificate-authority-data"]


def test_stack_outputs_and_secret_kubeconfig(stack_plan: Plan) -> None:
    out = stack_plan.outputs["clouds"]["gcp"]
    section = gcp_config(stack_plan)
    assert "kubeconfigs" in stack_plan.secret_outputs
    assert "gcp" in stack_plan.outputs["kubeconfigs"]
    assert out["bucketUri"] == f"gs://{section.bucket_name}"
    assert out["region"] == section.region
    assert out["clusterName"] == f"{stack_plan.stack}-gpu-platform"
    assert (
        out["registry"]
        == f"{section.region}-docker.pkg.dev/{section.project}/{section.registry_name}/trainer"
    )


def test_every_gcp_resource_uses_the_one_explicit_provider(stack_plan: Plan) -> None:
    providers = [r for r in stack_plan.resources if r.type == "pulumi:providers:gcp"]
    (provider,) = providers
    assert provider.inputs["project"] == gcp_config(stack_plan).project
    assert provider.inputs["region"] == gcp_config(stack_plan).region
    custom = [r for r in stack_plan.resources if r.custom and r.type.startswith("gcp:")]
    assert custom
    assert {r.provider for r in custom} == {provider.urn}


def test_components_and_parenting(stack_plan: Plan) -> None:
    by_urn = stack_plan.by_urn()
    (root,) = [r for r in stack_plan.resources if r.type == "gpu-platform:gcp:Platform"]
    assert root.name == f"{stack_plan.stack}-gcp"
    workloads = f"{stack_plan.stack}-gcp-workloads"  # the cloud-agnostic workloads have their own tree
    for resource in stack_plan.resources:
        if resource.cloud == "gcp" and resource is not root and resource.name != workloads:
            assert resource.parent in by_urn, resource.name
            assert resource.name.startswith(f"{stack_plan.stack}-gcp-"), resource.name
    (k8s_provider,) = [
        r for r in stack_plan.resources if r.type == "pulumi:providers:kubernetes" and r.cloud == "gcp"
    ]
    assert by_urn[str(k8s_provider.parent)].type == "gpu-platform:gcp:GpuCluster"
    assert k8s_provider.secret_paths == ["kubeconfig"]


def test_apis_enabled_and_kept_on_destroy(stack_plan: Plan) -> None:
    apis = {r.inputs["service"]: r.inputs for r in gcp(stack_plan, SERVICE)}
    assert set(apis) == set(services.APIS)
    assert all(a["disableOnDestroy"] is False for a in apis.values())
    assert stack_config(stack_plan).gcp is not None
