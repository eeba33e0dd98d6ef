"""The stack-output contract: what applications may read from `pulumi stack output --json`.

Versioned by `schemaVersion`; bump it on any change an existing reader would misread.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from infra.catalog import Cloud

SCHEMA_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class CloudOutputs(_Model):
    region: str
    cluster_name: str
    kubeconfig: str
    bucket_uri: str
    registry: str
    training_image: str
    training_job: str
    model_uri: str
    serving_url: str
    network: dict[str, str | list[str]] = Field(default_factory=dict)
    """The cloud's network ids, e.g. AWS `vpcId`, `privateSubnetIds`, `publicSubnetIds`."""


class Endpoint(_Model):
    cloud: Cloud
    url: str


class StackOutputs(_Model):
    schema_version: Literal[1]
    stack: str
    environment: Literal["dev", "prod"]
    clouds: dict[Cloud, CloudOutputs]
    endpoints: list[Endpoint]
