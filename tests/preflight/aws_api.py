"""Stand-ins for the AWS APIs moto lacks: EKS cluster and add-on versions, and EC2's Service Quotas.

moto answers STS, IAM, EC2 and S3 for the tests; its Service Quotas knows only the VPC quotas, and its EKS
has no version listings. These routes answer with the shapes the API references document; boto3 reaches
them through `AWS_ENDPOINT_URL_EKS` and `AWS_ENDPOINT_URL_SERVICE_QUOTAS`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from infra.versions import EKS_PINS
from tests.preflight.standins import Reply, Request, Route

DEV_ADDONS = {
    "vpc-cni": [EKS_PINS["1.35"].vpc_cni, "v1.20.4-eksbuild.1"],
    "coredns": [EKS_PINS["1.35"].coredns],
    "kube-proxy": [EKS_PINS["1.35"].kube_proxy],
    "eks-pod-identity-agent": [EKS_PINS["1.35"].eks_pod_identity_agent],
    "metrics-server": [EKS_PINS["1.35"].metrics_server],
}
"""The versions infra/versions.py records for the dev stack's minor, each offered for 1.35."""


def _epoch(day: str) -> float:
    return datetime.datetime.fromisoformat(day).replace(tzinfo=datetime.UTC).timestamp()


@dataclass
class AwsWorld:
    cluster_versions: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            # docs.aws.amazon.com/eks/latest/APIReference/API_ClusterVersionInformation.html
            "1.35": {
                "clusterVersion": "1.35",
                "clusterType": "eks",
                "defaultPlatformVersion": "eks.9",
                "defaultVersion": True,
                "releaseDate": _epoch("2025-05-29"),
                "endOfStandardSupportDate": _epoch("2027-07-29"),
                "endOfExtendedSupportDate": _epoch("2028-07-29"),
                "status": "standard-support",
                "versionStatus": "STANDARD_SUPPORT",
                "kubernetesPatchVersion": "1.35.5",
            }
        }
    )
    addons: dict[str, list[str]] = field(default_factory=lambda: {k: list(v) for k, v in DEV_ADDONS.items()})
    """Add-on -> its versions for 1.35, the only minor these routes know add-ons for."""
    applied_quotas: dict[str, float] = field(default_factory=lambda: {"L-3819A6DF": 8.0})
    default_quotas: dict[str, float] = field(
        default_factory=lambda: {"L-DB2E81BA": 64.0, "L-3819A6DF": 0.0, "L-0263D0A3": 5.0}
    )
    deny_versions: bool = False
    """Answer DescribeClusterVersions with 403 AccessDeniedException."""
    deny_quotas: bool = False
    """Answer every Service Quotas call with 400 AccessDeniedException."""


QUOTA_NAMES = {
    "L-DB2E81BA": "Running On-Demand G and VT instances",
    "L-3819A6DF": "All G and VT Spot Instance Requests",
    "L-0263D0A3": "EC2-VPC Elastic IPs",
}


def routes(world: AwsWorld) -> list[Route]:
    def cluster_versions(request: Request) -> Reply:
        # GET /cluster-versions:
        # docs.aws.amazon.com/eks/latest/APIReference/API_DescribeClusterVersions.html; an error names its
        # type in x-amzn-ErrorType (docs.aws.amazon.com/eks/latest/APIReference/CommonErrors.html).
        if world.deny_versions:
            denied = {"message": "User is not authorized to perform: eks:DescribeClusterVersions"}
            return Reply(denied, 403, {"x-amzn-ErrorType": "AccessDeniedException"})
        wanted = request.query.get("clusterVersions") or list(world.cluster_versions)
        return Reply(
            {"clusterVersions": [world.cluster_versions[v] for v in wanted if v in world.cluster_versions]}
        )

    def addon_versions(request: Request) -> Reply:
        # GET /addons/supported-versions:
        # docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html
        name, minor = request.arg("addonName"), request.arg("kubernetesVersion")
        versions = world.addons.get(name, []) if minor == "1.35" else []
        info = [
            {
                "addonVersion": v,
                "architecture": ["amd64", "arm64"],
                "compatibilities": [
                    {"clusterVersion": minor, "platformVersions": ["*"], "defaultVersion": i == 0}
                ],
                "requiresConfiguration": False,
            }
            for i, v in enumerate(versions)
        ]
        addon = {
            "addonName": name,
            "type": "networking",
            "addonVersions": info,
            "publisher": "eks",
            "owner": "aws",
        }
        return Reply({"addons": [addon] if versions else []})

    def service_quotas(request: Request) -> Reply:
        # JSON 1.1, X-Amz-Target ServiceQuotasV20190624.<Operation>:
        # docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html and
        # API_GetAWSDefaultServiceQuota.html; their Errors: an unknown quota is a 400
        # NoSuchResourceException, a denied call a 400 AccessDeniedException.
        operation = request.headers.get("x-amz-target", "").split(".")[-1]
        body = request.json()
        code = body.get("QuotaCode", "")
        if world.deny_quotas:
            message = f"User is not authorized to perform: servicequotas:{operation}"
            return Reply({"__type": "AccessDeniedException", "Message": message}, 400)
        values = world.applied_quotas if operation == "GetServiceQuota" else world.default_quotas
        if operation not in ("GetServiceQuota", "GetAWSDefaultServiceQuota") or code not in values:
            error = {
                "__type": "NoSuchResourceException",
                "Message": f"The request failed because {code} does not exist.",
            }
            return Reply(error, 400)
        quota = {
            "ServiceCode": body.get("ServiceCode"),
            "ServiceName": "Amazon Elastic Compute Cloud (Amazon EC2)",
            "QuotaArn": f"arn:aws:servicequotas:us-east-1:123456789012:ec2/{code}",
            "QuotaCode": code,
            "QuotaName": QUOTA_NAMES.get(code, code),
            "Value": values[code],
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
        }
        return Reply({"Quota": quota}, headers={"Content-Type": "application/x-amz-json-1.1"})

    return [
        ("GET", "/cluster-versions", cluster_versions),
        ("GET", "/addons/supported-versions", addon_versions),
        ("POST", "/", service_quotas),
    ]
