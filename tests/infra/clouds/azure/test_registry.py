"""ACR is locked down (RG-03): no admin user, no anonymous pull, default-deny network rules, and a
retention policy; the deployer may push, nothing else."""

from __future__ import annotations

from infra.clouds.azure.common import ROLE_IDS
from infra.plan.fakes.azure import FAKE_DEPLOYER
from infra.plan.runner import Plan
from tests.infra.clouds.azure.helpers import REGISTRY, one, role_ids
from tests.plans import stack_values


def test_rg03_registry_locked_down(stack_plan: Plan) -> None:
    acr = one(stack_plan, REGISTRY).inputs
    section = stack_values(stack_plan.stack)["gpu-platform:azure"]
    assert acr["registryName"] == section["registryName"]
    assert acr["sku"] == {"name": "Premium"}
    assert acr["adminUserEnabled"] is False
    assert acr["anonymousPullEnabled"] is False
    assert acr["networkRuleSet"]["defaultAction"] == "Deny"
    assert acr["policies"]["retentionPolicy"] == {
        "status": "enabled",
        "days": section["registryRetentionDays"],
    }


def test_rg03_only_the_nat_address_and_operator_cidrs_reach_it(stack_plan: Plan) -> None:
    rules = one(stack_plan, REGISTRY).inputs["networkRuleSet"]["ipRules"]
    allowed = [r["iPAddressOrRange"] for r in rules]
    operators = stack_values(stack_plan.stack)["gpu-platform:azure"]["apiAccess"]["authorizedCidrs"]
    nat_ip = one(stack_plan, "azure-native:network:PublicIPAddress")
    assert allowed[1:] == operators
    assert allowed[0].startswith("203.0.113.")
    assert nat_ip.urn in one(stack_plan, REGISTRY).depends_on
    assert all(r["action"] == "Allow" for r in rules)


def test_deployer_pushes_to_this_registry_only(stack_plan: Plan) -> None:
    (grant,) = role_ids(stack_plan, ROLE_IDS["AcrPush"])
    assert grant.inputs["principalId"] == FAKE_DEPLOYER
    assert "/registries/" in grant.inputs["scope"]


def test_registry_is_protected_per_config(dev_plan: Plan, prod_plan: Plan) -> None:
    assert one(dev_plan, REGISTRY).protect is False
    assert one(prod_plan, REGISTRY).protect is True
