"""The GCP platform as a whole: the contract it returns, the stack outputs, one explicit provider, and the
project APIs."""

from __future__ import annotations

import asyncio
import contextvars
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import stack as stack_runtime

from infra import config
from infra.clouds import PLATFORM_MODULES
from infra.clouds.base import Capability, CloudPlatform
from infra.clouds.gcp import platform, services
from infra.plan import stackfile
from infra.plan.capture import CaptureMonitor, PlanMocks
from infra.plan.runner import Plan
from tests.infra.clouds.gcp.helpers import SERVICE, gcp, gcp_config, stack_config
from tests.plans import ROOT


@dataclass
class Built:
    stack: str
    contract: CloudPlatform
    values: dict[str, Any]
    secret: set[str]


def build(stack: str) -> Built:
    """`platform.build(cfg)` alone on the mock engine, with every Output of the contract resolved."""
    return contextvars.Context().run(_build, stack)


def _build(stack: str) -> Built:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        files = stackfile.load(ROOT, stack)
        monitor = CaptureMonitor(PlanMocks(stack))
        pulumi.runtime.set_all_config(dict(files.config), list(files.secret_keys))
        pulumi.runtime.set_mocks(
            monitor.mocks, project=files.project, stack=stack, preview=False, monitor=monitor
        )
        contract = platform.build(config.load())
        outputs = {
            "cluster_name": contract.cluster_name,
            "kubeconfig": contract.kubeconfig,
            "bucket_uri": contract.bucket_uri,
            "host": contract.registry.host,
            "repository": contract.registry.repository,
            "address": pulumi.Output.from_input(contract.registry.auth.address),
            "username": pulumi.Output.from_input(contract.registry.auth.username),
            "password": pulumi.Output.from_input(contract.registry.auth.password),
            **{
                f"{role}_annotations": pulumi.Output.from_input(dict(b.annotations))
                for role, b in contract.identities.items()
            },
        }

        async def resolve() -> tuple[dict[str, Any], set[str]]:
            values = {k: await o.future() for k, o in outputs.items()}
            return values, {k for k, o in outputs.items() if await o.is_secret()}

        values, secret = loop.run_until_complete(resolve())
        loop.run_until_complete(stack_runtime.wait_for_rpcs())
        return Built(stack, contract, values, secret)
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
        asyncio.set_event_loop(None)


@pytest.fixture(scope="module", params=["dev", "prod"])
def built(request: pytest.FixtureRequest) -> Built:
    return build(request.param)


def test_registered_as_the_gcp_platform() -> None:
    assert PLATFORM_MODULES["gcp"] == "infra.clouds.gcp.platform"


def test_contract_fields(built: Built) -> None:
    c, v = built.contract, built.values
    project = f"acme-gpu-platform-{built.stack}"
    assert c.cloud == "gcp"
    assert c.region == "us-central1"
    assert isinstance(c.k8s_provider, k8s.Provider)
    assert v["cluster_name"] == f"{built.stack}-gpu-platform"
    assert v["bucket_uri"] == f"gs://{project}-ml"
    assert v["host"] == v["address"] == "us-central1-docker.pkg.dev"
    assert v["repository"] == f"us-central1-docker.pkg.dev/{project}/ml/trainer"
    # GKE installs the NVIDIA driver and device plugin itself.
    assert not c.lacks(Capability.GPU_DEVICE_PLUGIN)


def test_contract_secrets_and_token_auth(built: Built) -> None:
    assert built.values["username"] == "oauth2accesstoken"
    assert built.values["password"]
    assert {"kubeconfig", "password"} <= built.secret
    assert not {"bucket_uri", "repository", "host"} & built.secret


def test_contract_identities_annotate_the_gsa(built: Built) -> None:
    c, v = built.contract, built.values
    assert set(c.identities) == {"trainer", "serving"}
    for role, binding in c.identities.items():
        assert binding.service_account == role
        assert binding.pod_labels == {}
        (email,) = v[f"{role}_annotations"].values()
        assert set(v[f"{role}_annotations"]) == {"iam.gke.io/gcp-service-account"}
        assert email.endswith(".iam.gserviceaccount.com")
        assert email.split("@")[0].endswith(role)


def test_internal_load_balancer_annotation(built: Built) -> None:
    assert built.contract.service_annotations == {"networking.gke.io/load-balancer-type": "Internal"}


def test_kubeconfig_uses_the_gke_auth_plugin(built: Built) -> None:
    kubeconfig = json.loads(built.values["kubeconfig"])
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert "token" not in user["user"]
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"]["server"].startswith("https://")
    assert cluster["cluster"]["certificate-authority-data"]


def test_stack_outputs_and_secret_kubeconfig(stack_plan: Plan) -> None:
    out = stack_plan.outputs["clouds"]["gcp"]
    section = gcp_config(stack_plan)
    assert "clouds.gcp.kubeconfig" in stack_plan.secret_outputs
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
