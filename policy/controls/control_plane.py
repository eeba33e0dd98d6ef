"""Control-plane controls, part one: API endpoint exposure (CP-01..03), secrets encryption (CP-04) and key
rotation (CP-05). Control-plane logging (CP-06, CP-07) is in `cluster_logs.py`."""

from __future__ import annotations

from collections.abc import Iterator

from policy.model import protection
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import (
    Props,
    as_list,
    equals,
    explicitly_true,
    get,
    is_true,
    number,
    present,
    unknown,
)
from policy.model.stack import Stack, Violation

EKS = "aws:eks/cluster:Cluster"
GKE = "gcp:container/cluster:Cluster"
AKS = "azure-native:containerservice:ManagedCluster"
AWS_KEY = "aws:kms/key:Key"
GCP_KEY = "gcp:kms/cryptoKey:CryptoKey"
GCP_KEY_RING = "gcp:kms/keyRing:KeyRing"
OPEN = ("0.0.0.0/0", "::/0")
MAX_ROTATION_SECONDS = 90 * 86_400

CP01 = control(
    "CP-01",
    "Private or restricted API endpoint (EKS)",
    "The EKS API has private access on, and public access off or limited to listed CIDRs (never the "
    "internet).",
)
CP02 = control(
    "CP-02",
    "Private cluster and authorized networks (GKE)",
    "GKE nodes are private, and the endpoint is private or limited to authorized networks without 0.0.0.0/0.",
)
CP03 = control(
    "CP-03",
    "Private cluster or authorized IPs (AKS)",
    "The AKS API server is private, or limited to authorized IP ranges without 0.0.0.0/0.",
)
CP04 = control(
    "CP-04",
    "Secrets envelope-encrypted with a customer key",
    "Kubernetes secrets are encrypted with a key the stack manages: EKS encryptionConfig with a KMS key of "
    "the stack, GKE database encryption, AKS Key Vault KMS.",
)
CP05 = control(
    "CP-05",
    "KMS key rotation",
    "Symmetric KMS keys rotate: AWS enableKeyRotation, GCP rotationPeriod of at most 90 days; protected in "
    "stacks with `protect` on.",
)


def _open_cidrs(cidrs: list[object]) -> list[str]:
    return [str(c) for c in cidrs if c in OPEN]


@resource_rule(CP01, EKS)
def eks_endpoint(_: str, props: Props) -> Iterator[str]:
    vpc = get(props, "vpcConfig", {})
    if not is_true(get(vpc, "endpointPrivateAccess")):
        yield "vpcConfig.endpointPrivateAccess must be true"
    # Public access is on unless turned off, and then open to 0.0.0.0/0 unless CIDRs are listed.
    if explicitly_true(get(vpc, "endpointPublicAccess", True)):
        cidrs = get(vpc, "publicAccessCidrs")
        if unknown(cidrs):
            return
        if not as_list(cidrs):
            yield "public endpoint without vpcConfig.publicAccessCidrs is open to 0.0.0.0/0"
        elif bad := _open_cidrs(as_list(cidrs)):
            yield f"vpcConfig.publicAccessCidrs opens the API to {', '.join(bad)}"


@resource_rule(CP02, GKE)
def gke_private(_: str, props: Props) -> Iterator[str]:
    if not is_true(get(props, "privateClusterConfig.enablePrivateNodes")):
        yield "privateClusterConfig.enablePrivateNodes must be true"
    if explicitly_true(get(props, "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled")):
        yield "masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled opens the API to all Google Cloud"
    if is_true(get(props, "privateClusterConfig.enablePrivateEndpoint")):
        return
    blocks = get(props, "masterAuthorizedNetworksConfig.cidrBlocks")
    if unknown(blocks):
        return
    cidrs = [b.get("cidrBlock") for b in as_list(blocks)]
    if not cidrs:
        yield "public endpoint without masterAuthorizedNetworksConfig.cidrBlocks"
    elif bad := _open_cidrs(cidrs):
        yield f"masterAuthorizedNetworksConfig.cidrBlocks opens the API to {', '.join(bad)}"


@resource_rule(CP03, AKS)
def aks_api_access(_: str, props: Props) -> Iterator[str]:
    access = get(props, "apiServerAccessProfile", {})
    if is_true(get(access, "enablePrivateCluster")):
        return
    ranges = get(access, "authorizedIPRanges")
    if unknown(ranges):
        return
    if not as_list(ranges):
        yield "apiServerAccessProfile needs enablePrivateCluster or authorizedIPRanges"
    elif bad := _open_cidrs(as_list(ranges)):
        yield f"apiServerAccessProfile.authorizedIPRanges opens the API to {', '.join(bad)}"


@resource_rule(CP04, EKS, GKE, AKS)
def secrets_encryption(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == EKS.lower():
        config = get(props, "encryptionConfig", {})
        # pulumi-aws 7 types encryptionConfig as one object; older SDKs took a list of them.
        config = (as_list(config) or [{}])[0]
        if "secrets" not in as_list(get(config, "resources")) and not unknown(get(config, "resources")):
            yield "encryptionConfig.resources must include secrets"
        if not present(get(config, "provider.keyArn")):
            yield "encryptionConfig.provider.keyArn must name a KMS key"
    elif type_.lower() == GKE.lower():
        if not equals(get(props, "databaseEncryption.state"), "ENCRYPTED"):
            yield 'databaseEncryption.state must be "ENCRYPTED"'
        if not present(get(props, "databaseEncryption.keyName")):
            yield "databaseEncryption.keyName must name a Cloud KMS key"
    else:
        if not is_true(get(props, "securityProfile.azureKeyVaultKms.enabled")):
            yield "securityProfile.azureKeyVaultKms.enabled must be true"
        if not present(get(props, "securityProfile.azureKeyVaultKms.keyId")):
            yield "securityProfile.azureKeyVaultKms.keyId must name a Key Vault key"


@stack_rule(CP04)
def eks_key_in_stack(stack: Stack) -> list[Violation]:
    return [
        cluster.violation(CP04, "the secrets key must be an aws:kms/key:Key of this stack")
        for cluster in stack.of(EKS)
        if present(get(cluster.props, "encryptionConfig"))
        and not stack.deps(cluster, AWS_KEY, via="encryptionConfig")
    ]


@resource_rule(CP05, AWS_KEY, GCP_KEY)
def key_rotation(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() == AWS_KEY.lower():
        # Only symmetric keys can rotate automatically.
        if props.get("customerMasterKeySpec", props.get("keySpec")) not in (None, "SYMMETRIC_DEFAULT"):
            return
        if not is_true(props.get("enableKeyRotation")):
            yield "enableKeyRotation must be true"
        return
    if props.get("purpose") not in (None, "ENCRYPT_DECRYPT"):
        return
    period = props.get("rotationPeriod")
    if unknown(period):
        return
    seconds = number(str(period).removesuffix("s")) if period else None
    if seconds is None or seconds > MAX_ROTATION_SECONDS:
        yield f"rotationPeriod must be at most {MAX_ROTATION_SECONDS}s (90 days), got {period!r}"


@stack_rule(CP05)
def keys_protected(stack: Stack) -> list[Violation]:
    return protection.unprotected(stack, CP05, AWS_KEY, GCP_KEY, GCP_KEY_RING)
