"""ACR is locked down (RG-03): no admin user, no anonymous pull, default-deny network rules, and a
retention policy; the deployer may push, nothing else. dev waives RG-03 in its stack file: Basic, with the
admin user and anonymous pull still off."""

from __future__ import annotations

from infra.clouds.azure.context import ROLE_IDS
from plan.fakes.azure import FAKE_DEPLOYER
from plan.runner import Plan
from tests.infra.clouds.azure.helpers import REGISTRY, one, role_ids
from tests.plans import stack_values


def test_rg03_registry_locked_down(prod_plan: Plan) -> None:
    acr = one(prod_plan, REGISTRY).inputs
    section = stack_values(prod_plan.stack)["gpu-platform:azure"]
    assert acr["registryName"] == section["registryName"]
    assert acr["sku"] == {"name": "Premium"}
    assert acr["adminUserEnabled"] is False
    assert acr["anonymousPullEnabled"] is False
    assert acr["networkRuleSet"]["defaultAction"] == "Deny"
    assert acr["policies"]["retentionPolicy"] == {
        "status": "enabled",
        "days": section["registryRetentionDays"],
    }


def test_rg03_only_the_nat_address_and_operator_cidrs_reach_it(prod_plan: Plan) -> None:
    rules = one(prod_plan, REGISTRY).inputs["networkRuleSet"]["ipRules"]
    allowed = [r["iPAddressOrRange"] for r in rules]
    operators = stack_values(prod_plan.stack)["gpu-platform:azure"]["apiAccess"]["authorizedCidrs"]
    nat_ip = one(prod_plan, "azure-native:network:PublicIPAddress")
    assert allowed[1:] == operators
    assert allowed[0].startswith("203.0.113.")
    assert nat_ip.urn in one(prod_plan, REGISTRY).depends_on
    assert all(r["action"] == "Allow" for r in rules)


def test_rg03_waived_in_dev_through_config_only(dev_plan: Plan) -> None:
    """dev's stack file waives RG-03 with a reason: Basic, which has no firewall and no retention."""
    waivers = stack_values("dev")["gpu-platform:waivers"]
    assert any(w["control"] == "RG-03" and "azure" in w["clouds"] for w in waivers)
    acr = one(dev_plan, REGISTRY).inputs
    assert acr["sku"] == {"name": "Basic"}
    assert acr["adminUserEnabled"] is False
    assert acr["anonymousPullEnabled"] is False
    assert "networkRuleSet" not in acr
    assert "retentionPolicy" not in acr["policies"]
    assert acr["policies"]["azureADAuthenticationAsArmPolicy"] == {"status": "enabled"}


def test_deployer_pushes_to_this_registry_only(stack_plan: Plan) -> None:
    (grant,) = role_ids(stack_plan, ROLE_IDS["AcrPush"])
    assert grant.inputs["principalId"] == FAKE_DEPLOYER
    assert "/registries/" in grant.inputs["scope"]


def test_registry_is_protected_per_config(dev_plan: Plan, prod_plan: Plan) -> None:
    assert one(dev_plan, REGISTRY).protect is False
    assert one(prod_plan, REGISTRY).protect is True


def test_images_push_after_the_deployer_may_push(stack_plan: Plan) -> None:
    """The program grants AcrPush itself, so every push waits for that grant, not just the registry."""
    (grant,) = role_ids(stack_plan, ROLE_IDS["AcrPush"])
    images = [r for r in stack_plan.of_type("docker-build:index:Image") if r.cloud == "azure"]
    assert images
    assert all(grant.urn in image.depends_on for image in images)
