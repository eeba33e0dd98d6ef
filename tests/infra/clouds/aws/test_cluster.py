"""EKS control-plane controls (docs/controls.md CP-*), asserted on the captured inputs of dev and prod."""

from __future__ import annotations

import json

from infra.clouds.aws.cluster import LOG_TYPES
from infra.versions import EKS_PINS
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import (
    ADDON,
    ATTACHMENT,
    CLUSTER,
    KEY,
    NODE_GROUP,
    addon,
    aws_of,
    cluster_of,
    depends_on,
    named,
    one,
    stack_config,
)
from tests.infra.clouds.federated import gke_nat

OPEN = {"0.0.0.0/0", "::/0"}


def test_cp01_endpoint_private_and_public_restricted(stack_plan: Plan) -> None:
    """CP-01: private endpoint on; the public one only for the configured CIDRs and, where EKS is a
    MultiKueue worker (prod), the manager's (GKE's) NAT addresses; never the internet."""
    vpc = one(stack_plan, CLUSTER).inputs["vpcConfig"]
    access = stack_config(stack_plan.stack).aws.api_access  # type: ignore[union-attr]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    manager = [f"{ip}/32" for ip in gke_nat(stack_plan)] if stack_plan.stack == "prod" else []
    assert vpc["publicAccessCidrs"] == [*access.authorized_cidrs, *manager]
    assert not OPEN & set(vpc["publicAccessCidrs"])


def test_cp04_secrets_encrypted_with_stack_cmk(stack_plan: Plan) -> None:
    """CP-04: envelope encryption of secrets with this stack's KMS key."""
    cluster = one(stack_plan, CLUSTER)
    encryption = cluster.inputs["encryptionConfig"]
    assert encryption["resources"] == ["secrets"]
    assert encryption["provider"]["keyArn"].startswith("arn:aws:kms:")
    assert depends_on(cluster, named(stack_plan, KEY, "-keys-secrets"))


def test_cp05_every_key_rotates(stack_plan: Plan) -> None:
    """CP-05: rotation on every CMK (secrets, storage, registry, logs, disks)."""
    keys = aws_of(stack_plan, KEY)
    assert {k.name.rsplit("-", 1)[1] for k in keys} == {"secrets", "storage", "registry", "logs", "disks"}
    assert all(k.inputs["enableKeyRotation"] is True for k in keys)


def test_cp06_every_control_plane_log_type(stack_plan: Plan) -> None:
    """CP-06: api, audit, authenticator, controllerManager and scheduler logs."""
    assert set(one(stack_plan, CLUSTER).inputs["enabledClusterLogTypes"]) == set(LOG_TYPES)
    assert len(LOG_TYPES) == 5


def test_cp07_log_group_precreated_with_retention_and_kms(stack_plan: Plan) -> None:
    """CP-07: `/aws/eks/<cluster>/cluster` exists before the cluster, with retention and a CMK."""
    cluster = one(stack_plan, CLUSTER)
    group = named(stack_plan, "aws:cloudwatch/logGroup:LogGroup", "-cluster-logs")
    assert group.inputs["name"] == f"/aws/eks/{cluster.inputs['name']}/cluster"
    assert group.inputs["retentionInDays"] == stack_config(stack_plan.stack).aws.log_retention_days  # type: ignore[union-attr]
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert depends_on(group, named(stack_plan, KEY, "-keys-logs"))
    assert depends_on(cluster, group)


def test_cp08_vpc_cni_enforces_network_policy(stack_plan: Plan) -> None:
    """CP-08: the VPC CNI add-on runs its network-policy agent."""
    values = json.loads(addon(stack_plan, "vpc-cni").inputs["configurationValues"])
    assert values["enableNetworkPolicy"] == "true"


