"""The one contract suite: what every cloud's platform must return and guarantee, checked alike for each
cloud of each stack (libcloud's shared driver suite is the model). What legitimately differs between
clouds is data in `EXPECTED`; a new cloud adds its row and gets every test. The per-cloud test packages
keep only what no other cloud has.

`contract_plan` runs each cloud's `platform.build(args)` alone and exports every field of the contract;
`stack_plan` is the whole program, whose resources and outputs the last tests read.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from infra import config
from infra.catalog import CLOUDS, Cloud
from infra.clouds.base import SERVICE_ACCOUNTS, Capability, token_path
from infra.naming import PROJECT, labels, tags
from plan import stackfile
from plan.runner import Plan
from tests.plans import ROOT, contract_plan, platform_resources


@dataclass(frozen=True)
class Expected:
    """What a cloud's contract says differently from the others'."""

    provider: str
    """The Pulumi package of the cloud's provider (`azure-native`), whose resources all use one instance."""
    marks: str
    """The input that carries the project's tags or labels on the cloud's resources."""
    bucket_scheme: str
    auth_plugin: str
    """The kubeconfig's exec plugin, which gets a short-lived token with the deployer's own identity."""
    identity_annotations: frozenset[str]
    pod_labels: Mapping[str, str]
    missing: frozenset[Capability]
    internal_annotation: tuple[str, str]
    """The Service annotation that keeps the serving load balancer internal."""
    network: frozenset[str]
    federated_audience: str
    """The start of the audience a foreign token must carry to be exchanged here."""
    federated_files: frozenset[str]
    """The configuration files the foreign pod mounts beside its token."""
    api_token: frozenset[str]
    """The keys of the refresher's entry for this cloud (training/trainer/workers_file.py)."""
    api_subject: str
    """The kind of RBAC subject the API server sees the refresher's token as."""
    pull_token: frozenset[str]
    """The keys of this cloud's section of the refresher's `registry` entry, when it is home."""
    gateway_annotations: frozenset[str]
    """The Service annotations that put the gateway's load balancer on the reserved addresses."""
    gateway_ready: int
    """How many grants the cloud's load balancer controller needs on them."""


AWS_GATEWAY_ANNOTATIONS = (
    "type",
    "additional-resource-tags",
    "subnets",
    "eip-allocations",
    "cross-zone-load-balancing-enabled",
)
EXPECTED: dict[str, Expected] = {
    "aws": Expected(
        provider="aws",
        marks="tags",
        bucket_scheme="s3",
        auth_plugin="aws",
        identity_annotations=frozenset(),  # Pod Identity associates the role with the service account
        pod_labels={},
        missing=frozenset({Capability.GPU_DEVICE_PLUGIN}),
        internal_annotation=("service.beta.kubernetes.io/aws-load-balancer-internal", "true"),
        network=frozenset({"vpcId", "privateSubnetIds", "publicSubnetIds"}),
        federated_audience="sts.amazonaws.com",
        federated_files=frozenset(),
        api_token=frozenset({"roleArn", "clusterName", "region", "tokenPath"}),
        api_subject="Group",  # the access entry's Kubernetes group
        pull_token=frozenset({"region", "registryId"}),
        gateway_annotations=frozenset(
            {f"service.beta.kubernetes.io/aws-load-balancer-{k}" for k in AWS_GATEWAY_ANNOTATIONS}
        ),
        gateway_ready=0,
    ),
    "gcp": Expected(
        provider="gcp",
        marks="labels",
        bucket_scheme="gs",
        auth_plugin="gke-gcloud-auth-plugin",
        identity_annotations=frozenset({"iam.gke.io/gcp-service-account"}),
        pod_labels={},
        missing=frozenset(),
        internal_annotation=("networking.gke.io/load-balancer-type", "Internal"),
        network=frozenset({"network", "subnetwork"}),
        federated_audience="//iam.googleapis.com/projects/",
        federated_files=frozenset({"credentials.json"}),
        api_token=frozenset({"audience", "serviceAccount", "tokenPath"}),
        api_subject="User",  # the impersonated service account's email
        pull_token=frozenset({"serviceAccount"}),
        gateway_annotations=frozenset(
            {"networking.gke.io/load-balancer-ip-addresses", "cloud.google.com/l4-rbs"}
        ),
        gateway_ready=0,
    ),
    "azure": Expected(
        provider="azure-native",
        marks="tags",
        bucket_scheme="az",
        auth_plugin="kubelogin",
        identity_annotations=frozenset({"azure.workload.identity/client-id"}),
        pod_labels={"azure.workload.identity/use": "true"},
        missing=frozenset({Capability.GPU_DEVICE_PLUGIN}),
        internal_annotation=("service.beta.kubernetes.io/azure-load-balancer-internal", "true"),
        network=frozenset({"vnet", "systemSubnet", "gpuSubnet"}),
        federated_audience="api://AzureADTokenExchange",
        federated_files=frozenset(),
        api_token=frozenset({"tenantId", "clientId", "tokenPath"}),
        api_subject="User",  # the managed identity's object id
        pull_token=frozenset({"tenantId", "clientId", "loginServer"}),
        gateway_annotations=frozenset(
            {
                "service.beta.kubernetes.io/azure-pip-name",
                "service.beta.kubernetes.io/azure-load-balancer-resource-group",
            }
        ),
        gateway_ready=1,  # the cluster identity's grant on the address's resource group
    ),
}
STACKS = ("dev", "prod")


