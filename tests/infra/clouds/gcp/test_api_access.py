"""GCP as a MultiKueue worker: the manager's token refresher, trusted through the same pool and provider as
the replicator of its cluster, acts as a Google service account made for it (Workload Identity User on
that one account), which may get the cluster (Cluster Viewer) and nothing else; the API's authorized
networks admit the manager's egress addresses as /32 blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from infra import config
from infra.clouds.base import MODELS_PREFIX, ForeignWorkload, PlatformArgs
from infra.clouds.gcp import api_access, cluster, federation, platform
from plan import stackfile
from plan.fakes.gcp import FAKE_PROJECT_NUMBER
from plan.fakes.registry import FAKE_CA
from plan.runner import Plan, PlannedResource, ProgramFailedError, on_mocks
from tests.infra.clouds.gcp.helpers import (
    ACCOUNT,
    CLUSTER,
    PROJECT_IAM,
    SA_IAM,
    SERVICE,
    gcp,
    gcp_config,
    one,
    stack_config,
)
from tests.plans import ROOT, contract_plan

POOL = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
STATIC = "time:index/static:Static"
ISSUER = "https://oidc.example/clusters/manager"
REFRESHER = "system:serviceaccount:kueue-system:worker-token-refresher"
REPLICATOR = "system:serviceaccount:ml:replicator"
MANAGER_IPS = ["203.0.113.7", "203.0.113.8"]


def _workload(
    namespace: str, service_account: str, issuer: Any = ISSUER, prefix: str = ""
) -> ForeignWorkload:
    return ForeignWorkload(
        cloud="aws", issuer=issuer, namespace=namespace, service_account=service_account, prefix=prefix
    )


REPLICATOR_WORKLOAD = _workload("ml", "replicator", prefix=MODELS_PREFIX)
REFRESHER_WORKLOAD = _workload("kueue-system", "worker-token-refresher")


@dataclass(frozen=True)
class Worker:
    """dev's GCP platform as a worker: the plan, what `admit_api` and `federate` returned, resolved."""

    plan: Plan
    api: dict[str, Any]
    federated_audience: str

    def named(self, type_: str, suffix: str) -> PlannedResource:
        (found,) = [r for r in gcp(self.plan, type_) if r.name.endswith(suffix)]
        return found


def _program(api_admit: Any = (), issuer: Any = ISSUER) -> None:
    built = platform.build(PlatformArgs(cfg=config.load(), api_admit=api_admit))
    access = built.federate(REPLICATOR_WORKLOAD)
    api = built.admit_api(_workload("kueue-system", "worker-token-refresher", issuer=issuer))
    pulumi.export("federatedAudience", access.audience)
    pulumi.export(
        "api",
        {
            "server": api.server,
            "caData": api.ca_data,
            "audience": api.audience,
            "token": dict(api.token),
            "subject": {"kind": api.subject.kind, "name": api.subject.name},
            "ready": [r.urn for r in api.ready],
        },
    )


@pytest.fixture(scope="module")
def worker() -> Worker:
    def program() -> None:
        _program(api_admit=pulumi.Output.from_input(MANAGER_IPS))

    done = on_mocks(stackfile.load(ROOT, "dev"), "dev", program)
    plan = Plan("gpu-platform", "dev", done.resources, done.outputs, done.secret_outputs)
    return Worker(plan, done.outputs["api"], done.outputs["federatedAudience"])


def admitted(condition: str) -> set[str]:
    """The subjects a provider condition of `subjects_condition`'s two forms admits, read from its text."""
    single = re.fullmatch(r"assertion\.sub == '([^']+)'", condition)
    if single:
        return {single[1]}
    listed = re.fullmatch(r"assertion\.sub in \[((?:'[^']+'(?:, )?)+)\]", condition)
    assert listed, condition
    return set(re.findall(r"'([^']+)'", listed[1]))


