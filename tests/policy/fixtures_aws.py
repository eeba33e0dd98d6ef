"""A compliant AWS stack: VPC, EKS with a system and a GPU node group, S3, ECR, IAM for pods (the
Kubernetes objects are added by conftest.aws_full)."""

from __future__ import annotations

import json
from typing import Any

from tests.policy.stacks import Fixture

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1111"
ISSUER = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
BUCKET = "acme-data"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/gpu-platform/"
BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust(principal: dict[str, Any], action: Any, condition: dict[str, Any] | None = None) -> str:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action}
    return doc({**statement, "Condition": condition} if condition else statement)


def _aws(type_: str, name: str, props: dict[str, Any], *deps: str, protect: bool = False) -> Fixture:
    return Fixture(type_, name, props, deps, "aws", protect)


def _network() -> list[Fixture]:
    return [
        _aws("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.10.0.0/16"}),
        _aws("aws:ec2/flowLog:FlowLog", "flow", {"vpcId": "vpc-1", "trafficType": "ALL"}, "vpc"),
        _aws("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "default-sg", {"vpcId": "vpc-1"}, "vpc"),
        _aws("aws:ec2/subnet:Subnet", "private-a", {"vpcId": "vpc-1", "mapPublicIpOnLaunch": False}, "vpc"),
        _aws(
            "aws:ec2/securityGroup:SecurityGroup",
            "nodes-sg",
            {
                "ingress": [
                    {"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.10.0.0/16"]}
                ]
            },
        ),
        _aws(
            "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
            "ssh-internal",
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "cidrIpv4": "10.10.0.0/16"},
        ),
    ]


def _cluster() -> list[Fixture]:
    cluster = {
        "name": "dev-eks",
        "version": "1.33",
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eks",
        "vpcConfig": {
            "endpointPrivateAccess": True,
            "endpointPublicAccess": True,
            "publicAccessCidrs": ["203.0.113.0/24"],
            "subnetIds": ["subnet-1"],
        },
        "encryptionConfig": {"provider": {"keyArn": KEY_ARN}, "resources": ["secrets"]},
        "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
        "accessConfig": {"authenticationMode": "API"},
    }
    cni = {
        "clusterName": "dev-eks",
        "addonName": "vpc-cni",
        "configurationValues": '{"enableNetworkPolicy": "true"}',
        # The add-on's own Pod Identity association scopes the CNI role to kube-system/aws-node (ID-01).
        "podIdentityAssociations": [{"serviceAccount": "aws-node", "roleArn": "arn:aws:iam::1:role/cni"}],
    }
    pods = trust({"Service": "pods.eks.amazonaws.com"}, ["sts:AssumeRole", "sts:TagSession"])
    return [
        _aws("aws:kms/key:Key", "eks-key", {"enableKeyRotation": True}, protect=True),
        _aws("aws:eks/cluster:Cluster", "eks", cluster, "eks-key", "private-a"),
        _aws(
            "aws:cloudwatch/logGroup:LogGroup",
            "eks-logs",
            {"name": "/aws/eks/dev-eks/cluster", "retentionInDays": 30, "kmsKeyId": KEY_ARN},
        ),
        _aws("aws:iam/role:Role", "cni-role", {"assumeRolePolicy": pods}),
        _aws("aws:eks/addon:Addon", "vpc-cni", cni, "eks", "cni-role"),
        _aws(
            "aws:eks/addon:Addon",
            "pod-identity",
            {"clusterName": "dev-eks", "addonName": "eks-pod-identity-agent"},
            "eks",
        ),
    ]


def _template(name: str) -> Fixture:
    props = {
        "metadataOptions": {
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            "httpEndpoint": "enabled",
        },
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 100}}],
    }
    return _aws("aws:ec2/launchTemplate:LaunchTemplate", name, props)


def _node_groups() -> list[Fixture]:
    base = {
        "clusterName": "dev-eks",
        "launchTemplate": {"id": "lt-1", "version": "1"},
        "subnetIds": ["subnet-1"],
    }
    system = {
        **base,
        "instanceTypes": ["m6i.large"],
        "amiType": "AL2023_x86_64_STANDARD",
        "capacityType": "ON_DEMAND",
        "labels": {"gpu-platform/pool": "general"},
    }
    gpu = {
        **base,
        "instanceTypes": ["g5.xlarge"],
        "amiType": "AL2023_x86_64_NVIDIA",
        "capacityType": "SPOT",
        "labels": {"gpu-platform/pool": "train", "nvidia.com/gpu.present": "true"},
        "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}],
    }
    node_trust = trust({"Service": "ec2.amazonaws.com"}, "sts:AssumeRole")
    worker = "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"
    return [
        _template("system-lt"),
        _template("gpu-lt"),
        _aws("aws:iam/role:Role", "node-role", {"assumeRolePolicy": node_trust}),
        _aws(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "node-worker",
            {"policyArn": worker},
            "node-role",
        ),
        _aws("aws:eks/nodeGroup:NodeGroup", "system", system, "eks", "system-lt", "private-a", "node-role"),
        _aws("aws:eks/nodeGroup:NodeGroup", "eks-train", gpu, "eks", "gpu-lt", "private-a", "node-role"),
    ]


