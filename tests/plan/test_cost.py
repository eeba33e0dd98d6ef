"""The cost estimate: a small config priced by hand, each cloud's rules on hand-built resources, the type
tokens and property names the rules read checked against the installed SDKs, and the stacks' totals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plan.__main__ import EXIT_INVALID_CONFIG, main
from plan.cost import PriceError, cost_markdown, estimate
from plan.runner import Plan, PlannedResource
from tests.plan.test_cli import write_stack
from tests.plans import DELETE, plan_with, planned

H = 730
DEV_IDLE_GOAL = 450.0
LB = {"spec": {"type": "LoadBalancer"}}


def small_gcp_plan() -> Plan:
    """dev on GCP alone: a fixed pair of e2-standard-4 system nodes and one on-demand T4 pool of 1-3."""
    return plan_with(
        {
            "gpu-platform:clouds": ["gcp"],
            "gpu-platform:waivers": DELETE,
            "gpu-platform:gcp": {
                "systemPool": {"machineType": "e2-standard-4", "minNodes": 2, "maxNodes": 2, "diskGb": 80}
            },
            "gpu-platform:gpuPools": [
                {"name": "train", "gpu": "t4", "minNodes": 1, "maxNodes": 3, "spot": False, "diskGb": 200}
            ],
        }
    )


def test_small_gcp_config_priced_exactly() -> None:
    cost = estimate(small_gcp_plan())
    fixed = (
        0.10 * H
        - 0.10 * H  # zonal GKE cluster fee, covered by the free tier credit
        + 2 * 0.134012 * H  # two e2-standard-4 system nodes, on-demand
        + 2 * 80 * 0.10  # their 80 GB pd-balanced boot disks
        + 0.005 * H  # one Cloud NAT address
        + 50 * 0.045  # assumed 50 GiB through the NAT
        + 4 * 0.06  # four KMS key versions
        + 50 * 0.020  # assumed 50 GB in the bucket
        + (5 - 0.5) * 0.10  # assumed 5 GB of images, 0.5 GB free
        + 0.025 * H  # the serving Service's internal load balancer (one forwarding rule)
    )
    idle = fixed + 1 * 0.54 * H + 1 * 200 * 0.10 + 3 * 0.0014 * H  # one T4 node and its disk; 3 VMs on NAT
    busy = fixed + 3 * 0.54 * H + 3 * 200 * 0.10 + 5 * 0.0014 * H
    assert list(cost.clouds) == ["gcp"]
    assert cost.idle_monthly == pytest.approx(idle, abs=1e-9)
    assert cost.busy_monthly == pytest.approx(busy, abs=1e-9)
    assert round(idle, 2) == 654.76
    assert round(busy, 2) == 1485.21


def resource(
    type_: str, name: str, cloud: str | None, inputs: dict[str, Any], deps: tuple[str, ...] = ()
) -> PlannedResource:
    return PlannedResource(
        type_, name, f"urn:{name}", None, None, cloud, True, inputs, list(deps), False, False
    )


def aws_resources() -> list[PlannedResource]:
    template = resource(
        "aws:ec2/launchTemplate:LaunchTemplate",
        "lt",
        "aws",
        {
            "blockDeviceMappings": [
                {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 40, "volumeType": "gp3"}}
            ]
        },
    )
    group = {
        "instanceTypes": ["g4dn.xlarge"],
        "capacityType": "SPOT",
        "scalingConfig": {"minSize": 0, "maxSize": 2},
    }
    internal = {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}
    return [
        resource("aws:eks/cluster:Cluster", "eks", "aws", {"upgradePolicy": {"supportType": "STANDARD"}}),
        template,
        resource("aws:eks/nodeGroup:NodeGroup", "gpu", "aws", group, (template.urn,)),
        resource("aws:ec2/natGateway:NatGateway", "nat", "aws", {}),
        resource("aws:ec2/eip:Eip", "eip", "aws", {}),
        resource("aws:cloudwatch/logGroup:LogGroup", "logs", "aws", {}),
        resource(
            "kubernetes:core/v1:Service", "aws-lb", "aws", {**LB, "metadata": {"annotations": internal}}
        ),
        resource("aws:iam/role:Role", "role", "aws", {}),
        resource("aws:ec2/vpcEndpoint:VpcEndpoint", "s3", "aws", {"vpcEndpointType": "Gateway"}),
        resource(
            "aws:ec2/vpcEndpoint:VpcEndpoint",
            "ecr",
            "aws",
            {"vpcEndpointType": "Interface", "subnetIds": ["a", "b"]},
        ),
    ]


def azure_resources() -> list[PlannedResource]:
    profile = {
        "name": "system",
        "mode": "System",
        "vmSize": "Standard_D2s_v5",
        "count": 2,
        "osDiskSizeGB": 100,
    }
    gpu = {"vmSize": "Standard_NC4as_T4_v3", "enableAutoScaling": True, "minCount": 1, "maxCount": 4}
    cluster = {
        "sku": {"tier": "Standard"},
        "agentPoolProfiles": [profile],
        "networkProfile": {"outboundType": "userAssignedNATGateway"},
    }
    return [
        resource("azure-native:containerservice:ManagedCluster", "aks", "azure", cluster),
        resource(
            "azure-native:containerservice:AgentPool", "t4", "azure", {**gpu, "osDiskType": "Ephemeral"}
        ),
        resource("azure-native:containerregistry:Registry", "acr", "azure", {"sku": {"name": "Standard"}}),
        resource("azure-native:operationalinsights:Workspace", "la", "azure", {"sku": {"name": "PerGB2018"}}),
        resource("kubernetes:core/v1:Service", "az-lb", "azure", LB),
    ]


def hand_plan() -> Plan:
    """One EKS, one AKS and their nodes, NAT, registry, logs and a LoadBalancer Service on each cloud."""
    gcp = [
        resource("kubernetes:core/v1:Service", "gcp-lb", "gcp", LB),
        resource("kubernetes:core/v1:Service", "cluster-ip", "gcp", {"spec": {"type": "ClusterIP"}}),
    ]
    return Plan("p", "hand", [*aws_resources(), *azure_resources(), *gcp], {}, [])


def test_hand_built_clouds_priced_exactly() -> None:
    cost = estimate(hand_plan())
    aws_fixed = 0.10 * H + 0.045 * H + 50 * 0.045 + 0.005 * H + 5 * 0.50 + 0.0225 * H + 1 * 0.006 * H
    aws_fixed += 2 * 0.01 * H  # the interface endpoint in two zones; the gateway endpoint is free
    aws_idle, aws_busy = aws_fixed, aws_fixed + 2 * 0.2104 * H + 2 * 40 * 0.08
    # AKS Standard tier, two D2s_v5 system nodes with P10 (128 GiB) OS disks; the T4 pool has ephemeral disks.
    az_fixed = 0.10 * H + 2 * 0.096 * H + 2 * 19.71 + 0.667 * H / 24 + (10 - 5) * 2.30 + 0.025 * H
    az_idle, az_busy = az_fixed + 1 * 0.526 * H, az_fixed + 4 * 0.526 * H
    assert cost.clouds["aws"].idle_monthly == pytest.approx(aws_idle, abs=1e-9)
    assert cost.clouds["aws"].busy_monthly == pytest.approx(aws_busy, abs=1e-9)
    assert cost.clouds["azure"].idle_monthly == pytest.approx(az_idle, abs=1e-9)
    assert cost.clouds["azure"].busy_monthly == pytest.approx(az_busy, abs=1e-9)
    assert cost.clouds["gcp"].idle_monthly == pytest.approx(0.025 * H, abs=1e-9)
    assert cost.unpriced == ()


@pytest.mark.parametrize(
    ("type_", "inputs", "message"),
    [
        (
            "aws:eks/nodeGroup:NodeGroup",
            {"instanceTypes": ["x9.huge"], "scalingConfig": {"minSize": 1}},
            "x9.huge",
        ),
        ("gcp:storage/bucket:Bucket", {"storageClass": "REGIONAL_FAST"}, "REGIONAL_FAST"),
        ("azure-native:containerregistry:Registry", {"sku": {"name": "Gold"}}, "Basic, Standard, Premium"),
        ("aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcEndpointType": "GatewayLoadBalancer"}, "Gateway, Interface"),
        ("kubernetes:core/v1:Service", {"spec": {"type": "LoadBalancer"}}, "cannot tell"),
    ],
)
def test_what_cannot_be_priced_is_an_error_never_zero(
    type_: str, inputs: dict[str, Any], message: str
) -> None:
    cloud = None if type_.startswith("kubernetes") else type_.split(":", maxsplit=1)[0].replace("-native", "")
    plan = Plan("p", "s", [resource(type_, "thing", cloud, inputs)], {}, [])
    with pytest.raises(PriceError, match=message) as err:
        estimate(plan)
    assert "thing" in str(err.value)


def test_unknown_machine_error_lists_the_priced_ones() -> None:
    plan = Plan(
        "p",
        "s",
        [resource("aws:eks/nodeGroup:NodeGroup", "ng", "aws", {"instanceTypes": ["t2.nano"]})],
        {},
        [],
    )
    with pytest.raises(PriceError, match=r"priced machine types: .*g4dn\.xlarge.*t3\.medium"):
        estimate(plan)


def test_a_type_neither_priced_nor_free_is_reported() -> None:
    plan = Plan("p", "s", [resource("aws:ec2/transitGateway:TransitGateway", "tgw", "aws", {})], {}, [])
    assert estimate(plan).unpriced == ("aws:ec2/transitGateway:TransitGateway",)


def test_json_document_shape() -> None:
    doc = estimate(hand_plan()).to_json()
    assert set(doc) == {"currency", "idleMonthly", "busyMonthly", "clouds"}
    assert doc["currency"] == "USD"
    assert set(doc["clouds"]) == {"aws", "gcp", "azure"}
    line = doc["clouds"]["aws"]["lines"][0]
    assert {"unitPrice", "unit", "idleQuantity", "busyQuantity", "source", "date", "idleMonthly"} <= set(line)
    per_cloud = sum(c["idleMonthly"] for c in doc["clouds"].values())
    assert doc["idleMonthly"] == pytest.approx(per_cloud, abs=0.02)


def test_markdown_has_totals_and_every_line() -> None:
    cost = estimate(hand_plan())
    text = cost_markdown(cost)
    assert f"${cost.idle_monthly:,.2f}" in text
    assert "| **azure** |" in text
    assert "Container Registry Standard" in text


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_totals(stack: str) -> None:
    cost = estimate(planned(stack))
    assert cost.unpriced == ()
    assert 0 < cost.idle_monthly < cost.busy_monthly
    gpu_lines = [line for c in cost.clouds.values() for line in c.lines if line.charge.item.startswith("GPU")]
    assert gpu_lines


def test_dev_idle_within_goal_on_all_three_clouds() -> None:
    cost = estimate(planned("dev"))
    assert set(cost.clouds) == {"aws", "gcp", "azure"}
    assert cost.idle_monthly <= DEV_IDLE_GOAL


def test_cli_cost_with_an_unpriced_machine_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    system = {"machineType": "e2-highmem-2", "minNodes": 1, "maxNodes": 1}
    project = write_stack(tmp_path, "odd", {"gpu-platform:gcp": {"systemPool": system}})
    assert main(["--stack", "odd", "--cwd", str(project), "--cost"]) == EXIT_INVALID_CONFIG
    err = capsys.readouterr().err
    assert "no gcp price for machine type 'e2-highmem-2'" in err
    assert "e2-standard-2" in err
