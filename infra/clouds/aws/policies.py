"""IAM, KMS and bucket policy documents, as pure functions of plain values.

Components call these inside `Output.apply` once ARNs are known; tests call them directly. Each grant is
the narrowest the service allows, and where a service forces `Resource: "*"` the comment says why.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

Statement = dict[str, Any]
VERSION = "2012-10-17"
AUTOSCALING_SERVICE = "autoscaling.amazonaws.com"
AUTOSCALING_ROLE = "AWSServiceRoleForAutoScaling"
AUTOSCALING_ROLE_PATH = f"/aws-service-role/{AUTOSCALING_SERVICE}/"
KMS_USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def document(*statements: Statement) -> str:
    return json.dumps({"Version": VERSION, "Statement": list(statements)}, sort_keys=True)


def service_trust(service: str, actions: tuple[str, ...] = ("sts:AssumeRole",)) -> str:
    """Trust for an AWS service principal (`eks.amazonaws.com`, `ec2.amazonaws.com`)."""
    return document({"Effect": "Allow", "Principal": {"Service": service}, "Action": list(actions)})


def flow_logs_trust(account_id: str) -> str:
    # The VPC docs' confused-deputy guard: only deliveries for this account may assume the role.
    return document(
        {
            "Effect": "Allow",
            "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def pod_identity_trust(cluster_arn: str, namespace: str, service_account: str) -> str:
    """EKS Pod Identity trust, scoped by the session tags the agent sets to one cluster, namespace and SA.
    The cluster by its ARN: a cluster's name is unique only within a region, and a cluster of the same
    name in another region of the account would otherwise match.

    https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html (the session tags: eks-cluster-arn,
    eks-cluster-name, kubernetes-namespace, kubernetes-service-account, kubernetes-pod-name and -uid)
    """
    return document(
        {
            "Sid": "PodIdentity",
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
            "Condition": {
                "StringEquals": {
                    "aws:RequestTag/eks-cluster-arn": cluster_arn,
                    "aws:RequestTag/kubernetes-namespace": namespace,
                    "aws:RequestTag/kubernetes-service-account": service_account,
                }
            },
        }
    )


def web_identity_trust(provider_arn: str, issuer: str, subject: str, audience: str) -> str:
    """Trust for the tokens another cluster issues (an IAM OIDC provider), to exactly one service account
    (`sub`) and audience (`aud`). The keys are the issuer without `https://`, a trailing slash kept (AKS's
    `.../<uuid>/:sub`): IAM compares the provider's URL with the token's `iss` byte for byte."""
    host = issuer.removeprefix("https://")
    return document(
        {
            "Sid": "FederatedServiceAccount",
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{host}:sub": subject, f"{host}:aud": audience}},
        }
    )


def key_policy(purpose: str, partition: str, account_id: str, region: str) -> str:
    """A CMK policy: the account (through IAM policies) plus the service principals `purpose` needs."""
    account = {
        "Sid": "AccountAdministersThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    if purpose == "logs":
        return document(account, _logs_use(partition, account_id, region))
    if purpose == "disks":
        return document(account, *_autoscaling_use(partition, account_id))
    return document(account)


def _logs_use(partition: str, account_id: str, region: str) -> Statement:
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
    return {
        "Sid": "CloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{region}.amazonaws.com"},
        "Action": KMS_USE,
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": groups}},
    }


def _autoscaling_use(partition: str, account_id: str) -> list[Statement]:
    # Managed node groups launch through Auto Scaling, whose service-linked role must use the key for
    # encrypted root volumes, or instances fail with Client.InternalError.
    asg = {"AWS": f"arn:{partition}:iam::{account_id}:role{AUTOSCALING_ROLE_PATH}{AUTOSCALING_ROLE}"}
    return [
        {"Sid": "AutoScalingUse", "Effect": "Allow", "Principal": asg, "Action": KMS_USE, "Resource": "*"},
        {
            "Sid": "AutoScalingGrants",
            "Effect": "Allow",
            "Principal": asg,
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def tls_only_bucket_policy(bucket_arn: str) -> str:
    return document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def _bucket_key_use(key_arn: str, region: str, actions: list[str]) -> Statement:
    return {
        "Sid": "UseBucketKeyThroughS3",
        "Effect": "Allow",
        "Action": actions,
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
    }


def trainer_policy(bucket_arn: str, key_arn: str, region: str) -> str:
    """Read/write on the whole bucket: data in, checkpoints and models out."""
    return document(
        {
            "Sid": "ListBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": bucket_arn,
        },
        {
            "Sid": "ReadWriteObjects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            "Resource": f"{bucket_arn}/*",
        },
        _bucket_key_use(key_arn, region, ["kms:Decrypt", "kms:GenerateDataKey"]),
    )


def _under(
    bucket_arn: str, prefix: str, sid: str, actions: str | list[str], sources: Sequence[str] = ()
) -> list[Statement]:
    """Listing `prefix` (a listing names the bucket, so the `s3:prefix` key limits it; the root cannot be
    listed), and `actions` on the objects under it; from `sources` only, if any are given."""
    origin = {"IpAddress": {"aws:SourceIp": [f"{ip}/32" for ip in sources]}} if sources else {}
    return [
        {
            "Sid": "ListModels",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}, **origin},
        },
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": f"{bucket_arn}/{prefix}*",
            **({"Condition": origin} if origin else {}),
        },
    ]


def serving_policy(bucket_arn: str, key_arn: str, region: str, prefix: str) -> str:
    """Read-only, and only under `prefix` (e.g. `models/`)."""
    reads = _under(bucket_arn, prefix, "ReadModels", "s3:GetObject")
    return document(*reads, _bucket_key_use(key_arn, region, ["kms:Decrypt"]))


def replica_policy(
    bucket_arn: str, key_arn: str, region: str, prefix: str, sources: Sequence[str] = ()
) -> str:
    """Read, write and delete only under `prefix`, from `sources` only if any are given: the replicator
    copying model versions in, this cloud's own or another cloud's (from its cluster's addresses; the
    versioned bucket keeps what it deletes as noncurrent versions, which it cannot delete). The KMS
    statement has no address condition: S3 makes that call, not the replicator."""
    objects = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    writes = _under(bucket_arn, prefix, "ReadWriteModels", objects, sources)
    return document(*writes, _bucket_key_use(key_arn, region, ["kms:Decrypt", "kms:GenerateDataKey"]))


ECR_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
"""What a docker pull asks of one repository: the manifest, each layer's location, and whether it exists."""