def test_the_refresher_shares_the_replicators_pool_and_provider(worker: Worker) -> None:
    """One pool, one provider and one creation time per issuer: a second pool would get the same id."""
    (trust,) = worker.plan.of_type("gpu-platform:gcp:FederatedTrust")
    children = [r for r in worker.plan.resources if r.parent == trust.urn]
    assert sorted(r.type for r in children if r.type in (POOL, PROVIDER, STATIC)) == sorted(
        [POOL, PROVIDER, STATIC]
    )
    assert len(gcp(worker.plan, POOL)) == len(gcp(worker.plan, PROVIDER)) == 1
    provider = one(worker.plan, PROVIDER)
    assert provider.inputs["oidc"] == {"issuerUri": ISSUER}
    assert worker.api["audience"] == worker.federated_audience
    ident = provider.inputs["workloadIdentityPoolProviderId"]
    assert worker.api["audience"] == (
        f"//iam.googleapis.com/projects/{FAKE_PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
        f"{ident}/providers/{ident}"
    )


def test_the_provider_admits_exactly_the_two_trusted_subjects(worker: Worker) -> None:
    condition = one(worker.plan, PROVIDER).inputs["attributeCondition"]
    assert condition == f"assertion.sub in ['{REFRESHER}', '{REPLICATOR}']"
    assert admitted(condition) == {REFRESHER, REPLICATOR}
    # Any other service account of the same cluster is refused.
    assert "system:serviceaccount:ml:trainer" not in admitted(condition)
    assert "system:serviceaccount:kueue-system:default" not in admitted(condition)


def test_the_contract_program_holds_one_pool_per_issuer() -> None:
    """The contract program trusts the replicator and the refresher of one foreign issuer, on each stack."""
    for stack in ("dev", "prod"):
        plan = contract_plan(stack)
        assert len(gcp(plan, POOL)) == len(gcp(plan, PROVIDER)) == 1
        assert len([r for r in plan.of_type(STATIC) if "-gcp-federation-" in r.name]) == 1
        condition = one(plan, PROVIDER).inputs["attributeCondition"]
        replicator = f"system:serviceaccount:{stack_config(plan).namespace}:replicator"
        assert admitted(condition) == {REFRESHER, replicator}


def test_the_refresher_acts_as_its_own_service_account(worker: Worker) -> None:
    account = worker.named(ACCOUNT, "-federation-aws-worker-token-refresher")
    ident = account.inputs["accountId"]
    assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", ident)
    assert ident.startswith("dev-aws-kueue-system-")
    email = f"{ident}@{account.inputs['project']}.iam.gserviceaccount.com"
    assert worker.api["subject"] == {"kind": "User", "name": email}
    assert worker.api["token"] == {
        "audience": worker.api["audience"],
        "serviceAccount": email,
        "tokenPath": "/var/run/secrets/gpu-platform/gcp/token",
    }
    assert worker.api["server"] == "https://192.0.2.10"  # the fake cluster's endpoint
    assert worker.api["caData"] == FAKE_CA


def test_only_the_refresher_may_mint_its_accounts_tokens(worker: Worker) -> None:
    account = worker.named(ACCOUNT, "-worker-token-refresher")
    email = f"{account.inputs['accountId']}@{account.inputs['project']}.iam.gserviceaccount.com"
    pool = one(worker.plan, POOL).inputs["workloadIdentityPoolId"]
    grants = [g for g in gcp(worker.plan, SA_IAM) if g.inputs["serviceAccountId"].endswith(email)]
    (grant,) = grants
    assert grant.inputs == {
        "serviceAccountId": f"projects/{account.inputs['project']}/serviceAccounts/{email}",
        "role": "roles/iam.workloadIdentityUser",
        "member": (
            f"principal://iam.googleapis.com/projects/{FAKE_PROJECT_NUMBER}/locations/global/"
            f"workloadIdentityPools/{pool}/subject/{REFRESHER}"
        ),
    }
    # On that one account only, never on the project.
    assert not [g for g in gcp(worker.plan, PROJECT_IAM) if g.inputs["role"] == api_access.IMPERSONATE]
    services = {r.inputs["service"]: r.urn for r in gcp(worker.plan, SERVICE)}
    assert services["iamcredentials.googleapis.com"] in grant.depends_on


