"""GCP as the home cloud, pulled from by the workers: the token refresher's own Google service account,
which only its Kubernetes service account may act as, reads the trainer's repository and nothing else. Read
from the contract program, which grants the refresher pulls on every cloud."""

from __future__ import annotations

from typing import Any

import pytest

from infra.clouds.gcp.identity import GSA_ANNOTATION
from plan.runner import Plan, PlannedResource
from tests.infra.clouds.gcp.helpers import (
    ACCOUNT,
    BUCKET_IAM,
    CLUSTER,
    PROJECT_IAM,
    REPOSITORY,
    REPOSITORY_IAM,
    SA_IAM,
    gcp,
    named,
    one,
)
from tests.plans import contract_plan

PULLER = "-gcp-pull-kueue-system-worker-token-refresher"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return contract_plan("dev")


def email(account: PlannedResource) -> str:
    return f"{account.inputs['accountId']}@{account.inputs['project']}.iam.gserviceaccount.com"


def pull(plan: Plan) -> dict[str, Any]:
    found: dict[str, Any] = plan.outputs["contracts"]["gcp"]["pull"]
    return found


def test_only_the_refreshers_service_account_may_act_as_the_puller(plan: Plan) -> None:
    """And the account itself may mint its own tokens (a fresh hour, when the metadata server's is
    cached), which no one else may."""
    account = named(plan, ACCOUNT, f"{PULLER}-account")
    project = account.inputs["project"]
    on_it = [g for g in gcp(plan, SA_IAM) if g.inputs["serviceAccountId"].endswith(email(account))]
    renew, trust = sorted(on_it, key=lambda g: g.inputs["role"])
    assert trust.inputs == {
        "serviceAccountId": f"projects/{project}/serviceAccounts/{email(account)}",
        "role": "roles/iam.workloadIdentityUser",
        "member": f"serviceAccount:{project}.svc.id.goog[kueue-system/worker-token-refresher]",
    }
    assert one(plan, CLUSTER).urn in trust.depends_on  # the identity pool exists once the cluster does
    assert renew.inputs == {
        "serviceAccountId": f"projects/{project}/serviceAccounts/{email(account)}",
        "role": "roles/iam.serviceAccountTokenCreator",
        "member": f"serviceAccount:{email(account)}",
    }


def test_the_puller_reads_the_trainers_repository_and_nothing_else(plan: Plan) -> None:
    member = f"serviceAccount:{email(named(plan, ACCOUNT, f'{PULLER}-account'))}"
    repository = one(plan, REPOSITORY)
    (grant,) = [g for g in gcp(plan, REPOSITORY_IAM) if g.inputs["member"] == member]
    assert grant.inputs == {
        "project": repository.inputs["project"],
        "location": repository.inputs["location"],
        "repository": repository.inputs["repositoryId"],
        "role": "roles/artifactregistry.reader",
        "member": member,
    }
    assert repository.urn in grant.depends_on
    assert not [g for g in gcp(plan, PROJECT_IAM) + gcp(plan, BUCKET_IAM) if g.inputs["member"] == member]


def test_the_refresher_mints_as_the_puller_once_trust_and_grant_exist(plan: Plan) -> None:
    account = email(named(plan, ACCOUNT, f"{PULLER}-account"))
    found, registry = pull(plan), plan.outputs["contracts"]["gcp"]["registry"]
    assert found["token"] == {"serviceAccount": account}
    assert found["annotations"] == {GSA_ANNOTATION: account}
    assert found["host"] == f"{one(plan, REPOSITORY).inputs['location']}-docker.pkg.dev"
    assert registry["repository"].startswith(f"{found['host']}/")
    assert found["ready"] == [
        named(plan, SA_IAM, f"{PULLER}-wi").urn,
        named(plan, SA_IAM, f"{PULLER}-self-token").urn,
        named(plan, REPOSITORY_IAM, PULLER + "-reader").urn,
    ]
