"""Domain types shared by the stack-config sections: CIDRs, Kubernetes versions, API access, node pools.

Each type fails with a message of the form `expected ...`, which `infra.config.stack` prefixes with the key
and the bad value, so every config error reads `key: got VALUE; expected ...`.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, Field, model_validator

from infra.catalog import CLOUDS, GPU_TYPES, Cloud, GpuType
from infra.config.section import Section

PATTERN_HINTS: dict[str, str] = {}
"""Human wording for each name pattern, so an error says `expected a DNS label`, not a regex."""


def pattern(regex: str, hint: str) -> Any:
    """A string constraint whose error message is `hint`."""
    PATTERN_HINTS[regex] = hint
    return Field(pattern=regex)


def _cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except (ValueError, TypeError):
        raise ValueError(
            "expected an IPv4 network in CIDR form with zero host bits, like 10.0.0.0/16"
        ) from None
    return str(network)


def _no_open_cidr(value: str) -> str:
    if ipaddress.IPv4Network(value).prefixlen == 0:
        raise ValueError("expected a restricted CIDR; 0.0.0.0/0 opens the endpoint to the whole internet")
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
RestrictedCidr = Annotated[str, AfterValidator(_cidr), AfterValidator(_no_open_cidr)]

K8S_VERSION_PATTERN = r"^1\.[0-9]{2}$"
KubernetesVersion = Annotated[str, pattern(K8S_VERSION_PATTERN, "a Kubernetes major.minor version like 1.33")]
"""Major.minor only: each cloud picks and upgrades the patch release itself (GKE channel, AKS patch)."""

POOL_NAME_PATTERN = r"^[a-z][a-z0-9]{0,11}$"
PoolName = Annotated[
    str, pattern(POOL_NAME_PATTERN, "1-12 lowercase letters and digits, starting with a letter")
]
"""The strictest rule of the three clouds wins: AKS Linux pool names are 1-12 lowercase alphanumerics."""

DnsLabel = Annotated[str, pattern(r"^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$", "a DNS label of up to 32 characters")]
DEFAULT_NAMESPACE = "ml"
"""The workload namespace of a stack that sets no `namespace`."""
Quantity = Annotated[
    str, pattern(r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$", "a Kubernetes quantity like 500m, 2 or 4Gi")
]
KUBE_QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?([KMGTPE]i|[eE][+-]?[0-9]+|[numkMGTPE])?$"
KubeQuantity = Annotated[
    str, pattern(KUBE_QUANTITY_PATTERN, "a Kubernetes quantity like 500m, 16, 64Gi, 1.5G or 2e3")
]
"""The Kubernetes quantity grammar (`resource.Quantity`): a decimal number and an optional binary (Ki..Ei),
decimal (n, u, m, k, M..E) or exponent (e3) suffix. Unsigned: a quota or a request is never negative."""
_SUFFIXES: dict[str, Decimal] = {
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
    **{s: Decimal(1000) ** (i - 3) for i, s in enumerate(("n", "u", "m", "", "k", "M", "G", "T", "P", "E"))},
}
GIB = Decimal(1024) ** 3


def quantity_value(text: str) -> Decimal:
    """The number a Kubernetes quantity stands for: CPU in cores, memory in bytes."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(.*)", text)
    if match is None:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = Decimal(match[1]), match[2]
    if suffix[:1] in ("e", "E") and suffix[1:]:
        return number.scaleb(int(suffix[1:]))
    if suffix not in _SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return number * _SUFFIXES[suffix]


DigestRef = Annotated[
    str, pattern(r"^[a-z0-9./:_-]+@sha256:[0-9a-f]{64}$", "an image pinned by digest (REPO@sha256:...)")
]


def _gpu_choice(value: object) -> GpuType | dict[Cloud, GpuType]:
    allowed = ", ".join(GPU_TYPES)
    if isinstance(value, str) and value in GPU_TYPES:
        return value
    if isinstance(value, dict) and value and all(k in CLOUDS and v in GPU_TYPES for k, v in value.items()):
        return cast(dict[Cloud, GpuType], value)
    raise ValueError(f"expected a GPU type ({allowed}) or a map from cloud (aws, gcp, azure) to GPU type")


GpuChoice = Annotated[object, AfterValidator(_gpu_choice)]


