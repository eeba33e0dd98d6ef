"""Registry controls: ECR (RG-01), Artifact Registry (RG-02) and ACR (RG-03); each registry is protected
in stacks with `protect` on. `hosts` tells the workload rules which registries belong to the stack."""

from __future__ import annotations

from collections.abc import Iterator

from policy.controls.storage import public_members
from policy.model import protection
from policy.model.control import control, resource_rule, stack_rule
from policy.model.props import Props, as_list, equals, explicitly_true, get, is_true, present, unknown
from policy.model.stack import Stack, Violation

ECR = "aws:ecr/repository:Repository"
AR = "gcp:artifactregistry/repository:Repository"
AR_IAM_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
AR_IAM_BINDING = "gcp:artifactregistry/repositoryIamBinding:RepositoryIamBinding"
AR_IAM_POLICY = "gcp:artifactregistry/repositoryIamPolicy:RepositoryIamPolicy"
ACR = "azure-native:containerregistry:Registry"
PREMIUM_ONLY = "ACR allows this only on the Premium SKU"
OPEN = ("0.0.0.0/0", "0.0.0.0", "::/0")

RG01 = control(
    "RG-01",
    "ECR immutable, scanned, KMS",
    "ECR repositories have immutable tags, scan on push and KMS encryption.",
)
RG02 = control(
    "RG-02",
    "Artifact Registry immutable, CMEK, private",
    "Artifact Registry repositories have immutable tags and a Cloud KMS key, and no public IAM grants.",
)
RG03 = control(
    "RG-03",
    "ACR locked down",
    "ACR has no admin user and no anonymous pull; on Premium, public network access is off or denied by "
    "default to all but listed addresses, and untagged manifests are retained for a limited time.",
)


@resource_rule(RG01, ECR)
def ecr(_: str, props: Props) -> Iterator[str]:
    if not equals(props.get("imageTagMutability"), "IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"):
        yield 'imageTagMutability must be "IMMUTABLE"'
    if not is_true(get(props, "imageScanningConfiguration.scanOnPush")):
        yield "imageScanningConfiguration.scanOnPush must be true"
    encryption = props.get("encryptionConfigurations")
    kinds = [e.get("encryptionType") for e in as_list(encryption)]
    if not unknown(encryption) and not any(equals(k, "KMS", "KMS_DSSE") for k in kinds):
        yield 'encryptionConfigurations[].encryptionType must be "KMS"'


@resource_rule(RG02, AR, AR_IAM_MEMBER, AR_IAM_BINDING, AR_IAM_POLICY)
def artifact_registry(type_: str, props: Props) -> Iterator[str]:
    if type_.lower() != AR.lower():
        yield from public_members(type_, props, (AR_IAM_MEMBER, AR_IAM_BINDING, AR_IAM_POLICY))
        return
    if not is_true(get(props, "dockerConfig.immutableTags")):
        yield "dockerConfig.immutableTags must be true"
    if not present(props.get("kmsKeyName")):
        yield "kmsKeyName must name a Cloud KMS key"


@stack_rule(RG01)
def ecr_protected(stack: Stack) -> list[Violation]:
    return protection.unprotected(stack, RG01, ECR)


@stack_rule(RG02)
def ar_protected(stack: Stack) -> list[Violation]:
    return protection.unprotected(stack, RG02, AR)


def _acr_premium(props: Props) -> Iterator[str]:
    """Private (public access off), or public restricted to listed addresses: the stack chooses."""
    rules = get(props, "networkRuleSet", {})
    restricted = equals(get(rules, "defaultAction"), "Deny")
    if not equals(props.get("publicNetworkAccess"), "Disabled") and not restricted:
        yield 'publicNetworkAccess must be "Disabled", or networkRuleSet.defaultAction "Deny"'
    elif restricted and any(r.get("iPAddressOrRange") in OPEN for r in as_list(get(rules, "ipRules"))):
        yield "networkRuleSet.ipRules must not admit the whole internet"
    if not equals(get(props, "policies.retentionPolicy.status"), "enabled"):
        yield 'policies.retentionPolicy.status must be "enabled"'


@resource_rule(RG03, ACR)
def acr_auth(_: str, props: Props) -> Iterator[str]:
    for key in ("adminUserEnabled", "anonymousPullEnabled"):
        if explicitly_true(props.get(key)):
            yield f"{key} must be false (pulls and pushes use Entra ID tokens)"


@stack_rule(RG03)
def acr_network(stack: Stack) -> list[Violation]:
    """Network lock-down and retention exist only on Premium: below it they advise instead of failing."""
    found = []
    for registry in stack.of(ACR):
        advisory = None if equals(get(registry.props, "sku.name"), "Premium") else PREMIUM_ONLY
        found += [registry.violation(RG03, m, advisory) for m in _acr_premium(registry.props)]
    return found + protection.unprotected(stack, RG03, ACR)


def hosts(stack: Stack, cloud: str | None) -> list[str]:
    """Image prefixes of the stack's registries on one cloud (ECR hosts carry the account, which inputs do
    not: `.dkr.ecr.` plus the repository name stands in for them)."""
    found = []
    for repo in stack.of(AR):
        if repo.cloud == cloud:
            p = repo.props
            found.append(f"{p.get('location')}-docker.pkg.dev/{p.get('project')}/{p.get('repositoryId')}/")
    for registry in stack.of(ACR):
        if registry.cloud == cloud:
            found.append(f"{str(registry.props.get('registryName', '')).lower()}.azurecr.io/")
    for repo in stack.of(ECR):
        if repo.cloud == cloud:
            found.append(f".amazonaws.com/{repo.props.get('name')}")
    return found
