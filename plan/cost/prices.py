"""List prices (USD) for what the platform creates besides GPU machines, and the usage the estimate
assumes where the plan cannot know it (GB of logs, of images, of NAT traffic).

GPU machine prices live in `infra.catalog`; CPU machines and disks in `plan.cost.machines`. Prices
are the public pay-as-you-go list prices of the regions the stacks use (us-east-1/us-west-2,
us-central1, East US/East US 2, which agree for every item here), compiled on the date given from the
pricing page each source names; nothing here is fetched live, so re-check a figure before relying on it.
Taxes, discounts and support plans are not included, nor is data transfer out except the replicator's
copies of model versions to the other clouds (`EGRESS`).
"""

from __future__ import annotations

from plan.cost.model import Rate

DATE = "2026-11-27"

_EKS = "aws.amazon.com/eks/pricing"
_VPC = "aws.amazon.com/vpc/pricing (NAT gateway; public IPv4 address)"
_ELB = "aws.amazon.com/elasticloadbalancing/pricing (Network Load Balancer)"
_PL = "aws.amazon.com/privatelink/pricing (interface endpoints; gateway endpoints are free)"
_KMS = "aws.amazon.com/kms/pricing"
_S3 = "aws.amazon.com/s3/pricing (S3 Standard, first 50 TB)"
_ECR = "aws.amazon.com/ecr/pricing"
_CW = "aws.amazon.com/cloudwatch/pricing (Logs: collect, standard)"
_GKE = "cloud.google.com/kubernetes-engine/pricing (cluster management fee and free tier)"
_NAT = "cloud.google.com/nat/pricing (Public NAT)"
_GLB = "cloud.google.com/vpc/network-pricing (forwarding rules, first 5)"
_GKMS = "cloud.google.com/kms/pricing (software key versions)"
_GCS = "cloud.google.com/storage/pricing (regional, us-central1)"
_AR = "cloud.google.com/artifact-registry/pricing (storage, 0.5 GB free)"
_GLOG = "cloud.google.com/stackdriver/pricing (Cloud Logging ingestion, 50 GiB per project free)"
_AKS = "azure.microsoft.com/pricing/details/kubernetes-service (Free, Standard, Premium tiers)"
_AZNAT = "azure.microsoft.com/pricing/details/azure-nat-gateway"
_AZIP = "azure.microsoft.com/pricing/details/ip-addresses (Standard static IPv4)"
_AZLB = "azure.microsoft.com/pricing/details/load-balancer (Standard, first 5 rules)"
_AZKV = "azure.microsoft.com/pricing/details/key-vault"
_AZBLOB = "azure.microsoft.com/pricing/details/storage/blobs (Hot tier)"
_ACR = "azure.microsoft.com/pricing/details/container-registry"
_LA = "azure.microsoft.com/pricing/details/monitor (Log Analytics, Analytics logs pay-as-you-go)"


def rate(usd: float, unit: str, source: str) -> Rate:
    return Rate(usd, unit, source, DATE)


# Control planes.
EKS_STANDARD = rate(0.10, "cluster-hour", _EKS)
EKS_EXTENDED = rate(0.60, "cluster-hour", _EKS)
GKE_FEE = rate(0.10, "cluster-hour", _GKE)
GKE_FREE_TIER_USD = 74.40
"""Monthly credit per billing account, for one zonal or Autopilot cluster; never for a regional one."""
AKS_TIERS = {
    "Free": rate(0.0, "cluster-hour", _AKS),
    "Standard": rate(0.10, "cluster-hour", _AKS),
    "Premium": rate(0.60, "cluster-hour", _AKS),
}

# NAT, public addresses and load balancers.
AWS_NAT_HOUR = rate(0.045, "gateway-hour", _VPC)
AWS_NAT_GB = rate(0.045, "GB processed", _VPC)
AWS_PUBLIC_IPV4 = rate(0.005, "address-hour", _VPC)
AWS_NLB_HOUR = rate(0.0225, "NLB-hour", _ELB)
AWS_NLB_LCU = rate(0.006, "NLCU-hour", _ELB)
AWS_INTERFACE_ENDPOINT = rate(0.01, "endpoint-AZ-hour", _PL)
AWS_ALB_HOUR = rate(0.0225, "ALB-hour", "aws.amazon.com/elasticloadbalancing/pricing (Application LB)")
AWS_ALB_LCU = rate(0.008, "LCU-hour", "aws.amazon.com/elasticloadbalancing/pricing (Application LB)")
_R53 = "aws.amazon.com/route53/pricing (health checks, non-AWS endpoints)"
AWS_R53_HEALTH_CHECK = rate(0.75, "check-month", _R53)
AWS_R53_CHECK_FEATURE = rate(2.00, "feature-month", _R53)
"""Each optional feature of a check of a non-AWS endpoint: HTTPS, string matching, the 10 s interval,
latency measurement."""
GCP_NAT_VM_HOUR = rate(0.0014, "VM-hour", _NAT)
GCP_NAT_MAX_VMS = 32
"""Cloud NAT bills per VM up to 32 VMs, then a flat $0.044/h: the VM-hour line caps at 32 VMs."""
GCP_NAT_GB = rate(0.045, "GiB processed", _NAT)
GCP_NAT_IP_HOUR = rate(0.005, "address-hour", _NAT)
GCP_FORWARDING_RULE = rate(0.025, "rule-hour", _GLB)
AZURE_NAT_HOUR = rate(0.045, "gateway-hour", _AZNAT)
AZURE_NAT_GB = rate(0.045, "GB processed", _AZNAT)
AZURE_PUBLIC_IP = rate(0.005, "address-hour", _AZIP)
AZURE_LB_HOUR = rate(0.025, "LB-hour (first 5 rules)", _AZLB)

