"""EKS managed node groups: the on-demand system pool and one pool per configured GPU pool.

Every group launches from its own launch template (IMDSv2 only, hop limit 1, KMS-encrypted gp3 root
volume) and carries the Cluster Autoscaler's node-template tags, also copied onto the group's Auto
Scaling group, where the autoscaler reads them to build a node for a pool that is at zero.

A group gets only the private subnets whose zone offers its instance type: EKS refuses a node group with
a subnet in a zone without it (InvalidRequestException), and GPU types are missing from some zones of
most regions. Zone names map to different zones in each account, so EC2 is asked at deploy time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws

from infra import catalog
from infra.clouds.aws import policies
from infra.clouds.aws.context import AwsContext
from infra.clouds.base import (
    GENERAL_POOL,
    GPU_LABEL,
    GPU_PRESENT_LABEL,
    GPU_RESOURCE,
    GPU_TAINT_VALUE,
    POOL_LABEL,
)
from infra.config.types import GpuPool, SystemPool

GPU_TAINT = {"key": GPU_RESOURCE, "value": GPU_TAINT_VALUE, "effect": "NO_SCHEDULE"}
CA_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
"""The node role's only grants. The VPC CNI gets its ENI permissions through Pod Identity instead
(`cluster.py`), so pods that reach the node's credentials gain nothing beyond joining and pulling."""
_GRAVITON = re.compile(r"^[a-z]+[0-9]+g[a-z]*\.")


@dataclass(frozen=True, kw_only=True)
class PoolSpec:
    """One node group, resolved from config and the catalog."""

    name: str
    instance_type: str
    ami_type: str
    capacity_type: Literal["ON_DEMAND", "SPOT"]
    min_size: int
    max_size: int
    disk_gb: int
    labels: dict[str, str]
    taints: list[dict[str, str]] = field(default_factory=list)
    gpus: int = 0


def system_spec(pool: SystemPool) -> PoolSpec:
    arm = bool(_GRAVITON.match(pool.machine_type))
    return PoolSpec(
        name="system",
        instance_type=pool.machine_type,
        ami_type="AL2023_ARM_64_STANDARD" if arm else "AL2023_x86_64_STANDARD",
        capacity_type="ON_DEMAND",
        min_size=pool.min_nodes,
        max_size=pool.max_nodes,
        disk_gb=pool.disk_gb,
        labels={POOL_LABEL: GENERAL_POOL},
    )


def gpu_spec(pool: GpuPool, region: str) -> PoolSpec:
    gpu = pool.gpu_for("aws")
    offer = catalog.pick(gpu, "aws", region, pool.gpus_per_node)
    if offer is None:  # config validation rejects this first; kept as a guard for direct callers
        raise ValueError(f"no AWS machine with {pool.gpus_per_node} x {gpu} in {region}")
    return PoolSpec(
        name=pool.name,
        instance_type=offer.machine_type,
        # The AL2023 NVIDIA AMI ships the driver and container toolkit; the device plugin is not included.
        ami_type="AL2023_x86_64_NVIDIA",
        capacity_type="SPOT" if pool.spot else "ON_DEMAND",
        min_size=pool.min_nodes,
        max_size=pool.max_nodes,
        disk_gb=pool.disk_gb,
        labels={
            POOL_LABEL: pool.name,
            GPU_PRESENT_LABEL: "true",
            GPU_LABEL: gpu,
            # The autoscaler's AWS provider reads this label to wait for a new node's GPUs to register
            # instead of scaling up again while the device plugin starts.
            "k8s.amazonaws.com/accelerator": gpu,
        },
        taints=[dict(GPU_TAINT)],
        gpus=offer.gpus_per_node,
    )


def subnets_offering(
    instance_type: str, subnet_ids: Sequence[str], subnet_zones: Sequence[str], offered_in: Sequence[str]
) -> list[str]:
    """The subnets (in order) whose zone offers `instance_type`; none is an error that says where to look."""
    kept = [s for s, zone in zip(subnet_ids, subnet_zones, strict=True) if zone in offered_in]
    if not kept:
        raise ValueError(
            f"no private subnet is in a zone that offers {instance_type}: the subnets are in "
            f"{', '.join(subnet_zones)}, the type is offered in {', '.join(offered_in) or 'no zone'} "
            "(choose another GPU type or region, or more availabilityZones)"
        )
    return kept


def autoscaler_tags(spec: PoolSpec, cluster_name: str) -> dict[str, str]:
    """Discovery tags plus the node template (labels, taints, GPUs) for scale-from-zero."""
    tags = {"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{cluster_name}": "owned"}
    tags |= {f"{CA_TEMPLATE}/label/{k}": v for k, v in spec.labels.items()}
    effects = {
        "NO_SCHEDULE": "NoSchedule",
        "NO_EXECUTE": "NoExecute",
        "PREFER_NO_SCHEDULE": "PreferNoSchedule",
    }
    tags |= {f"{CA_TEMPLATE}/taint/{t['key']}": f"{t['value']}:{effects[t['effect']]}" for t in spec.taints}
    if spec.gpus:
        tags[f"{CA_TEMPLATE}/resources/{GPU_RESOURCE}"] = str(spec.gpus)
    return tags