class ApiAccess(Section):
    """Who may reach the Kubernetes API: a private endpoint, or a public one limited to listed CIDRs."""

    private_endpoint: bool = False
    authorized_cidrs: tuple[RestrictedCidr, ...] = ()

    @model_validator(mode="after")
    def _restricted(self) -> ApiAccess:
        if not self.private_endpoint and not self.authorized_cidrs:
            raise ValueError(
                "expected authorizedCidrs with at least one restricted CIDR, or privateEndpoint: true"
            )
        return self


class SystemPool(Section):
    """The on-demand pool for cluster add-ons (and CPU workloads where the cloud allows)."""

    machine_type: str = Field(min_length=1)
    min_nodes: int = Field(ge=1)
    max_nodes: int = Field(ge=1)
    disk_gb: int = Field(default=100, ge=30, le=2048)


class GpuPool(Section):
    """A GPU node pool, declared once and created on every enabled cloud (or those in `clouds`)."""

    name: PoolName
    gpu: GpuChoice
    gpus_per_node: int = Field(default=1, ge=1, le=16)
    min_nodes: int = Field(ge=0)
    max_nodes: int = Field(ge=1)
    spot: bool = False
    disk_gb: int = Field(default=200, ge=50, le=4096)
    clouds: tuple[Cloud, ...] | None = None

    def gpu_for(self, cloud: Cloud) -> GpuType:
        choice = cast(GpuType | dict[Cloud, GpuType], self.gpu)
        return choice if isinstance(choice, str) else choice[cloud]

    def on(self, cloud: Cloud) -> bool:
        return self.clouds is None or cloud in self.clouds


Weekday = Literal["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
)  # fmt: skip
ClockTime = Annotated[str, pattern(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "a time of day in UTC, HH:MM")]


class MaintenanceWindow(Section):
    """When the cloud may upgrade the control plane and drain nodes: weekly, on `days`, from `startTime`
    (UTC) for `durationHours`. Outside it, auto-upgrades wait, so GPU nodes are not drained mid-training."""

    days: tuple[Weekday, ...] = Field(default=("Saturday", "Sunday"), min_length=1, max_length=7)
    start_time: ClockTime = "02:00"
    duration_hours: int = Field(default=8, ge=4, le=24)
    """At least four: the shortest window both GKE and AKS accept."""

    @model_validator(mode="after")
    def _distinct_days(self) -> MaintenanceWindow:
        if len(set(self.days)) != len(self.days):
            raise ValueError("expected each day at most once")
        return self

    def hours_per_32_days(self) -> int:
        """The least maintenance time any 32 days hold: every weekday comes at least four times."""
        return 4 * len(self.days) * self.duration_hours


class Storage(Section):
    noncurrent_version_days: int = Field(default=30, ge=1, le=3650)
    abort_multipart_days: int = Field(default=7, ge=1, le=365)
    soft_delete_days: int = Field(default=7, ge=7, le=90)


ACME_CHALLENGE = "_acme-challenge"
"""The label ACME's DNS-01 challenge puts before the name it proves (RFC 8555, section 8.4)."""
LONGEST_CHALLENGE_PREFIX = f"{ACME_CHALLENGE}.{max(CLOUDS, key=len)}."
"""What the longest challenge name puts before the domain: `_acme-challenge.<cloud>.<domain>`."""
_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"


def _domain(value: str) -> str:
    most = 253 - len(LONGEST_CHALLENGE_PREFIX)
    if not re.fullmatch(rf"{_LABEL}(\.{_LABEL})+", value):
        raise ValueError(
            "expected a lowercase DNS name of at least two labels without a trailing dot, like "
            "ml.example.com (letters, digits and hyphens; each label at most 63 characters)"
        )
    if len(value) > most:
        raise ValueError(
            f"expected at most {most} characters: DNS names hold 253, and the longest name the stack "
            f"writes is {LONGEST_CHALLENGE_PREFIX}<domain>"
        )
    if value.rsplit(".", 1)[-1].isdigit():
        raise ValueError("expected a domain name, not an address: its last label is all digits")
    return value


Domain = Annotated[str, AfterValidator(_domain)]
ZONE_ID_PATTERN = r"^Z[A-Z0-9]{1,31}$"
DNS_PROVIDER_CLOUDS: dict[str, Cloud] = {"route53": "aws"}
ROUTE53_CHECKER_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
"""Where Route 53's health checkers probe the gateways from: three regions, the fewest Route 53 takes, so
`serving.sourceCidrs` admits only their ROUTE53_HEALTHCHECKS ranges and the GLOBAL one rather than every
region's (`python -m preflight` checks it does)."""


