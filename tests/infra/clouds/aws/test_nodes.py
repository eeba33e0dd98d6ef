"""Node controls (docs/controls.md ND-*) and the autoscaler wiring, on the dev and prod plans."""

from __future__ import annotations

from infra.clouds.aws.nodepools import CA_TEMPLATE, NODE_POLICIES
from plan.runner import Plan
from tests.infra.clouds.aws.helpers import (
    ATTACHMENT,
    LAUNCH_TEMPLATE,
    NODE_GROUP,
    ROLE_POLICY,
    aws_of,
    cluster_of,
    depends_on,
    named,
    node_group,
    stack_config,
)

TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}


def _gpu_groups(plan: Plan) -> list[str]:
    return [p.name for p in stack_config(plan.stack).pools_on("aws")]


def test_one_group_and_template_per_pool(stack_plan: Plan) -> None:
    groups = aws_of(stack_plan, NODE_GROUP)
    assert len(groups) == 1 + len(_gpu_groups(stack_plan))
    assert len(aws_of(stack_plan, LAUNCH_TEMPLATE)) == len(groups)


def test_nd01_imdsv2_hop_limit_one_on_every_group(stack_plan: Plan) -> None:
    """ND-01: every node group launches from its own template with IMDSv2 required and hop limit 1."""
    templates = {t.urn: t for t in aws_of(stack_plan, LAUNCH_TEMPLATE)}
    used = set()
    for group in aws_of(stack_plan, NODE_GROUP):
        [template] = [templates[u] for u in group.depends_on if u in templates]
        assert group.inputs["launchTemplate"]["id"].startswith("lt-")
        assert template.inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
        }
        used.add(template.urn)
    assert used == set(templates)


def test_nd06_no_public_ips_no_ssh(stack_plan: Plan) -> None:
    """ND-06: no subnet hands out public addresses; no node group opens remote access."""
    subnets = aws_of(stack_plan, "aws:ec2/subnet:Subnet")
    assert subnets
    assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
    assert all("remoteAccess" not in g.inputs for g in aws_of(stack_plan, NODE_GROUP))
    assert all("keyName" not in t.inputs for t in aws_of(stack_plan, LAUNCH_TEMPLATE))


def test_nd07_root_volumes_encrypted_with_cmk(stack_plan: Plan) -> None:
    """ND-07: KMS-encrypted gp3 root volume, sized from config."""
    cfg = stack_config(stack_plan.stack)
    sizes = {"system": cfg.aws.system_pool.disk_gb} | {p.name: p.disk_gb for p in cfg.pools_on("aws")}  # type: ignore[union-attr]
    disks_key = named(stack_plan, "aws:kms/key:Key", "-keys-disks")
    for pool, size in sizes.items():
        template = named(stack_plan, LAUNCH_TEMPLATE, f"-nodes-{pool}-lt")
        [mapping] = template.inputs["blockDeviceMappings"]
        assert mapping["deviceName"] == "/dev/xvda"
        ebs = mapping["ebs"]
        assert (ebs["encrypted"], ebs["volumeType"], ebs["volumeSize"]) == ("true", "gp3", size)
        assert ebs["kmsKeyId"].startswith("arn:aws:kms:")
        assert depends_on(template, disks_key)


def test_nd08_gpu_pools_tainted_system_pool_not(stack_plan: Plan) -> None:
    """ND-08: `nvidia.com/gpu=present:NoSchedule` on every GPU group, none on the system group."""
    for pool in _gpu_groups(stack_plan):
        assert node_group(stack_plan, pool).inputs["taints"] == [TAINT]
    assert node_group(stack_plan, "system").inputs.get("taints", []) == []


def test_nd09_gpu_pools_use_nvidia_ami(stack_plan: Plan) -> None:
    """ND-09: the AL2023 NVIDIA AMI (driver and toolkit managed by AWS)."""
    for pool in _gpu_groups(stack_plan):
        assert node_group(stack_plan, pool).inputs["amiType"] == "AL2023_x86_64_NVIDIA"
    assert node_group(stack_plan, "system").inputs["amiType"] == "AL2023_x86_64_STANDARD"