@dataclass(frozen=True, kw_only=True)
class NodePoolsArgs:
    context: AwsContext
    cluster_name: pulumi.Input[str]
    cluster_version: pulumi.Input[str]
    subnet_ids: pulumi.Input[list[str]]
    subnet_zones: pulumi.Input[list[str]]
    """The zone of each subnet, in the same order."""
    disks_key_arn: pulumi.Input[str]
    system: PoolSpec
    gpu: Sequence[PoolSpec]
    autoscaled_cluster: str
    """The cluster name as plain text, for tag keys (an Output cannot be a key)."""
    after: Sequence[pulumi.Resource] = ()
    """What every group waits for (a component's `depends_on` does not reach its children)."""


class NodePools(pulumi.ComponentResource):
    def __init__(self, name: str, args: NodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("gpu-platform:aws:NodePools", name, None, opts)
        self._name, self._args = name, args
        self.role, self._grants = self._node_role()
        self.system = self._group(args.system)
        self.gpu = {spec.name: self._group(spec) for spec in args.gpu}
        self.register_outputs(
            {
                "nodeRoleArn": self.role.arn,
                "groups": [g.node_group_name for g in (self.system, *self.gpu.values())],
            }
        )

    def _node_role(self) -> tuple[aws.iam.Role, list[aws.iam.RolePolicyAttachment]]:
        context, child = self._args.context, pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{self._name}-node-role",
            assume_role_policy=policies.service_trust("ec2.amazonaws.com"),
            description="EKS nodes: join the cluster and pull images; nothing else",
            tags=context.tags("cluster"),
            opts=child,
        )
        grants = [
            aws.iam.RolePolicyAttachment(
                f"{self._name}-node-{policy}",
                role=role.name,
                policy_arn=context.managed_policy(policy),
                opts=child,
            )
            for policy in NODE_POLICIES
        ]
        return role, grants

    def _launch_template(self, spec: PoolSpec, tags: dict[str, str]) -> aws.ec2.LaunchTemplate:
        # No image id and no user data: EKS then supplies the AMI of `amiType` and its bootstrap.
        return aws.ec2.LaunchTemplate(
            f"{self._name}-{spec.name}-lt",
            description=f"EKS node group {spec.name}",
            update_default_version=True,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                # Pods (one hop further) cannot reach the node's credentials; they use Pod Identity.
                "http_put_response_hop_limit": 1,
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",  # the AL2023 EKS AMIs' root device
                    "ebs": {
                        "volume_size": spec.disk_gb,
                        "volume_type": "gp3",
                        "encrypted": "true",  # a string in the provider schema
                        "kms_key_id": self._args.disks_key_arn,
                        "delete_on_termination": "true",
                    },
                }
            ],
            tag_specifications=[
                {"resource_type": "instance", "tags": tags},
                {"resource_type": "volume", "tags": tags},
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _group(self, spec: PoolSpec) -> aws.eks.NodeGroup:
        args = self._args
        tags = {**args.context.tags("cluster"), "NodeGroup": spec.name}
        template = self._launch_template(spec, tags)
        ca_tags = autoscaler_tags(spec, args.autoscaled_cluster)
        group = aws.eks.NodeGroup(
            f"{self._name}-{spec.name}",
            cluster_name=args.cluster_name,
            version=args.cluster_version,
            node_role_arn=self.role.arn,
            subnet_ids=self._subnets(spec),
            ami_type=spec.ami_type,
            capacity_type=spec.capacity_type,
            instance_types=[spec.instance_type],
            scaling_config={
                "min_size": spec.min_size,
                "max_size": spec.max_size,
                "desired_size": spec.min_size,
            },
            update_config={"max_unavailable": 1},
            node_repair_config={"enabled": True},
            labels=spec.labels,
            taints=spec.taints,
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            tags={**tags, **ca_tags},
            opts=pulumi.ResourceOptions(
                parent=self,
                # The node role's policies: a node joins and pulls with them, and EKS needs them to
                # delete the group's instances and interfaces on destroy.
                depends_on=[*args.after, *self._grants],
                # After creation the autoscaler owns the size; a later `up` must not reset it.
                ignore_changes=["scalingConfig.desiredSize"],
            ),
        )
        if spec.gpus:
            self._tag_asg(spec, group, ca_tags)
        return group

    def _subnets(self, spec: PoolSpec) -> pulumi.Output[list[str]]:
        args = self._args
        offered = aws.ec2.get_instance_type_offerings_output(
            filters=[{"name": "instance-type", "values": [spec.instance_type]}],
            location_type="availability-zone",
            region=args.context.region,
            opts=args.context.invoke_opts(),
        )
        return pulumi.Output.all(args.subnet_ids, args.subnet_zones, offered.locations).apply(
            lambda v: subnets_offering(spec.instance_type, v[0], v[1], v[2])
        )

    def _tag_asg(self, spec: PoolSpec, group: aws.eks.NodeGroup, ca_tags: dict[str, str]) -> None:
        # EKS does not copy node group tags to the Auto Scaling group, where the autoscaler looks.
        asg = group.resources.apply(lambda r: r[0].autoscaling_groups[0].name)
        for key, value in ca_tags.items():
            if not key.startswith(CA_TEMPLATE):
                continue  # EKS puts the discovery tags on the group itself
            suffix = key.removeprefix(f"{CA_TEMPLATE}/").replace("/", "-").replace(".", "-")
            aws.autoscaling.Tag(
                f"{self._name}-{spec.name}-asg-{suffix}",
                autoscaling_group_name=asg,
                tag={"key": key, "value": value, "propagate_at_launch": False},
                opts=pulumi.ResourceOptions(parent=self),
            )
