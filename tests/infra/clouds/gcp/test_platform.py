"""The GCP platform where it differs from the others: its names, token login, service accounts, provider
and project APIs. What every cloud's platform guarantees is checked in tests/infra/clouds/test_contract.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

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


def test_contract_names_what_the_stack_configures(built: Built) -> None:
    stack, c, _ = built
    project = f"acme-gpu-platform-{stack}"
    assert c["clusterName"] == f"{stack}-gpu-platform"
    assert c["bucketUri"] == f"gs://{project}-ml"
    assert c["registry"]["host"] == "us-central1-docker.pkg.dev"
    assert c["registry"]["repository"] == f"us-central1-docker.pkg.dev/{project}/ml/trainer"
    assert c["identityEgress"] == [  # the GKE metadata server, which hands out Workload Identity tokens
        {"cidr": "169.254.169.254/32", "port": 80, "protocol": "TCP"},
        {"cidr": "169.254.169.252/32", "port": 988, "protocol": "TCP"},
    ]


def test_pushes_with_an_access_token_and_pods_act_as_their_own_service_account(built: Built) -> None:
    _, c, _ = built
    assert c["registry"]["auth"]["username"] == "oauth2accesstoken"
    for role, binding in c["identities"].items():
        email = binding["annotations"]["iam.gke.io/gcp-service-account"]
        assert email.endswith(".iam.gserviceaccount.com")
        assert email.split("@")[0].endswith(role)


def test_kubeconfig_uses_application_default_credentials(built: Built) -> None:
    (user,) = json.loads(built[1]["kubeconfig"])["users"]
    # The provider's identity (Application Default Credentials), not gcloud's separate login.
    assert user["user"]["exec"]["args"] == ["--use_application_default_credentials"]


def test_the_provider_targets_the_configured_project_and_region(stack_plan: Plan) -> None:
    (provider,) = [r for r in stack_plan.resources if r.type == "pulumi:providers:gcp"]
    assert provider.inputs["project"] == gcp_config(stack_plan).project
    assert provider.inputs["region"] == gcp_config(stack_plan).region


def test_apis_enabled_and_kept_on_destroy(stack_plan: Plan) -> None:
    apis = {r.inputs["service"]: r.inputs for r in gcp(stack_plan, SERVICE)}
    assert set(apis) == set(services.APIS)
    assert all(a["disableOnDestroy"] is False for a in apis.values())
    assert stack_config(stack_plan).gcp is not None
