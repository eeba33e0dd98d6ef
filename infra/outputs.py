"""The stack-output contract: what applications may read from `pulumi stack output --json`.

Versioned by `schemaVersion`; bump it on any change an existing reader would misread. The program
exports through `entry()`, which refuses a field the model does not declare (or misses one), and apps
parse with `StackOutputs`. `python -m infra.outputs` writes the JSON Schema published in
`schemas/stack-outputs.schema.json`. This module imports nothing of Pulumi, so apps can use it alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from infra.catalog import Cloud

SCHEMA_VERSION = 5
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "stack-outputs.schema.json"
DIGEST_REF = r"^[^@\s]+@sha256:[0-9a-f]{64}$"
_HTTP = r"http://[^/\s]+/v1/models/[a-z0-9-]+:predict"
# The program exports the gateways' names on 443, without a port; a reader accepts one, as a test stand-in
# or a gateway on another port needs.
_HTTPS = r"https://[^/:\s]+(:[0-9]{1,5})?/v1/models/[a-z0-9-]+:predict"
HTTPS_PREDICT_URL = rf"^{_HTTPS}$"
PREDICT_URL = rf"^({_HTTP}|{_HTTPS})?$"
"""TF Serving's REST predict URL, `http://HOST:PORT/...` or, behind the gateway, `https://HOST/...`;
empty while a load balancer has no address."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ModelOutputs(_Model):
    """The model one cloud serves, and where its versions come from."""

    name: str
    uri: str = Field(description="This cloud's model base path: one `<version>/` directory per version.")
    serves: int = Field(
        ge=1,
        description="TF Serving keeps the newest `serves` committed versions of `uri` and serves the newest.",
    )
    trained_on: Cloud = Field(
        description=(
            "The home cloud, which runs the stack's training Job; with `dispatch`, Jobs submitted to the "
            "manager export on the worker that ran them."
        )
    )
    source_uri: str = Field(
        description=(
            "The home's model base path. The replicator copies each version, verified, under the same "
            "number, from whichever cloud's bucket it was exported to into every other's."
        )
    )


class TrainingOutputs(_Model):
    """What trains on the home cloud, and what replicates its versions to the others."""

    image: str = Field(pattern=DIGEST_REF)
    job: str = Field(description="The Kubernetes Job that trains and exports the model.")
    replicator: str | None = Field(
        description="The CronJob that copies each version to the other clouds; None with one cloud."
    )


class CloudOutputs(_Model):
    """What one cloud of the stack offers applications."""

    region: str
    cluster_name: str
    bucket_uri: str = Field(pattern=r"^(s3|gs|az)://[^/\s]+$")
    registry: str = Field(description="The registry repository of the training image, without tag or digest.")
    serving_url: str = Field(
        pattern=PREDICT_URL,
        description=(
            "TF Serving's REST predict URL: with `serving.domain` this cloud's gateway, "
            "`https://<cloud>.<domain>/v1/models/<model>:predict`, else `http://HOST:8501/...`, empty until "
            "the load balancer has an address."
        ),
    )
    model: ModelOutputs
    training: TrainingOutputs | None = Field(description="Set on the home cloud only.")
    network: dict[str, str | list[str]] = Field(
        default_factory=dict, description="Network ids (VPC/VNet, subnets; a list where a tier has several)."
    )


class DispatchOutputs(_Model):
    """How users train on whichever cloud has GPUs free: Jobs made from the template and created in the
    manager's MultiKueue queue run on the first worker that admits them (docs/queues.md)."""

    manager: Cloud = Field(description="The cluster that holds the queue and the template.")
    workers: list[Cloud] = Field(description="The clusters MultiKueue dispatches to.")
    namespace: str
    template: str = Field(description="The suspended CronJob whose `jobTemplate` is the Job to submit.")
    queue: str = Field(description="The training team's MultiKueue LocalQueue, which the template names.")
    queues: dict[str, str] = Field(description="Every team's MultiKueue LocalQueue, by team.")