# Data transfer out to the internet, which is how one cloud's bytes reach another's bucket: the first paid
# tier of each, past the monthly free allowance (100 GB on AWS and Azure, aggregated across services).
EGRESS = {
    "aws": rate(
        0.09,
        "GB out",
        "aws.amazon.com/ec2/pricing/on-demand (Data Transfer OUT to the internet, first 10 TB/month)",
    ),
    "gcp": rate(
        0.12,
        "GiB out",
        "cloud.google.com/storage/pricing (network: data transfer to the internet, Premium tier, 0-1 TiB)",
    ),
    "azure": rate(
        0.087,
        "GB out",
        "azure.microsoft.com/pricing/details/bandwidth (internet egress, Microsoft network, next 10 TB)",
    ),
}
NAT_GB = {"aws": AWS_NAT_GB, "gcp": GCP_NAT_GB, "azure": AZURE_NAT_GB}
"""What the home cluster's NAT charges per GB it carries, in either direction."""

# Keys.
AWS_KMS_KEY = rate(1.00, "key-month", _KMS)
GCP_KMS_VERSION = rate(0.06, "key version-month", _GKMS)
GCP_KMS_HSM_VERSION = rate(1.00, "key version-month", "cloud.google.com/kms/pricing (HSM, RSA 2048)")
AZURE_KV_OPERATIONS = rate(0.03, "10,000 operations", _AZKV)
AZURE_KV_HSM_KEY = rate(1.00, "key-month", _AZKV)

# Object storage, registries, logs.
S3_STANDARD = rate(0.023, "GB-month", _S3)
GCS_CLASSES = {
    "STANDARD": rate(0.020, "GB-month", _GCS),
    "NEARLINE": rate(0.010, "GB-month", _GCS),
    "COLDLINE": rate(0.004, "GB-month", _GCS),
    "ARCHIVE": rate(0.0012, "GB-month", _GCS),
}
AZURE_BLOB_HOT = {
    "Standard_LRS": rate(0.0184, "GB-month", _AZBLOB),
    "Standard_ZRS": rate(0.023, "GB-month", _AZBLOB),
    "Standard_GRS": rate(0.0368, "GB-month", _AZBLOB),
    "Standard_RAGRS": rate(0.046, "GB-month", _AZBLOB),
    "Standard_GZRS": rate(0.0414, "GB-month", _AZBLOB),
    "Standard_RAGZRS": rate(0.0518, "GB-month", _AZBLOB),
}
ECR_STORAGE = rate(0.10, "GB-month", _ECR)
AR_STORAGE = rate(0.10, "GB-month", _AR)
AR_FREE_GB = 0.5
ACR_SKUS = {
    "Basic": rate(0.167, "registry-day", _ACR),
    "Standard": rate(0.667, "registry-day", _ACR),
    "Premium": rate(1.667, "registry-day", _ACR),
}
CLOUDWATCH_INGEST = rate(0.50, "GB ingested", _CW)
GCP_LOGGING_INGEST = rate(0.50, "GiB ingested", _GLOG)
GCP_LOGGING_FREE_GIB = 50.0
LOG_ANALYTICS_INGEST = rate(2.30, "GB ingested", _LA)
LOG_ANALYTICS_FREE_GB = 5.0
"""Analytics logs ingested free each month per billing account (one workspace per stack here)."""


class Assumed:
    """Monthly usage the plan cannot see, each stated in the line it prices. Chosen for a small platform
    (one trainer image with a few versions, a digits-sized data set, a quiet cluster); a busy one will
    log and move much more, so read these lines as floors."""

    NAT_GB = 50.0
    """Per NAT gateway: image pulls from public registries, OS and package updates."""
    OBJECT_STORE_GB = 50.0
    """Per bucket or storage account: data sets, checkpoints and exported models."""
    REGISTRY_GB = 5.0
    """Per registry: a TensorFlow trainer image (~2 GB compressed), a few versions sharing layers."""
    CLOUDWATCH_GB = 5.0
    """Per CloudWatch log group: EKS control-plane logs (audit included) or VPC flow logs."""
    GKE_LOG_GIB_PER_COMPONENT = 5.0
    """Per component in the cluster's `loggingConfig` (system, workloads, API server...)."""
    LOG_ANALYTICS_GB = 10.0
    """Per Log Analytics workspace: AKS control-plane logs with kube-audit and container insights."""
    KEY_VAULT_OPERATIONS_10K = 10.0
    """Per Key Vault key: AKS KMS and storage CMK wrap/unwrap calls (100,000 a month)."""
    REPLICATED_GB = 2.0
    """Per other cloud: new model versions the replicator copies there each month (a few versions of a
    model of some hundred MB; the digits model is about 5 MB)."""
    NLB_LCU = 1.0
    """Per NLB: average load-balancer capacity units in use each hour (a quiet endpoint)."""