def _config(stack: str) -> config.StackConfig:
    return config.parse(config.read_raw(stackfile.load(ROOT, stack).config.get), stack=stack)


CASES = [(stack, cloud) for stack in STACKS for cloud in _config(stack).clouds]


@dataclass(frozen=True)
class Contract:
    stack: str
    cloud: Cloud
    fields: dict[str, Any]
    secret: frozenset[str]
    """Paths of the fields marked secret, relative to the contract (`registry.auth.password`)."""
    cfg: config.StackConfig

    @property
    def expected(self) -> Expected:
        return EXPECTED[self.cloud]


@pytest.fixture(scope="module", params=CASES, ids=[f"{s}-{c}" for s, c in CASES])
def contract(request: pytest.FixtureRequest) -> Contract:
    stack, cloud = request.param
    plan = contract_plan(stack)
    prefix = f"contracts.{cloud}."
    secret = frozenset(p.removeprefix(prefix) for p in plan.secret_outputs if p.startswith(prefix))
    return Contract(stack, cloud, plan.outputs["contracts"][cloud], secret, _config(stack))


def test_every_cloud_states_what_differs() -> None:
    assert set(EXPECTED) == set(CLOUDS)
    assert {cloud for _, cloud in CASES} == set(CLOUDS)  # the stacks exercise every cloud


def test_names_its_cloud_and_the_configured_region(contract: Contract) -> None:
    assert contract.fields["cloud"] == contract.cloud
    assert contract.fields["region"] == contract.cfg.cloud_section(contract.cloud).region_name()
    assert contract.fields["clusterName"]


def test_the_kubernetes_provider_belongs_to_the_platforms_cluster(contract: Contract) -> None:
    urn = contract.fields["k8sProvider"]
    assert f"gpu-platform:{contract.cloud}:GpuCluster$pulumi:providers:kubernetes::" in urn
    assert urn.rsplit("::", 1)[1].startswith(f"{contract.stack}-{contract.cloud}-")


def test_the_bucket_uri_uses_the_clouds_scheme(contract: Contract) -> None:
    scheme, _, path = contract.fields["bucketUri"].partition("://")
    assert (scheme, bool(path)) == (contract.expected.bucket_scheme, True)


def test_the_registry_pushes_with_a_secret_credential(contract: Contract) -> None:
    registry = contract.fields["registry"]
    assert registry["repository"].startswith(f"{registry['host']}/")
    assert registry["repository"].endswith("/trainer")
    assert registry["auth"]["address"] == registry["host"]
    assert registry["auth"]["username"]
    assert registry["auth"]["password"]
    assert contract.secret == {"kubeconfig", "registry.auth.password"}


def test_the_kubeconfig_runs_an_exec_plugin_and_holds_no_credential(contract: Contract) -> None:
    kubeconfig = yaml.safe_load(contract.fields["kubeconfig"])
    [user] = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == contract.expected.auth_plugin
    assert not {"token", "client-key-data", "client-certificate-data", "password"} & set(user["user"])
    [cluster] = kubeconfig["clusters"]
    assert cluster["cluster"]["server"].startswith("https://")
    assert cluster["cluster"]["certificate-authority-data"]