def _pod_roles() -> list[Fixture]:
    pods = trust({"Service": "pods.eks.amazonaws.com"}, ["sts:AssumeRole", "sts:TagSession"])
    irsa = trust(
        {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"},
        "sts:AssumeRoleWithWebIdentity",
        {
            "StringEquals": {
                f"{ISSUER}:sub": "system:serviceaccount:ml:serving",
                f"{ISSUER}:aud": "sts.amazonaws.com",
            }
        },
    )
    train_policy = doc(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        },
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
    )
    serve_policy = doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/models/*"},
        {"Effect": "Allow", "Action": ["ec2:Describe*", "ecr:GetAuthorizationToken"], "Resource": "*"},
    )
    replicate_policy = doc(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"arn:aws:s3:::{BUCKET}/models/digits/*",
        },
    )
    association = {"clusterName": "dev-eks", "namespace": "ml", "serviceAccount": "trainer", "roleArn": "arn"}
    return [
        _aws("aws:iam/role:Role", "trainer-role", {"assumeRolePolicy": pods}),
        _aws("aws:iam/rolePolicy:RolePolicy", "trainer-s3", {"policy": train_policy}, "trainer-role"),
        _aws(
            "aws:eks/podIdentityAssociation:PodIdentityAssociation",
            "trainer-pia",
            association,
            "trainer-role",
            "eks",
        ),
        _aws("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc", {"url": f"https://{ISSUER}"}),
        _aws("aws:iam/role:Role", "serving-role", {"assumeRolePolicy": irsa}),
        _aws("aws:iam/rolePolicy:RolePolicy", "serving-s3", {"policy": serve_policy}, "serving-role"),
        _aws("aws:iam/role:Role", "replicator-role", {"assumeRolePolicy": irsa}),
        _aws(
            "aws:iam/rolePolicy:RolePolicy", "replicator-s3", {"policy": replicate_policy}, "replicator-role"
        ),
    ]


def _tls_policy() -> str:
    arn = f"arn:aws:s3:::{BUCKET}"
    return doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def _bucket() -> list[Fixture]:
    sse = {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
    lifecycle = [
        {"id": "abort", "status": "Enabled", "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}},
        {"id": "old", "status": "Enabled", "noncurrentVersionExpiration": {"noncurrentDays": 30}},
    ]
    sides: dict[str, tuple[str, dict[str, Any]]] = {
        # The deprecated V2 family (versioning here) counts the same as the v7 names.
        "data-pab": ("bucketPublicAccessBlock:BucketPublicAccessBlock", dict.fromkeys(BLOCKS, True)),
        "data-sse": (
            "bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            {"rules": [{"applyServerSideEncryptionByDefault": sse, "bucketKeyEnabled": True}]},
        ),
        "data-versioning": (
            "bucketVersioningV2:BucketVersioningV2",
            {"versioningConfiguration": {"status": "Enabled"}},
        ),
        "data-tls": ("bucketPolicy:BucketPolicy", {"policy": _tls_policy()}),
        "data-lifecycle": ("bucketLifecycleConfiguration:BucketLifecycleConfiguration", {"rules": lifecycle}),
        "data-ownership": (
            "bucketOwnershipControls:BucketOwnershipControls",
            {"rule": {"objectOwnership": "BucketOwnerEnforced"}},
        ),
    }
    return [
        _aws("aws:kms/key:Key", "s3-key", {"enableKeyRotation": True}, protect=True),
        _aws("aws:s3/bucket:Bucket", "data", {"bucket": BUCKET, "forceDestroy": False}, protect=True),
        *(_aws(f"aws:s3/{t}", name, {"bucket": "b", **props}, "data") for name, (t, props) in sides.items()),
    ]


def _registry() -> list[Fixture]:
    def repo(image: str) -> dict[str, Any]:
        return {
            "name": f"gpu-platform/{image}",
            "imageTagMutability": "IMMUTABLE",
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}],
        }

    return [
        _aws("aws:ecr/repository:Repository", f"{image}-repo", repo(image), protect=True)
        for image in ("trainer", "serving", "sync")
    ]


def aws_stack() -> list[Fixture]:
    return [*_network(), *_cluster(), *_node_groups(), *_pod_roles(), *_bucket(), *_registry()]
