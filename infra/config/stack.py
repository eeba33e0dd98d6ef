"""The stack config: frozen pydantic models, and `load()`, which validates all of it before any resource
exists.

Every problem is collected and raised as one `ConfigError` (a `pulumi.RunError`), one line per problem:
`key: got VALUE; expected WHAT`. Structural problems come from the models; cross-key problems (a GPU type
missing in a region, overlapping networks) from `infra.config.checks`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

import pulumi
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from infra.catalog import Cloud
from infra.config import checks
from infra.config.aws import AwsConfig
from infra.config.azure import AzureConfig
from infra.config.cloud import CloudSection
from infra.config.gcp import GcpConfig
from infra.config.queues import Queues, Team, TeamQueue, team_pools, team_queue
from infra.config.types import (
    DEFAULT_NAMESPACE,
    PATTERN_HINTS,
    DnsLabel,
    GpuPool,
    Serving,
    Storage,
    Training,
    Waiver,
)
from infra.naming import PROJECT

S = TypeVar("S", bound=CloudSection)

SECTIONS: dict[str, type[CloudSection]] = {s.CLOUD: s for s in (AwsConfig, GcpConfig, AzureConfig)}
"""The section type of each cloud; a cloud's section is validated only when `clouds` enables it."""
PROVIDER_KEYS: dict[tuple[str, str], str] = {
    (cloud, field): key for cloud, section in SECTIONS.items() for field, key in section.PROVIDER_KEYS.items()
}
"""Fields of the cloud sections that are read from the providers' own config keys."""


class StackConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    stack: str
    environment: Literal["dev", "prod"]
    clouds: tuple[Cloud, ...] = Field(min_length=1)
    namespace: DnsLabel = DEFAULT_NAMESPACE
    protect: bool = False
    aws: AwsConfig | None = None
    gcp: GcpConfig | None = None
    azure: AzureConfig | None = None
    gpu_pools: tuple[GpuPool, ...] = Field(min_length=1)
    serving: Serving = Serving()
    training: Training
    queues: Queues = Queues()
    storage: Storage = Storage()
    waivers: tuple[Waiver, ...] = ()

    def pools_on(self, cloud: Cloud) -> tuple[GpuPool, ...]:
        return tuple(p for p in self.gpu_pools if p.on(cloud))

    @property
    def training_cloud(self) -> Cloud:
        """The home cloud, which trains and replicates each model version to the others."""
        return self.training.cloud or self.clouds[0]

    @property
    def dispatch_workers(self) -> tuple[Cloud, ...]:
        """The clouds whose clusters run the Jobs MultiKueue dispatches (`queues.dispatch`); none without."""
        return tuple(self.queues.dispatch.workers) if self.queues.dispatch is not None else ()

    def teams(self) -> tuple[Team, ...]:
        """The teams of `queues`, or the default one: named after `namespace`, with every pool."""
        return self.queues.teams_in(self.namespace, self.gpu_pools, self.serving.pool)

    def team_queues(self, cloud: Cloud) -> tuple[TeamQueue, ...]:
        """What `cloud`'s cluster creates for each team, every default resolved: the flavors of the team's
        pools on that cloud, in order, and the nominal quota in each. A team may have no flavor there."""
        return tuple(self._team_queue(t, cloud) for t in self.teams())

    def training_team(self) -> TeamQueue:
        """The team whose LocalQueue the training Job is submitted to, on the home cloud: the first team
        whose pools include `training.pool` (validation guarantees one)."""
        for team in self.teams():
            if any(p.name == self.training.pool for p in team_pools(team, self.gpu_pools)):
                return self._team_queue(team, self.training_cloud)
        raise ValueError(f"no team of {PROJECT}:queues lists the training pool {self.training.pool}")

    def _team_queue(self, team: Team, cloud: Cloud) -> TeamQueue:
        return team_queue(
            team, namespace=self.namespace, cohort=self.queues.cohort, pools=self.gpu_pools, cloud=cloud
        )

    def pool(self, name: str) -> GpuPool | None:
        return next((p for p in self.gpu_pools if p.name == name), None)

    def section(self, kind: type[S]) -> S:
        """The section of `kind`'s cloud, which validation guarantees wherever `clouds` enables it."""
        value = self.cloud_section(kind.CLOUD)
        if not isinstance(value, kind):
            raise TypeError(f"the {kind.CLOUD} section is a {type(value).__name__}, not a {kind.__name__}")
        return value

    def cloud_section(self, cloud: Cloud) -> CloudSection:
        """The section of an enabled cloud, for what every section states (its region, its pools)."""
        value = getattr(self, cloud, None)
        if not isinstance(value, CloudSection):
            raise ValueError(f"the {cloud} platform needs the {PROJECT}:{cloud} section (unset)")
        return value

    def waived(self, control: str, cloud: Cloud) -> Waiver | None:
        return next((w for w in self.waivers if w.control == control and cloud in w.clouds), None)