def test_cp10_api_authentication_and_deployer_access(stack_plan: Plan) -> None:
    """CP-10: access entries only (no aws-auth ConfigMap); the deployer is cluster admin by entry."""
    cluster = one(stack_plan, CLUSTER)
    assert cluster.inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    deployer = stack_config(stack_plan.stack).aws.deployer_principal_arn  # type: ignore[union-attr]
    entry = named(stack_plan, "aws:eks/accessEntry:AccessEntry", "-cluster-deployer")
    assert entry.inputs["principalArn"] == deployer
    assert entry.inputs["type"] == "STANDARD"
    # Beside it, in prod only, MultiKueue's refresher (tests/infra/clouds/aws/test_api_access.py), which
    # no access policy is associated with.
    others = [e for e in stack_plan.of_type("aws:eks/accessEntry:AccessEntry") if e is not entry]
    assert [e.name for e in others] == (
        ["prod-aws-federation-gcp-api-access"] if stack_plan.stack == "prod" else []
    )
    admin = one(stack_plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert admin.inputs["principalArn"] == deployer
    assert admin.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert admin.inputs["accessScope"] == {"type": "cluster"}


def test_cp11_pod_identity_agent_installed(stack_plan: Plan) -> None:
    """CP-11: workload identity through the EKS Pod Identity agent add-on."""
    agent = addon(stack_plan, "eks-pod-identity-agent")
    section = stack_config(stack_plan.stack).aws
    assert section is not None
    assert agent.inputs["addonVersion"] == section.pinned_addons().eks_pod_identity_agent


def test_cluster_version_name_and_protection(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan.stack)
    cluster = one(stack_plan, CLUSTER)
    assert cluster.inputs["name"] == cluster_of(stack_plan)
    assert cluster.inputs["version"] == cfg.aws.kubernetes_version  # type: ignore[union-attr]
    assert cluster.inputs["bootstrapSelfManagedAddons"] is False
    assert cluster.inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert cluster.protect is cfg.protect
    assert cluster.inputs["deletionProtection"] is cfg.protect
    assert cfg.protect is (stack_plan.stack == "prod")


def test_addons_pinned_and_ordered(stack_plan: Plan) -> None:
    """Every add-on at the version recorded for the stack's minor (the stack files set none); nodes wait
    for the CNI, CoreDNS waits for nodes, and the node add-ons (DaemonSets, idle until a node joins) wait for
    nothing but the cluster and their roles."""
    section = stack_config(stack_plan.stack).aws
    assert section is not None
    assert section.addons is None
    pins = EKS_PINS[section.kubernetes_version]
    expected = {
        "vpc-cni": pins.vpc_cni,
        "coredns": pins.coredns,
        "kube-proxy": pins.kube_proxy,
        "eks-pod-identity-agent": pins.eks_pod_identity_agent,
        "metrics-server": pins.metrics_server,
    }
    assert {a.inputs["addonName"]: a.inputs["addonVersion"] for a in aws_of(stack_plan, ADDON)} == expected
    system = named(stack_plan, "aws:eks/nodeGroup:NodeGroup", "-nodes-system")
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert depends_on(system, addon(stack_plan, name))
    # Deployments: their create waits for a running pod, so for nodes.
    assert depends_on(addon(stack_plan, "coredns"), system)
    assert depends_on(addon(stack_plan, "metrics-server"), system)
    for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        waits = {d for d in addon(stack_plan, name).depends_on if d != one(stack_plan, CLUSTER).urn}
        assert not {r.urn for r in aws_of(stack_plan, ADDON)} & waits


def test_cluster_and_nodes_wait_for_their_role_policies(stack_plan: Plan) -> None:
    """EKS uses the roles' policies while it creates, and deletes, the cluster's and nodes' ENIs."""
    cluster = one(stack_plan, CLUSTER)
    assert depends_on(cluster, named(stack_plan, ATTACHMENT, "-cluster-AmazonEKSClusterPolicy"))
    for group in aws_of(stack_plan, NODE_GROUP):
        for policy in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"):
            assert depends_on(group, named(stack_plan, ATTACHMENT, f"-node-{policy}"))


def test_the_cluster_waits_for_subnets_not_for_nat(stack_plan: Plan) -> None:
    """The control plane needs its subnets only; nodes need a route out through NAT to pull images."""
    cluster = one(stack_plan, CLUSTER)
    routes = [r for r in aws_of(stack_plan, "aws:ec2/route:Route") if r.name.endswith("-default")]
    private = [r for r in routes if "-private-" in r.name]
    assert private
    assert not any(
        depends_on(cluster, r) for r in [*routes, *aws_of(stack_plan, "aws:ec2/natGateway:NatGateway")]
    )
    for group in aws_of(stack_plan, NODE_GROUP):
        assert all(depends_on(group, r) for r in private)


def test_cni_credentials_through_pod_identity(stack_plan: Plan) -> None:
    """The CNI's ENI permissions live on a Pod Identity role for aws-node, not on the node role."""
    cni = addon(stack_plan, "vpc-cni")
    [association] = cni.inputs["podIdentityAssociations"]
    assert association["serviceAccount"] == "aws-node"
    role = named(stack_plan, "aws:iam/role:Role", "-cluster-cni-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "aws-node"
    attachment = named(
        stack_plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "-cni-AmazonEKS_CNI_Policy"
    )
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"


def test_kubernetes_provider_waits_for_access_and_system_nodes(stack_plan: Plan) -> None:
    """Not for CoreDNS: no object needs DNS to be created, and no GPU group: nothing waits on min-0 pools."""
    provider = next(r for r in stack_plan.of_type("pulumi:providers:kubernetes") if r.cloud == "aws")
    assert "kubeconfig" in provider.secret_paths
    assert depends_on(provider, one(stack_plan, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"))
    groups = {g.urn for g in aws_of(stack_plan, NODE_GROUP)}
    assert set(provider.depends_on) & groups == {named(stack_plan, NODE_GROUP, "-nodes-system").urn}
    assert not depends_on(provider, addon(stack_plan, "coredns"))