class ServingOutputs(_Model):
    """TF Serving behind an HTTPS gateway on every cloud (`serving.domain`): a request needs a client's key
    in `keyHeader`, which every cloud accepts, else the gateway answers 401 and TF Serving never sees it;
    TF Serving's model status (`GET /v1/models/<model>`) alone needs none. The keys are the secret output
    `apiKeys`."""

    url: str = Field(
        pattern=HTTPS_PREDICT_URL,
        description=(
            "The global predict URL, `https://<domain>/v1/models/<model>:predict`: Route 53 answers with "
            "every cloud whose gateway passes its health check (the model status reports AVAILABLE)."
        ),
    )
    clouds: dict[Cloud, Annotated[str, Field(pattern=HTTPS_PREDICT_URL)]] = Field(
        description=(
            "Each cloud's own predict URL, `https://<cloud>.<domain>/v1/models/<model>:predict`, answered "
            "whatever its health, in failover order (the stack's `clouds`)."
        )
    )
    key_header: Literal["x-api-key"] = Field(description="The request header that carries a client's key.")
    clients: list[str] = Field(
        min_length=1, description="The clients that hold a key (`serving.auth.clients`)."
    )
    failover_seconds: int = Field(
        ge=0,
        description=(
            "Seconds until the global name stops sending clients to a cloud that fails its health check "
            "(detection, then the record's TTL); a client retries another cloud meanwhile."
        ),
    )


class Endpoint(_Model):
    """One TF Serving predict URL."""

    cloud: Cloud
    url: str = Field(pattern=PREDICT_URL)


class StackOutputs(_Model):
    """gpu-platform stack outputs (`pulumi stack output --json`), version 5: everything but the
    kubeconfigs and the API keys is plain, so applications read it without `--show-secrets`. The stack
    trains on one cloud and replicates: `model` per cloud, `training` on the home cloud only. Version 4
    adds `dispatch`. Version 5 adds `serving` and `apiKeys`: with `serving.domain`, TF Serving answers
    behind an HTTPS gateway per cloud, `servingUrl` and `endpoints` are the clouds' https URLs, and a
    request needs a client's key."""

    schema_version: Literal[5]
    stack: str
    environment: Literal["dev", "prod"]
    clouds: dict[Cloud, CloudOutputs]
    dispatch: DispatchOutputs | None = Field(description="Set with `queues.dispatch` (MultiKueue).")
    serving: ServingOutputs | None = Field(description="Set with `serving.domain`.")
    endpoints: list[Endpoint] = Field(
        description=(
            "Predict endpoints in failover order (the stack's `clouds`): with `serving.domain` the clouds' "
            "gateways, which need a key (`serving`)."
        )
    )
    kubeconfigs: dict[Cloud, str] | Literal["[secret]"] = Field(
        description=(
            "Secret, and exported on its own so that it keeps nothing else secret: `[secret]` unless read "
            "with --show-secrets, then one kubeconfig per cloud, each using the cloud's exec plugin."
        )
    )
    api_keys: dict[str, str] | Literal["[secret]"] | None = Field(
        description=(
            "Secret, and exported on its own like `kubeconfigs`: `[secret]` unless read with "
            "--show-secrets, then each client's key (`serving.clients`), the same on every cloud; null "
            "without `serving.domain`."
        )
    )


def entry(schema: type[_Model], /, **values: Any) -> dict[str, Any]:
    """`values` keyed by the schema's wire names, for `pulumi.export`; every field, and only those."""
    fields = schema.model_fields
    missing, unknown = set(fields) - set(values), set(values) - set(fields)
    if missing or unknown:
        raise ValueError(f"{schema.__name__}: missing {sorted(missing)}, unknown {sorted(unknown)}")
    return {fields[name].alias or name: value for name, value in values.items()}


def schema_text() -> str:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **StackOutputs.model_json_schema(by_alias=True),
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write the JSON Schema (or check it is current with `--check`, exit 1 if not)."""
    current = SCHEMA_PATH.read_text() if SCHEMA_PATH.exists() else ""
    if "--check" in sys.argv[1:]:
        sys.exit(0 if current == schema_text() else 1)
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(schema_text())


if __name__ == "__main__":
    main()