def test_the_account_may_get_the_cluster_and_nothing_more(worker: Worker) -> None:
    account = worker.named(ACCOUNT, "-worker-token-refresher")
    member = (
        f"serviceAccount:{account.inputs['accountId']}@{account.inputs['project']}.iam.gserviceaccount.com"
    )
    project_grants = [g for g in gcp(worker.plan, PROJECT_IAM) if g.inputs["member"] == member]
    assert [g.inputs for g in project_grants] == [
        {"project": account.inputs["project"], "role": "roles/container.clusterViewer", "member": member}
    ]
    assert not [g for g in gcp(worker.plan, SA_IAM) if g.inputs["member"] == member]


def test_ready_is_the_provider_and_both_grants(worker: Worker) -> None:
    impersonate = worker.named(SA_IAM, "-worker-token-refresher-impersonate")
    viewer = worker.named(PROJECT_IAM, "-worker-token-refresher-cluster-viewer")
    assert worker.api["ready"] == [one(worker.plan, PROVIDER).urn, impersonate.urn, viewer.urn]


def test_the_api_admits_the_managers_addresses_as_single_addresses(worker: Worker) -> None:
    blocks = one(worker.plan, CLUSTER).inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"]
    cfg = gcp_config(worker.plan)
    configured = [
        {"cidrBlock": c, "displayName": f"authorized-{i}"}
        for i, c in enumerate(cfg.api_access.authorized_cidrs)
    ]
    assert blocks == [
        *configured,
        {"cidrBlock": "203.0.113.7/32", "displayName": "multikueue-manager-0"},
        {"cidrBlock": "203.0.113.8/32", "displayName": "multikueue-manager-1"},
    ]


def test_authorized_blocks_unchanged_without_managers_and_single_ipv4_addresses_only() -> None:
    assert cluster.authorized_blocks(["10.0.0.0/8"], []) == [
        {"cidr_block": "10.0.0.0/8", "display_name": "authorized-0"}
    ]
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
        cluster.authorized_blocks([], ["203.0.113.0/24"])
    with pytest.raises(ValueError, match="not IPv4"):
        cluster.authorized_blocks([], ["2001:db8::1"])


def test_subjects_condition_is_sorted_deduplicated_and_closed() -> None:
    assert federation.subjects_condition([REPLICATOR]) == f"assertion.sub == '{REPLICATOR}'"
    both = federation.subjects_condition([REPLICATOR, REFRESHER, REPLICATOR])
    assert both == federation.subjects_condition([REFRESHER, REPLICATOR])
    assert admitted(both) == {REFRESHER, REPLICATOR}
    with pytest.raises(ValueError, match="at least one subject"):
        federation.subjects_condition([])
    with pytest.raises(ValueError, match="not Kubernetes service-account subjects"):  # no closing quote
        federation.subjects_condition(["system:serviceaccount:ml:x' || true || '"])


def test_the_workloads_of_one_cloud_must_carry_one_issuer() -> None:
    with pytest.raises(ProgramFailedError, match="one cluster, one issuer"):
        on_mocks(stackfile.load(ROOT, "dev"), "dev", lambda: _program(issuer="https://oidc.example/other"))


def test_a_workload_trusted_after_the_condition_was_written_is_refused() -> None:
    def program() -> None:
        built = platform.GcpPlatform("dev-gcp", PlatformArgs(cfg=config.load()))
        built.federate(REPLICATOR_WORKLOAD)
        built._trusts["aws"]._condition(True)  # as the deferred Output does once the program returns
        with pytest.raises(RuntimeError, match="after the dev-gcp-federation-aws provider's condition"):
            built.admit_api(REFRESHER_WORKLOAD)

    on_mocks(stackfile.load(ROOT, "dev"), "dev", program)