def test_nd10_spot_only_where_configured_system_on_demand(stack_plan: Plan) -> None:
    """ND-10: Spot only on the pools that ask for it; the system pool is on-demand."""
    cfg = stack_config(stack_plan.stack)
    assert node_group(stack_plan, "system").inputs["capacityType"] == "ON_DEMAND"
    for pool in cfg.pools_on("aws"):
        expected = "SPOT" if pool.spot else "ON_DEMAND"
        assert node_group(stack_plan, pool.name).inputs["capacityType"] == expected


def test_pool_labels_sizes_and_desired_left_to_autoscaler(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan.stack)
    system = node_group(stack_plan, "system")
    assert system.inputs["labels"] == {"gpu-platform/pool": "general"}
    for pool in cfg.pools_on("aws"):
        group = node_group(stack_plan, pool.name)
        labels = group.inputs["labels"]
        assert labels["gpu-platform/pool"] == pool.name
        assert labels["nvidia.com/gpu.present"] == "true"
        assert labels["gpu-platform/gpu"] == pool.gpu_for("aws")
        assert group.inputs["scalingConfig"] == {
            "minSize": pool.min_nodes,
            "maxSize": pool.max_nodes,
            "desiredSize": pool.min_nodes,
        }
        assert group.ignore_changes == ["scalingConfig.desiredSize"]


def test_node_role_has_only_join_and_pull(stack_plan: Plan) -> None:
    """ID-02 (node side): the node role carries the two managed policies and no app permissions."""
    role = named(stack_plan, "aws:iam/role:Role", "-nodes-node-role")
    attached = [a for a in aws_of(stack_plan, ATTACHMENT) if depends_on(a, role)]
    assert sorted(a.inputs["policyArn"] for a in attached) == sorted(
        f"arn:aws:iam::aws:policy/{p}" for p in NODE_POLICIES
    )
    assert not [p for p in aws_of(stack_plan, ROLE_POLICY) if depends_on(p, role)]
    assert "inlinePolicies" not in role.inputs
    assert "managedPolicyArns" not in role.inputs


def test_scale_from_zero_tags_on_groups_and_asgs(stack_plan: Plan) -> None:
    """Cluster Autoscaler discovers the groups and builds a labelled, tainted GPU node for an empty pool."""
    cluster = cluster_of(stack_plan)
    tags = aws_of(stack_plan, "aws:autoscaling/tag:Tag")
    for pool in stack_config(stack_plan.stack).pools_on("aws"):
        group = node_group(stack_plan, pool.name)
        assert group.inputs["tags"]["k8s.io/cluster-autoscaler/enabled"] == "true"
        assert group.inputs["tags"][f"k8s.io/cluster-autoscaler/{cluster}"] == "owned"
        template = {k: v for k, v in group.inputs["tags"].items() if k.startswith(CA_TEMPLATE)}
        assert template[f"{CA_TEMPLATE}/label/gpu-platform/pool"] == pool.name
        assert template[f"{CA_TEMPLATE}/label/nvidia.com/gpu.present"] == "true"
        assert template[f"{CA_TEMPLATE}/taint/nvidia.com/gpu"] == "present:NoSchedule"
        assert template[f"{CA_TEMPLATE}/resources/nvidia.com/gpu"] == str(pool.gpus_per_node)
        on_asg = {t.inputs["tag"]["key"]: t.inputs["tag"]["value"] for t in tags if depends_on(t, group)}
        assert on_asg == template


def test_autoscaler_pinned_on_system_pool_with_pod_identity(stack_plan: Plan) -> None:
    cfg = stack_config(stack_plan.stack)
    (deployment,) = aws_of(stack_plan, "kubernetes:apps/v1:Deployment")
    pod = deployment.inputs["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["image"] == cfg.aws.autoscaler_image()  # type: ignore[union-attr]
    assert "@sha256:" in container["image"]
    assert pod["nodeSelector"] == {"gpu-platform/pool": "general"}
    tags = f"k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/{cluster_of(stack_plan)}"
    discovery = f"--node-group-auto-discovery=asg:tag={tags}"
    assert discovery in container["command"]
    association = named(
        stack_plan, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "-autoscaler-pod-identity"
    )
    assert (association.inputs["namespace"], association.inputs["serviceAccount"]) == (
        "kube-system",
        "cluster-autoscaler",
    )
    assert depends_on(deployment, association)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
