"""The refresher's workers file: which worker clusters, how to get into each, and the home registry.

The workers file (`--workers-file`, a ConfigMap the Pulumi program writes) is JSON, every key checked before
anything is minted or written; an unknown key, a missing one or a bad value is a one-line usage error
naming `workers[i].key`, the value and what is allowed (exit status 2)::

    {
      "namespace": "kueue-system",          # optional, default kueue-system: where the Secrets are
      "workers": [                          # at least one
        {
          "name": "aws",                    # DNS label, unique: names the worker in messages
          "cloud": "aws",                   # aws (EKS), azure (AKS) or gcp (GKE)
          "server": "https://ABC.gr7.us-west-2.eks.amazonaws.com",   # https URL of the API server
          "caData": "<base64 of the PEM CA bundle>",                 # certificate-authority-data
          "secret": "multikueue-aws",       # the Secret's name (DNS subdomain), unique; it must exist
          "aws": {                          # exactly the section named by "cloud"
            "roleArn": "arn:aws:iam::123456789012:role/x",   # assumed with the web identity token
            "clusterName": "prod-eks",      # the EKS cluster's name (signed as x-k8s-aws-id)
            "region": "us-west-2",          # the cluster's region: its regional STS endpoint signs
            "tokenPath": "/var/run/secrets/gpu-platform/aws/token",   # optional, this default
            "stsEndpoint": "https://..."    # optional: where AssumeRoleWithWebIdentity goes (tests)
          }
        },
        {"name": "azure", "cloud": "azure", "server": "https://x.hcp.eastus2.azmk8s.io:443", "caData": "...",
         "secret": "multikueue-azure",
         "azure": {
            "tenantId": "<GUID>", "clientId": "<GUID of the user-assigned identity>",
            "tokenPath": "/var/run/secrets/gpu-platform/azure/token",   # optional, this default
            "authorityHost": "https://login.microsoftonline.com"                  # optional, this default
         }},
        {"name": "gcp", "cloud": "gcp", "server": "https://34.1.2.3", "caData": "...",
         "secret": "multikueue-gcp",
         "gcp": {
            "audience":       # the pool provider's full name, also the gcp token's audience
              "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/x",
            "serviceAccount": "sa@proj.iam.gserviceaccount.com",   # impersonated: GKE needs an email
            "tokenPath": "/var/run/secrets/gpu-platform/gcp/token",     # optional, this default
            "tokenUrl": "https://sts.googleapis.com/v1/token",                  # optional, this default
            "iamCredentialsUrl": "https://iamcredentials.googleapis.com"          # optional, this default
         }}
      ],
      "registry": {                         # optional: pull Secrets for the home registry (`pull_secrets`)
        "cloud": "gcp",                     # aws (ECR), azure (ACR) or gcp (Artifact Registry)
        "host": "us-central1-docker.pkg.dev",   # the registry's host: the key under `auths`
        "secret": "trainer-pull",           # the Secret's name (DNS subdomain) in each namespace; it exists
        "namespaces": ["ml"],               # at least one DNS label, unique: where the workers run Jobs
        "gcp": {                            # exactly the section named by "cloud"
          "serviceAccount": "puller@proj.iam.gserviceaccount.com"   # whom the metadata server answers as
        }
        # aws:   {"region": "us-west-2", "registryId": "123456789012",
        #         "ecrEndpoint": "https://..."}                        # optional: where ECR calls go (tests)
        # azure: {"tenantId": "<GUID>", "clientId": "<GUID of the identity that may pull>",
        #         "loginServer": "x.azurecr.io",                       # where the token exchange goes
        #         "tokenPath": "/var/run/secrets/gpu-platform/azure/token",   # optional, this default
        #         "authorityHost": "https://login.microsoftonline.com"}        # optional, this default
      }
    }

(The `#` comments are documentation only: the file is plain JSON.) The optional endpoints exist for tests
and private endpoints; production leaves them out. Errors in the registry name `registry.key`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.errors import UsageError

DEFAULT_NAMESPACE = "kueue-system"
FEDERATED_DIR = "/var/run/secrets/gpu-platform"
"""Where the pod mounts one projected token per cloud (`infra/clouds/base.py` `token_path`)."""
AZURE_AUTHORITY = "https://login.microsoftonline.com"
GCP_TOKEN_URL = "https://sts.googleapis.com/v1/token"
GCP_IAM_CREDENTIALS_URL = "https://iamcredentials.googleapis.com"


@dataclass(frozen=True)
class AwsFederation:
    role_arn: str
    cluster_name: str
    region: str
    token_path: str
    sts_endpoint: str | None = None  # None: botocore's own (the region's STS endpoint)


@dataclass(frozen=True)
class AzureFederation:
    tenant_id: str
    client_id: str
    token_path: str
    authority_host: str = AZURE_AUTHORITY


@dataclass(frozen=True)
class GcpFederation:
    audience: str
    service_account: str
    token_path: str
    token_url: str = GCP_TOKEN_URL
    iam_credentials_url: str = GCP_IAM_CREDENTIALS_URL


Federation = AwsFederation | AzureFederation | GcpFederation


@dataclass(frozen=True)
class Worker:
    """One worker cluster: where its API server is, the Secret that holds its kubeconfig, how to get in."""

    name: str
    cloud: str
    server: str
    ca_data: str
    secret: str
    federation: Federation


@dataclass(frozen=True)
class GarSource:
    """Artifact Registry: the pod's own Google service account, through the GKE metadata server, which
    mints itself a fresh token through IAM Credentials."""

    service_account: str
    iam_credentials_url: str = GCP_IAM_CREDENTIALS_URL


@dataclass(frozen=True)
class EcrSource:
    """ECR: the pod's own AWS credentials (EKS Pod Identity)."""

    region: str
    registry_id: str
    ecr_endpoint: str | None = None  # None: botocore's own (the region's ECR endpoint)