STRING_KEYS = frozenset({"environment", "namespace"})
"""Top-level keys that Pulumi passes as plain strings; every other key arrives JSON-encoded."""
TOP_LEVEL_KEYS = tuple(f.alias or n for n, f in StackConfig.model_fields.items() if n != "stack")


class ConfigError(pulumi.RunError):
    """Invalid stack config; `problems` holds one `key: got ...; expected ...` line each."""

    def __init__(self, stack: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid config for stack '{stack}' ({len(problems)} problem(s)):\n{lines}")


def load() -> StackConfig:
    """Read the stack's config through `pulumi.Config` and validate it (see `parse`)."""

    def get(key: str) -> str | None:
        namespace, name = key.split(":", 1)
        return pulumi.Config(namespace).get(name)

    return parse(read_raw(get), stack=pulumi.get_stack())


def read_raw(get: Callable[[str], str | None]) -> dict[str, Any]:
    """Collect the raw values of every project key, with the provider keys folded into their sections."""
    raw: dict[str, Any] = {}
    for key in TOP_LEVEL_KEYS:
        value = get(f"{PROJECT}:{key}")
        if value is not None:
            raw[key] = value if key in STRING_KEYS else _json(value)
    for (section, field), provider_key in PROVIDER_KEYS.items():
        value = get(provider_key)
        if value is not None and isinstance(raw.get(section), dict):
            raw[section] = {**raw[section], field: value}
    return raw


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def parse(raw: Mapping[str, Any], stack: str) -> StackConfig:
    """Validate every top-level key on its own, then the cross-key rules; raise all problems at once."""
    problems: list[str] = []
    parsed: dict[str, Any] = {"stack": stack}
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    problems += [
        f"{PROJECT}:{k}: got an unknown key; expected one of {', '.join(TOP_LEVEL_KEYS)}" for k in unknown
    ]
    clouds = raw.get("clouds")
    enabled: list[Any] = clouds if isinstance(clouds, list) else []
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        if name in SECTIONS and name not in enabled:
            continue
        if name == "stack" or key not in raw:
            if field.is_required() and name != "stack":
                problems.append(f"{PROJECT}:{key}: got nothing; expected a value (this key is required)")
            continue
        try:
            parsed[name] = TypeAdapter[Any](field.annotation or Any).validate_python(raw[key])
        except ValidationError as exc:
            problems += [_describe(key, err) for err in exc.errors()]
    problems += checks.check(parsed, raw, SECTIONS)
    if problems:
        raise ConfigError(stack, problems)
    return StackConfig.model_validate(parsed)


def _describe(top_key: str, err: Any) -> str:
    loc = tuple(err["loc"])
    provider_key = PROVIDER_KEYS.get((top_key, str(loc[0]))) if len(loc) == 1 else None
    key = provider_key or f"{PROJECT}:{top_key}" + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc
    )
    got = "nothing" if err["type"] == "missing" else json.dumps(err["input"], default=str)
    return f"{key}: got {got}; expected {_expected(err)}"


def _expected(err: Any) -> str:
    kind, msg, ctx = err["type"], err["msg"], err.get("ctx", {})
    if kind == "missing":
        return "a value (this key is required)"
    if kind == "extra_forbidden":
        return "no such key (a misspelled or unknown key)"
    if kind == "string_pattern_mismatch":
        return str(PATTERN_HINTS.get(ctx.get("pattern"), f"a string matching {ctx.get('pattern')}"))
    if kind == "value_error":
        return str(msg).removeprefix("Value error, ").removeprefix("expected ")
    for prefix in ("Input should be ", "String should have ", "Tuple should have ", "List should have "):
        if msg.startswith(prefix):
            subject = "" if prefix.startswith("Input") else prefix.split()[0].lower().replace("tuple", "list")
            return f"{'a ' + subject + ' with ' if subject else ''}{msg.removeprefix(prefix)}"
    return str(msg)