def test_each_role_gets_its_fixed_service_account_and_the_clouds_identity(contract: Contract) -> None:
    identities = contract.fields["identities"]
    assert set(identities) == set(SERVICE_ACCOUNTS)
    for role, binding in identities.items():
        assert binding["serviceAccount"] == SERVICE_ACCOUNTS[role]
        assert set(binding["annotations"]) == contract.expected.identity_annotations
        assert binding["podLabels"] == contract.expected.pod_labels
    if contract.expected.identity_annotations:  # one cloud identity per role: serving cannot write models
        assert len({str(b["annotations"]) for b in identities.values()}) == len(identities)


def test_what_the_cloud_lacks_is_named_with_the_reason(contract: Contract) -> None:
    missing = contract.fields["missing"]
    assert set(missing) == {c.name for c in contract.expected.missing}
    assert all(len(reason) > 40 for reason in missing.values())


def test_internal_serving_gets_the_clouds_internal_load_balancer(contract: Contract) -> None:
    key, value = contract.expected.internal_annotation
    annotations = contract.fields["serviceAnnotations"]
    internal = contract.cfg.serving.exposure == "internal"
    assert (annotations.get(key) == value) is internal


def test_network_ids_egress_and_tolerations_are_well_formed(contract: Contract) -> None:
    assert set(contract.fields["network"]) == contract.expected.network
    assert all(contract.fields["network"].values())
    for rule in contract.fields["identityEgress"]:
        assert ipaddress.ip_network(rule["cidr"]).prefixlen == 32
        assert rule["protocol"] in {"TCP", "UDP"}
        assert 0 < rule["port"] < 65536
    for toleration in contract.fields["spotTolerations"]:
        assert toleration["effect"] in {"NoSchedule", "NoExecute"}
        assert toleration["key"]
    assert not any("KEY" in k or "SECRET" in k for k in contract.fields["storageEnv"])


PRIVATE = [
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
]


def _private(addresses: list[str]) -> list[str]:
    return [a for a in addresses if any(ipaddress.ip_address(a) in n for n in PRIVATE)]


def test_the_issuer_and_egress_addresses_are_what_other_clouds_trust(contract: Contract) -> None:
    assert contract.fields["oidcIssuer"].startswith("https://")
    addresses = contract.fields["egressIps"]
    assert addresses  # a storage firewall elsewhere admits exactly these
    # Public addresses: a node's private one never reaches another cloud (the fakes answer TEST-NET ones).
    assert not _private(addresses)


def test_the_gateway_answers_on_reserved_public_addresses(contract: Contract) -> None:
    """DNS names the addresses before the load balancer exists: they are public, distinct from the NAT's
    (the egress addresses), and the annotations, none secret, tell the cloud's controller to use them."""
    gateway = contract.fields["gateway"]
    assert gateway["ips"]
    assert not _private(gateway["ips"])
    assert len(set(gateway["ips"])) == len(gateway["ips"])
    assert not set(gateway["ips"]) & set(contract.fields["egressIps"])
    assert set(gateway["annotations"]) == contract.expected.gateway_annotations
    assert all(gateway["annotations"].values())
    assert len(gateway["ready"]) == contract.expected.gateway_ready
    assert not [p for p in contract.secret if p.startswith("gateway.")]


def test_federating_a_foreign_workload_needs_no_secret(contract: Contract) -> None:
    federated = contract.fields["federated"]
    assert federated["audience"].startswith(contract.expected.federated_audience)
    assert set(federated["files"]) == contract.expected.federated_files
    # The foreign pod finds its token where this cloud's SDK is told to look, in an env var or a file.
    told = [*federated["env"].values(), *federated["files"].values()]
    assert any(token_path(contract.cloud) in value for value in told)
    assert not any("KEY" in k or "SECRET" in k or "PASSWORD" in k for k in federated["env"])
    assert len(federated["ready"]) == 2  # the trust and the grant


