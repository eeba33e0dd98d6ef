"""What holds across the rules: the compliant stacks pass everything, every control is registered and has
mutation tests, rules are pure functions of (type, props), type tokens compare case-insensitively over
both S3 families and both azure-native monitor modules, and links follow the input that names them.
Severity (advisory findings, waivers) is tests/policy/test_severity.py."""

from __future__ import annotations

import copy
import dataclasses
import re

import pytest

from infra import controls
from policy import engine
from policy.controls import CONTROLS, control_plane, storage_s3
from policy.model.control import Control, control
from policy.model.props import canonical
from policy.model.stack import Stack
from tests.plans import ROOT
from tests.policy import (
    test_control_plane,
    test_cross_cloud,
    test_dispatch,
    test_gateway,
    test_identity,
    test_network,
    test_nodes,
    test_reliability,
    test_storage,
    test_workloads,
)
from tests.policy.conftest import STACKS
from tests.policy.stacks import Fixture, changed, set_key, stack, urn, violations

TABLES = (
    test_control_plane,
    test_nodes,
    test_identity,
    test_cross_cloud,
    test_dispatch,
    test_storage,
    test_network,
    test_gateway,
    test_workloads,
    test_reliability,
)
NOT_ON_INPUTS = {"CF-01"}


@pytest.mark.parametrize("cloud", sorted(STACKS))
def test_compliant_stack_has_no_findings(cloud: str) -> None:
    assert engine.evaluate(stack(STACKS[cloud](), protect=True), {}) == []


def test_every_control_is_registered_with_a_description() -> None:
    assert len(CONTROLS) == 72
    assert set(CONTROLS) == controls.IDS  # the IDs that waivers are checked against
    assert all(c.title and len(c.description) > 30 for c in CONTROLS.values())


def _module(control: Control) -> str:
    modules = {rule.__module__ for rule in [*control.resource_rules, *control.stack_rules]}
    assert len(modules) == 1, (control.id, modules)
    return f"`{modules.pop().rsplit('.', 1)[-1]}.py`"


def test_the_readme_lists_every_control_with_its_title_and_module() -> None:
    text = (ROOT / "policy" / "README.md").read_text()
    rows = re.findall(r"^\| ([A-Z]{2}-\d{2}) \| (.+?) \| (`\w+\.py`) \|$", text, re.MULTILINE)
    assert rows == [(c.id, c.title, _module(c)) for c in sorted(CONTROLS.values(), key=lambda c: c.id)]


@pytest.mark.parametrize("cloud", sorted(STACKS))
def test_fixture_names_are_unique(cloud: str) -> None:
    """A mutation names its resource: two fixtures of one name would both change."""
    names = [f.name for f in STACKS[cloud]()]
    assert len(names) == len(set(names))


def test_every_control_checkable_on_inputs_has_mutation_tests() -> None:
    tested = {p.values[1] for table in TABLES for p in table.MUTATIONS}
    assert tested == set(CONTROLS) - NOT_ON_INPUTS


def test_resource_rules_are_pure_functions_of_type_and_props() -> None:
    cluster = next(f for f in STACKS["aws"]() if f.name == "eks")
    props = copy.deepcopy(cluster.props)
    assert control_plane.eks_endpoint(cluster.type, props) == []
    props["vpcConfig"]["publicAccessCidrs"] = ["0.0.0.0/0"]
    found = control_plane.eks_endpoint(cluster.type, props)
    assert [v.control for v in found] == ["CP-01"]
    assert "0.0.0.0/0" in found[0].message
    assert control_plane.eks_endpoint("gcp:container/cluster:Cluster", props) == []


def test_type_tokens_compare_case_insensitively() -> None:
    fixtures = [
        Fixture(f.type.upper(), f.name, f.props, f.deps, f.cloud, f.protect) if f.name == "gke" else f
        for f in STACKS["gcp"]()
    ]
    assert violations(
        "CP-13", stack(changed(fixtures, set_key("gke", "binaryAuthorization", {})), protect=True)
    )


@pytest.mark.parametrize(
    "token",
    [
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "AWS:S3/BUCKETVERSIONINGV2:BUCKETVERSIONINGV2",
    ],
)
def test_both_s3_families_count(token: str) -> None:
    assert canonical(token) == canonical(storage_s3.VERSIONING)
    fixtures = [
        Fixture(token, f.name, f.props, f.deps, f.cloud, f.protect) if f.name == "data-versioning" else f
        for f in STACKS["aws"]()
    ]
    assert violations("ST-03", stack(fixtures)) == []
    assert violations(
        "ST-03",
        stack(
            changed(fixtures, set_key("data-versioning", "versioningConfiguration.status", "Off")),
            protect=True,
        ),
    )


@pytest.mark.parametrize(
    "token", ["azure-native:monitor:DiagnosticSetting", "azure-native:insights:DiagnosticSetting"]
)
def test_audit_export_counts_under_both_azure_native_modules(token: str) -> None:
    fixtures = [
        Fixture(token, f.name, f.props, f.deps, f.cloud, f.protect) if f.name == "aks-audit" else f
        for f in STACKS["azure"]()
    ]
    assert violations("CP-06", stack(fixtures)) == []


FIREWALLED = {"defaultAction": "Deny", "ipRules": [{"iPAddressOrRange": "203.0.113.0/24", "action": "Allow"}]}


def test_acr_may_be_private_or_public_behind_a_firewall() -> None:
    firewalled = changed(
        STACKS["azure"](),
        set_key("acr", "publicNetworkAccess", "Enabled"),
        set_key("acr", "networkRuleSet", FIREWALLED),
    )
    assert violations("RG-03", stack(firewalled, protect=True)) == []
    wide_open = changed(firewalled, set_key("acr", "networkRuleSet.ipRules[0].iPAddressOrRange", "0.0.0.0/0"))
    assert [v.resource for v in violations("RG-03", stack(wide_open, protect=True))] == ["acr"]


def _with_subnets(subnet_ids: list[str]) -> Stack:
    """The AWS stack with a public subnet the GPU node group depends on (through a `depends_on` option, as
    depending on a network component does), and `subnetIds` known per input the way the engine sends it."""
    public = Fixture("aws:ec2/subnet:Subnet", "public-a", {"mapPublicIpOnLaunch": True}, ("vpc",), "aws")
    fixtures = [*STACKS["aws"](), public]
    fixtures = changed(fixtures, set_key("eks-train", "subnetIds", subnet_ids))
    base = stack(
        [dataclasses.replace(f, deps=(*f.deps, "public-a")) if f.name == "eks-train" else f for f in fixtures]
    )
    by_property = {"subnetIds": frozenset(urn("aws:ec2/subnet:Subnet", s) for s in subnet_ids)}
    resources = tuple(
        dataclasses.replace(r, property_deps=by_property) if r.name == "eks-train" else r
        for r in base.resources
    )
    return Stack(resources, base.protect)


def test_links_follow_the_input_not_every_dependency() -> None:
    assert violations("ND-06", _with_subnets(["private-a"])) == []
    found = violations("ND-06", _with_subnets(["private-a", "public-a"]))
    assert [(v.control, v.resource) for v in found] == [("ND-06", "public-a")]


def test_a_control_that_waivers_could_not_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"XX-01 is not in infra/controls\.py"):
        control("XX-01", "A control outside the list", "Waivers are checked against infra/controls.py.")
    assert "XX-01" not in CONTROLS