class Dns(Section):
    """Where the stack writes the serving names and answers ACME's DNS-01 challenges.

    Route 53 only for now: its hosted zone is reached with the stack's own AWS account and provider,
    and every cluster's cert-manager reaches it keylessly (EKS Pod Identity on EKS; web identity from
    the cluster's token issuer on GKE and AKS, through the OIDC provider the AWS side already keeps per
    issuer). Cloud DNS and Azure DNS would each need their own federation from the two other clouds'
    issuers, and their health-routed records differ; they come later as further `provider` values."""

    provider: Literal["route53"]
    zone_id: Annotated[
        str, pattern(ZONE_ID_PATTERN, "a Route 53 hosted zone id: Z and 1-32 uppercase letters and digits")
    ]
    """The public hosted zone of `domain` (or of a parent of it), as `aws route53 list-hosted-zones`
    prints it without the `/hostedzone/` prefix."""

    @property
    def cloud(self) -> Cloud:
        """The cloud whose account holds the zone: the stack reaches it with that cloud's provider."""
        return DNS_PROVIDER_CLOUDS[self.provider]


def _distinct(clients: tuple[str, ...]) -> tuple[str, ...]:
    repeated = sorted({c for c in clients if clients.count(c) > 1})
    if repeated:
        raise ValueError(f"expected each client at most once; repeated: {', '.join(repeated)}")
    return clients


class ServingAuth(Section):
    """Who may call serving through the gateway: one API key per client, generated by the stack and
    held as a Pulumi secret; the gateway forwards the client's name and strips its key."""

    clients: Annotated[tuple[DnsLabel, ...], Field(min_length=1), AfterValidator(_distinct)]


class Serving(Section):
    model_name: DnsLabel = "digits"
    pool: str = Field(default="general", min_length=1)
    """`general` (CPU nodes) or the name of a GPU pool."""
    replicas: int = Field(default=1, ge=1, le=100)
    max_replicas: int = Field(default=3, ge=1, le=100)
    exposure: Literal["internal", "public"] = "internal"
    source_cidrs: tuple[RestrictedCidr, ...] = ()
    cpu: Quantity = "1"
    memory: Quantity = "2Gi"
    keep_versions: int = Field(default=2, ge=1, le=10)
    """Model versions each replica keeps on disk (the newest ones); TF Serving serves the latest."""
    image: DigestRef | None = None
    """Upstream TF Serving (CPU) image to mirror; unset uses the release pinned in workloads/upstream.py."""
    gpu_image: DigestRef | None = None
    """Upstream TF Serving GPU image to mirror when `pool` is a GPU pool; unset uses the pinned release."""
    domain: Domain | None = None
    """The one HTTPS name of serving: `<domain>` routed by health to every cloud, `<cloud>.<domain>`
    to each; unset keeps today's per-cloud HTTP endpoints only. Needs `dns` and `auth`."""
    dns: Dns | None = None
    auth: ServingAuth | None = None


class Training(Section):
    cloud: Cloud | None = None
    """The home cloud: the only one that trains; the others serve the versions it replicates to them.
    Unset: the first entry of `clouds`."""
    pool: PoolName
    workers: int = Field(default=1, ge=1, le=64)
    gpus_per_worker: int = Field(default=1, ge=1, le=16)
    epochs: int = Field(default=10, ge=1, le=1000)
    batch_size: int = Field(default=64, ge=1, le=65536)
    data_source: str = "digits"
    """`digits` (bundled), a bucket URI of raw data for `prepare-data`, or empty to train on data already
    prepared under `<bucket>/data/`."""
    cpu: Quantity = "2"
    """CPU per worker, requested and limited (Guaranteed QoS); it must fit the pool's machine."""
    memory: Quantity = "8Gi"
    active_deadline_hours: int = Field(default=24, ge=1, le=720)
    """The Job's `activeDeadlineSeconds`, in hours: past it Kubernetes stops every worker and fails the
    Job, so a run that never gets all its workers scheduled cannot hold GPUs forever."""
    image: DigestRef | None = None
    """A prebuilt, digest-pinned trainer image; unset builds `training/Dockerfile` and pushes it."""


class Waiver(Section):
    control: Annotated[str, pattern(r"^[A-Z]{2}-[0-9]{2}$", "a control ID from docs/controls.md, like CP-04")]
    clouds: tuple[Cloud, ...]
    reason: str = Field(min_length=20)
