"""`gpu-platform:aws`: the AWS section, its naming rules (checked so a bad name fails before anything is
created) and its facts; the region comes from `aws:region`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from infra import versions
from infra.config.cloud import CloudSection
from infra.config.section import Section, camel, problem
from infra.config.types import ApiAccess, Cidr, GpuPool, KubernetesVersion, SystemPool, pattern

CLOUDWATCH_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)


def _s3_bucket(name: str) -> str:
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html; dots are refused too,
    # since they break virtual-hosted TLS.
    bad_affix = name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")
    )
    if bad_affix:
        raise ValueError("expected an S3 bucket name without a reserved prefix or suffix (xn--, -s3alias...)")
    return name


S3BucketName = Annotated[
    str,
    pattern(
        r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", "an S3 bucket name: 3-63 lowercase letters, digits, hyphens"
    ),
    AfterValidator(_s3_bucket),
]
EcrRepositoryName = Annotated[
    str,
    pattern(
        r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$",
        "an ECR repository name like ml/trainer",
    ),
]
IamPrincipalArn = Annotated[
    str,
    pattern(
        r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]{1,512}$",
        "an IAM role or user ARN",
    ),
]
AddonVersion = Annotated[
    str,
    pattern(r"^v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+$", "an EKS add-on version like v1.19.2-eksbuild.1"),
]
ContainerImageDigest = Annotated[
    str,
    pattern(
        r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+:v[0-9]+\.[0-9]+\.[0-9]+@sha256:[0-9a-f]{64}$",
        "an image with a version tag, pinned by digest, like REGISTRY/REPO:v1.33.0@sha256:<64 hex digits>",
    ),
]


def _eks_api_access(access: ApiAccess) -> ApiAccess:
    # A private EKS endpoint admits only the cluster security group until another group opens it; the
    # program opens 443 to these networks, from one of which `pulumi up` must run.
    if access.private_endpoint and not access.authorized_cidrs:
        raise ValueError(
            "expected authorizedCidrs with a private endpoint too: the private networks (VPN, a peered VPC, "
            "a CI runner's subnet) that may reach the EKS API, and from one of which `pulumi up` runs"
        )
    return access


def _retention(days: int) -> int:
    if days not in CLOUDWATCH_RETENTION_DAYS:
        raise ValueError(f"expected one of CloudWatch's retention values {list(CLOUDWATCH_RETENTION_DAYS)}")
    return days


class EksAddons(Section):
    """Add-on versions, pinned: `aws eks describe-addon-versions --kubernetes-version X` lists them. Unset
    in a stack file, they are the ones `infra/versions.py` records for its Kubernetes minor."""

    vpc_cni: AddonVersion
    coredns: AddonVersion
    kube_proxy: AddonVersion
    eks_pod_identity_agent: AddonVersion
    metrics_server: AddonVersion
    """The community add-on: EKS installs no metrics API, without which the serving HPA never scales."""


class AwsConfig(CloudSection):
    CLOUD = "aws"
    PROVIDER_KEYS = {"region": "aws:region"}

    region: str
    vpc_cidr: Cidr
    availability_zones: int = Field(default=2, ge=2, le=3)
    nat_gateways: Literal["single", "perZone"] = "single"
    kubernetes_version: KubernetesVersion
    api_access: Annotated[ApiAccess, AfterValidator(_eks_api_access)]
    deployer_principal_arn: IamPrincipalArn
    system_pool: SystemPool
    addons: EksAddons | None = None
    """Unset: the versions `infra/versions.py` records for kubernetesVersion."""
    cluster_autoscaler_image: ContainerImageDigest | None = None
    """Cluster Autoscaler, whose minor must match kubernetesVersion (its compatibility rule). Unset: the
    release `infra/versions.py` records for kubernetesVersion."""
    bucket_name: S3BucketName
    registry_name: EcrRepositoryName
    log_retention_days: Annotated[int, AfterValidator(_retention)] = 90

    @property
    def cluster_zones(self) -> tuple[str, ...]:
        """None named in config: zone names differ per account, so the program asks EC2 which of the VPC's
        zones offer each instance type when it deploys."""
        return ()

    def owned_ranges(self) -> list[tuple[str, str]]:
        return [("aws.vpcCidr", self.vpc_cidr)]

    def checks(self, pools: Sequence[GpuPool]) -> Iterator[str]:
        if not 16 <= ipaddress.IPv4Network(self.vpc_cidr).prefixlen <= 20:
            yield problem(
                self.key("vpc_cidr"),
                self.vpc_cidr,
                "a /16 to /20 network (room for public and private subnets)",
            )
        yield from self._pins()

    def _pins(self) -> Iterator[str]:
        """EKS needs add-ons and an autoscaler for the minor, configured or recorded in `infra/versions.py`;
        a refused minor is reported once, against kubernetesVersion."""
        minor = self.kubernetes_version
        if versions.refusal("aws", minor, versions.as_of()):
            return
        recorded = ", ".join(versions.EKS_PINS)
        for field, value in (
            ("addons", self.addons),
            ("cluster_autoscaler_image", self.cluster_autoscaler_image),
        ):
            if value is None and minor not in versions.EKS_PINS:
                expected = f"a value: infra/versions.py records {camel(field)} for {recorded} only"
                yield problem(self.key(field), None, expected)
        image = self.cluster_autoscaler_image
        if image is not None and f":v{minor}." not in image:
            expected = f"a Cluster Autoscaler release of Kubernetes {minor} (v{minor}.x)"
            yield problem(self.key("cluster_autoscaler_image"), image, expected)

    def pinned_addons(self) -> EksAddons:
        """The configured add-on versions, else those recorded for the minor (config validation makes
        sure one exists)."""
        if self.addons is not None:
            return self.addons
        pins = versions.EKS_PINS[self.kubernetes_version]
        return EksAddons(
            vpc_cni=pins.vpc_cni,
            coredns=pins.coredns,
            kube_proxy=pins.kube_proxy,
            eks_pod_identity_agent=pins.eks_pod_identity_agent,
            metrics_server=pins.metrics_server,
        )

    def autoscaler_image(self) -> str:
        return self.cluster_autoscaler_image or versions.EKS_PINS[self.kubernetes_version].cluster_autoscaler