@dataclass(frozen=True)
class AcrSource:
    """ACR: an Entra ID token of a user-assigned identity that trusts the pod's projected token."""

    tenant_id: str
    client_id: str
    login_server: str
    token_path: str
    authority_host: str = AZURE_AUTHORITY


RegistrySource = GarSource | EcrSource | AcrSource


@dataclass(frozen=True)
class Registry:
    """The home registry, and the pull Secret that holds a credential for it in each worker namespace."""

    cloud: str
    host: str
    secret: str
    namespaces: tuple[str, ...]
    source: RegistrySource


@dataclass(frozen=True)
class WorkersFile:
    namespace: str
    workers: list[Worker]
    registry: Registry | None = None


_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_EKS_CLUSTER = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
_AWS_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
_AWS_ACCOUNT = re.compile(r"\d{12}")
_HOST_PORT = re.compile(
    r"(?=[^:]{1,253}(:|$))[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?"
)
_GCP_AUDIENCE = re.compile(
    r"//iam\.googleapis\.com/projects/\d+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+"
)
_SERVICE_ACCOUNT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9.-]+\.iam\.gserviceaccount\.com")
_CLOUDS = ("aws", "azure", "gcp")


class _Fields:
    """A JSON object being read: every key looked up is checked off, and any other key is an error."""

    def __init__(self, source: str, where: str, value: object) -> None:
        self.source, self.where = source, where
        if not isinstance(value, dict):
            raise self.error(where, value, "a JSON object")
        self.raw: dict[str, Any] = value
        self.seen: set[str] = set()

    def error(self, where: str, value: object, allowed: str) -> UsageError:
        shown = json.dumps(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return UsageError(f"--workers-file {self.source}: {where}: expected {allowed}, got {shown}")

    def key(self, name: str) -> str:
        return f"{self.where}.{name}" if self.where else name

    def text(self, name: str, pattern: re.Pattern[str] | None = None, allowed: str = "", **opt: str) -> str:
        self.seen.add(name)
        if name not in self.raw:
            if "default" in opt:
                return opt["default"]
            raise UsageError(f"--workers-file {self.source}: {self.key(name)} is missing ({allowed})")
        value = self.raw[name]
        if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
            raise self.error(self.key(name), value, allowed or "a non-empty string")
        return value

    def url(self, name: str, schemes: tuple[str, ...] = ("https",), **opt: str) -> str:
        """The URL given, or the default, as it is, when the key is left out."""
        allowed = f"a {' or '.join(schemes)} URL with a host"
        if name not in self.raw and "default" in opt:
            self.seen.add(name)
            return opt["default"]
        value = self.text(name, None, allowed, **opt)
        parsed = urllib.parse.urlsplit(value)
        if parsed.scheme not in schemes or not parsed.hostname:
            raise self.error(self.key(name), value, allowed)
        return value.rstrip("/")

    def path(self, name: str, default: str) -> str:
        value = self.text(name, None, "an absolute file path", default=default)
        if not value.startswith("/"):
            raise self.error(self.key(name), value, "an absolute file path")
        return value

    def section(self, cloud: str) -> _Fields:
        """The section named by `cloud`, refusing a section for any other cloud."""
        for other in _CLOUDS:
            if other != cloud and other in self.raw:
                raise UsageError(
                    f"--workers-file {self.source}: {self.key(other)}: a section for {other}, but cloud is "
                    f"{cloud!r}; give only the {cloud!r} section"
                )
        self.seen.add(cloud)
        return _Fields(self.source, self.key(cloud), self.raw.get(cloud))

    def done(self) -> None:
        extra = sorted(set(self.raw) - self.seen)
        if extra:
            name = extra[0]
            raise UsageError(
                f"--workers-file {self.source}: {self.key(name)}: unknown key (allowed here: "
                f"{', '.join(sorted(self.seen))})"
            )


def load_workers(path: str) -> WorkersFile:
    """Read and check the workers file; every problem is a one-line `UsageError` naming the key."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--workers-file {path}: cannot read: {exc.strerror or exc}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--workers-file {path}: not JSON: {exc}") from None
    return parse_workers(raw, path)


def parse_workers(raw: object, source: str = "<workers>") -> WorkersFile:
    top = _Fields(source, "", raw)
    namespace = top.text("namespace", _DNS_LABEL, "a DNS label (a namespace)", default=DEFAULT_NAMESPACE)
    top.seen.update(("workers", "registry"))
    items = top.raw.get("workers")
    if not isinstance(items, list) or not items:
        raise top.error("workers", items, "a non-empty list of workers")
    top.done()
    registry = _registry(_Fields(source, "registry", top.raw["registry"])) if "registry" in top.raw else None
    workers: list[Worker] = []
    for index, item in enumerate(items):
        worker = _worker(_Fields(source, f"workers[{index}]", item))
        for other in workers:
            for attr, key in (("name", "name"), ("secret", "secret")):
                if getattr(other, attr) == getattr(worker, attr):
                    raise UsageError(
                        f"--workers-file {source}: workers[{index}].{key}: {getattr(worker, attr)!r} is "
                        f"already used by worker {other.name!r}; each worker needs its own"
                    )
        workers.append(worker)
    return WorkersFile(namespace, workers, registry)


def _worker(fields: _Fields) -> Worker:
    name = fields.text("name", _DNS_LABEL, "a DNS label: lower-case letters, digits and '-'")
    cloud = fields.text("cloud", re.compile("|".join(_CLOUDS)), f"one of {', '.join(_CLOUDS)}")
    server = fields.url("server")
    ca_data = fields.text("caData", None, "base64 of a PEM certificate bundle")
    try:
        pem = base64.b64decode(ca_data, validate=True)
    except (binascii.Error, ValueError):
        pem = b""
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise fields.error(fields.key("caData"), ca_data, "base64 of a PEM certificate bundle")
    secret = fields.text("secret", _DNS_SUBDOMAIN, "a Secret name (a DNS subdomain)")
    section = fields.section(cloud)
    federation = _FEDERATIONS[cloud](section)
    section.done()
    fields.done()
    return Worker(name, cloud, server, ca_data, secret, federation)


def _aws(f: _Fields) -> AwsFederation:
    return AwsFederation(
        role_arn=f.text("roleArn", _ROLE_ARN, "an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)"),
        cluster_name=f.text("clusterName", _EKS_CLUSTER, "an EKS cluster name"),
        region=f.text("region", _AWS_REGION, "an AWS region such as us-west-2"),
        token_path=f.path("tokenPath", f"{FEDERATED_DIR}/aws/token"),
        sts_endpoint=f.url("stsEndpoint", ("https", "http"), default="") or None,
    )


def _azure(f: _Fields) -> AzureFederation:
    return AzureFederation(
        tenant_id=f.text("tenantId", _GUID, "a GUID (the Entra tenant's id)"),
        client_id=f.text("clientId", _GUID, "a GUID (the identity's client id)"),
        token_path=f.path("tokenPath", f"{FEDERATED_DIR}/azure/token"),
        authority_host=f.url("authorityHost", default=AZURE_AUTHORITY),
    )


def _gcp(f: _Fields) -> GcpFederation:
    return GcpFederation(
        audience=f.text(
            "audience",
            _GCP_AUDIENCE,
            "a pool provider's full name (//iam.googleapis.com/projects/<number>/locations/global/"
            "workloadIdentityPools/<pool>/providers/<provider>)",
        ),
        service_account=f.text("serviceAccount", _SERVICE_ACCOUNT, "a service account's email"),
        token_path=f.path("tokenPath", f"{FEDERATED_DIR}/gcp/token"),
        token_url=f.url("tokenUrl", default=GCP_TOKEN_URL),
        iam_credentials_url=f.url("iamCredentialsUrl", default=GCP_IAM_CREDENTIALS_URL),
    )


_FEDERATIONS: dict[str, Callable[[_Fields], Federation]] = {"aws": _aws, "azure": _azure, "gcp": _gcp}


def _registry(fields: _Fields) -> Registry:
    cloud = fields.text("cloud", re.compile("|".join(_CLOUDS)), f"one of {', '.join(_CLOUDS)}")
    host = fields.text("host", _DNS_SUBDOMAIN, "a registry's host name, such as us-central1-docker.pkg.dev")
    secret = fields.text("secret", _DNS_SUBDOMAIN, "a Secret name (a DNS subdomain)")
    fields.seen.add("namespaces")
    items = fields.raw.get("namespaces")
    if not isinstance(items, list) or not items:
        raise fields.error(fields.key("namespaces"), items, "a non-empty list of namespaces")
    namespaces: list[str] = []
    for index, item in enumerate(items):
        where = f"{fields.key('namespaces')}[{index}]"
        if not isinstance(item, str) or not _DNS_LABEL.fullmatch(item):
            raise fields.error(where, item, "a DNS label (a namespace)")
        if item in namespaces:
            raise UsageError(f"--workers-file {fields.source}: {where}: {item!r} is listed twice")
        namespaces.append(item)
    section = fields.section(cloud)
    source = _REGISTRY_SOURCES[cloud](section)
    section.done()
    fields.done()
    return Registry(cloud, host, secret, tuple(namespaces), source)


def _ecr(f: _Fields) -> EcrSource:
    return EcrSource(
        region=f.text("region", _AWS_REGION, "an AWS region such as us-west-2"),
        registry_id=f.text("registryId", _AWS_ACCOUNT, "an AWS account id (12 digits)"),
        ecr_endpoint=f.url("ecrEndpoint", ("https", "http"), default="") or None,
    )


def _acr(f: _Fields) -> AcrSource:
    return AcrSource(
        tenant_id=f.text("tenantId", _GUID, "a GUID (the Entra tenant's id)"),
        client_id=f.text("clientId", _GUID, "a GUID (the identity's client id)"),
        login_server=f.text("loginServer", _HOST_PORT, "a registry's login server, such as x.azurecr.io"),
        token_path=f.path("tokenPath", f"{FEDERATED_DIR}/azure/token"),
        authority_host=f.url("authorityHost", default=AZURE_AUTHORITY),
    )


def _gar(f: _Fields) -> GarSource:
    return GarSource(
        f.text("serviceAccount", _SERVICE_ACCOUNT, "a service account's email"),
        iam_credentials_url=f.url("iamCredentialsUrl", default=GCP_IAM_CREDENTIALS_URL),
    )


_REGISTRY_SOURCES: dict[str, Callable[[_Fields], RegistrySource]] = {"aws": _ecr, "azure": _acr, "gcp": _gar}