def ecr_pull_policy(repository_arn: str) -> str:
    """Pulls from one repository, and the registry token that carries them. The token is the account's,
    not the repository's, so `ecr:GetAuthorizationToken` takes only `Resource: "*"`; ECR checks every pull
    made with it against the caller's own grants, so the token reads this repository and no other
    (docs.aws.amazon.com/AmazonECR/latest/userguide/security_iam_id-based-policy-examples.html). No KMS
    grant: ECR decrypts the layers through its own grant on the repository's key."""
    return document(
        {"Sid": "RegistryToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullRepository", "Effect": "Allow", "Action": ECR_PULL, "Resource": repository_arn},
    )


def autoscaler_policy(partition: str, region: str, account_id: str, cluster: str) -> str:
    """Cluster Autoscaler on AWS: the README's minimum, with writes limited to this cluster's groups."""
    return document(
        {
            # Describe* calls take no resource-level permissions: IAM only accepts "*" for them.
            "Sid": "Discover",
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            "Resource": "*",
        },
        {
            # Scale-from-zero reads a managed node group's labels and taints from EKS.
            "Sid": "ReadNodeGroups",
            "Effect": "Allow",
            "Action": "eks:DescribeNodegroup",
            "Resource": f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster}/*/*",
        },
        {
            "Sid": "ScaleOwnGroups",
            "Effect": "Allow",
            "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            "Resource": (
                f"arn:{partition}:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/*"
            ),
            "Condition": {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned"}},
        },
    )


def flow_logs_policy(log_group_arn: str, partition: str, region: str, account_id: str) -> str:
    return document(
        {
            "Sid": "Deliver",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {
            "Sid": "FindGroup",
            "Effect": "Allow",
            "Action": "logs:DescribeLogGroups",
            "Resource": f"arn:{partition}:logs:{region}:{account_id}:log-group:*",
        },
    )


def ecr_lifecycle(build_prefix: str, untagged_days: int = 7, keep_builds: int = 50) -> str:
    """Untagged layers go after a week, and only the newest `keep_builds` of our own builds (tags starting
    with `build_prefix`) stay. Mirrored upstream images have other tags and never expire by count: pods
    pin them by digest, and a node scaled from zero must still pull its device plugin."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "expire untagged images",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": untagged_days,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"keep the newest {keep_builds} builds",
                    "selection": {
                        "tagStatus": "tagged",
                        "tagPatternList": [f"{build_prefix}*"],
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_builds,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


TYPES = "route53:ChangeResourceRecordSetsRecordTypes"
NAMES = "route53:ChangeResourceRecordSetsNormalizedRecordNames"


def route53_dns01_policy(partition: str, zone_id: str, names: Sequence[str]) -> str:
    """cert-manager's Route 53 solver in one hosted zone, for the TXT records `names` only.

    It upserts and deletes the challenge record with `ChangeResourceRecordSets`, which the two Route 53
    condition keys limit to TXT records named exactly `names` (lowercase, no trailing dot: the form
    Route 53 normalizes them to), each value its own multivalue record set keyed by the value, so that
    three clusters' challenges for one name never replace each other (cert-manager v1.21.1
    `pkg/issuer/acme/dns/route53/route53.go`, `newTXTRecordSet`); and waits with `GetChange`, whose
    change ids exist only as `change/*`. No `ListResourceRecordSets`, which cert-manager's sample policy
    grants but v1.21.1's solver never calls: it would show every record of the zone to three clusters. No
    `ListHostedZonesByName`: the solver looks the zone up by name only when its `hostedZoneID` is unset.
    Route 53 ARNs name no region or account (docs.aws.amazon.com/Route53/latest/DeveloperGuide/
    specifying-conditions-route53.html, cert-manager.io/docs/configuration/acme/dns01/route53/)."""
    zone = f"arn:{partition}:route53:::hostedzone/{zone_id}"
    return document(
        {
            "Sid": "ChangeChallengeRecords",
            "Effect": "Allow",
            "Action": "route53:ChangeResourceRecordSets",
            "Resource": zone,
            "Condition": {
                "ForAllValues:StringEquals": {TYPES: ["TXT"], NAMES: list(names)},
                # ForAllValues holds for a key the request lacks; Null refuses such a request outright.
                "Null": {TYPES: "false", NAMES: "false"},
            },
        },
        {
            "Sid": "WaitForChanges",
            "Effect": "Allow",
            "Action": "route53:GetChange",
            "Resource": f"arn:{partition}:route53:::change/*",
        },
    )