def test_admitting_a_foreign_api_client_needs_no_secret(contract: Contract) -> None:
    """MultiKueue's refresher signs in with a token it mints from its projected one: the contract says
    where the server is, which audience and identity, and whom RBAC binds; never a credential."""
    api = contract.fields["api"]
    assert api["server"].startswith("https://")
    assert base64.b64decode(api["caData"], validate=True)
    assert api["audience"].startswith(contract.expected.federated_audience)
    assert set(api["token"]) == contract.expected.api_token
    assert api["token"]["tokenPath"] == token_path(contract.cloud)
    assert api["subject"]["kind"] == contract.expected.api_subject
    assert api["subject"]["name"]
    assert not [p for p in contract.secret if p.startswith("api.")]
    assert api["ready"]


def test_granting_pulls_to_a_workload_of_the_cluster_needs_no_secret(contract: Contract) -> None:
    """MultiKueue's refresher mints pull credentials of the home registry for the workers: the contract
    says for which host, as which identity, and what its service account and pods carry; never a key."""
    pull, registry = contract.fields["pull"], contract.fields["registry"]
    assert pull["host"] == registry["host"]
    assert set(pull["token"]) == contract.expected.pull_token
    assert all(pull["token"].values())
    assert pull["serviceAccount"] == "worker-token-refresher"
    assert set(pull["annotations"]) == contract.expected.identity_annotations
    assert pull["podLabels"] == contract.expected.pod_labels
    # An identity of its own: not the trainer's, which may write the bucket and push.
    trainer = contract.fields["identities"]["trainer"]["annotations"]
    assert not set(pull["annotations"].values()) & set(trainer.values())
    assert not [p for p in contract.secret if p.startswith("pull.")]
    # The trust and the grant (on GCP also the account's right to mint itself a fresh token).
    assert len(pull["ready"]) >= 2


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_stack_outputs_carry_the_contract(stack_plan: Plan, cloud: str) -> None:
    fields = contract_plan(stack_plan.stack).outputs["contracts"][cloud]
    out = stack_plan.outputs["clouds"][cloud]
    assert (out["region"], out["clusterName"], out["bucketUri"]) == (
        fields["region"],
        fields["clusterName"],
        fields["bucketUri"],
    )
    assert out["registry"] == fields["registry"]["repository"]
    assert "kubeconfig" not in out
    assert "kubeconfigs" in stack_plan.secret_outputs
    assert cloud in stack_plan.outputs["kubeconfigs"]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_resource_hangs_under_the_platform_and_uses_its_one_provider(
    stack_plan: Plan, cloud: str
) -> None:
    stack, expected = stack_plan.stack, EXPECTED[cloud]
    resources = platform_resources(stack_plan, cloud)
    [root] = [r for r in resources if r.parent is None or r.type == f"gpu-platform:{cloud}:Platform"]
    assert (root.type, root.name) == (f"gpu-platform:{cloud}:Platform", f"{stack}-{cloud}")
    assert all(r.name.startswith(f"{stack}-{cloud}") for r in resources)
    ours = [r for r in resources if r.custom and r.type.startswith(f"{expected.provider}:")]
    assert ours
    [provider] = {r.provider for r in ours}
    assert str(provider).endswith(f"$pulumi:providers:{expected.provider}::{stack}-{cloud}-provider")
    outside = [
        r.name
        for r in stack_plan.resources
        if r.type.startswith(f"{expected.provider}:") and r not in resources
    ]
    assert outside == []


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_resource_that_takes_tags_carries_the_projects(stack_plan: Plan, cloud: str) -> None:
    expected = EXPECTED[cloud]
    marks = tags if expected.marks == "tags" else labels
    keys = {k: v for k, v in marks(stack_plan.stack, cloud, "x").items() if v != "x"}
    marked = [r for r in platform_resources(stack_plan, cloud) if r.custom and expected.marks in r.inputs]
    assert marked
    for resource in marked:
        carried = resource.inputs[expected.marks]
        assert {k: carried.get(k) for k in keys} == keys, resource.name
    assert PROJECT in keys.values()


@pytest.mark.parametrize("cloud", CLOUDS)
def test_the_kubernetes_provider_takes_the_kubeconfig_as_a_secret(stack_plan: Plan, cloud: str) -> None:
    [provider] = [r for r in platform_resources(stack_plan, cloud) if r.type == "pulumi:providers:kubernetes"]
    assert stack_plan.by_urn()[str(provider.parent)].type == f"gpu-platform:{cloud}:GpuCluster"
    assert provider.secret_paths == ["kubeconfig"]
