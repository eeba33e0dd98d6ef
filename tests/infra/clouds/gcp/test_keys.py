"""Customer-managed keys (CP-05): one per use, rotated within the configured period, each usable by exactly
the Google service agent that needs it."""

from __future__ import annotations

import pytest

from plan.runner import Plan
from tests.infra.clouds.gcp.helpers import CRYPTO_KEY, KEY_GRANT, gcp, gcp_config, key, named, stack_config

AGENTS = {
    "gke": "container-engine-robot",
    "gcs": "gs-project-accounts",
    "registry": "gcp-sa-artifactregistry",
    "disk": "compute-system",
}


def test_cp05_rotation_within_the_configured_days(stack_plan: Plan) -> None:
    days = gcp_config(stack_plan).key_rotation_days
    assert days <= 90
    keys = gcp(stack_plan, CRYPTO_KEY)
    assert len(keys) == len(AGENTS)
    for k in keys:
        assert k.inputs["rotationPeriod"] == f"{days * 86400}s"
        assert k.inputs["purpose"] == "ENCRYPT_DECRYPT"


@pytest.mark.parametrize(("use", "agent"), AGENTS.items())
def test_each_agent_can_use_only_its_key(stack_plan: Plan, use: str, agent: str) -> None:
    grant = named(stack_plan, KEY_GRANT, f"-keys-{use}-agent")
    assert grant.inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant.inputs["member"].startswith("serviceAccount:service-")
    assert grant.inputs["member"].endswith(f"@{agent}.iam.gserviceaccount.com")
    assert key(stack_plan, use).urn in grant.depends_on
    members = [g.inputs["member"] for g in gcp(stack_plan, KEY_GRANT)]
    assert members.count(grant.inputs["member"]) == 1


def test_keys_and_ring_protected_in_prod(stack_plan: Plan) -> None:
    protect = stack_config(stack_plan).protect
    for resource in [*gcp(stack_plan, CRYPTO_KEY), *gcp(stack_plan, "gcp:kms/keyRing:KeyRing")]:
        assert resource.protect is protect
    (ring,) = gcp(stack_plan, "gcp:kms/keyRing:KeyRing")
    assert ring.inputs["location"] == gcp_config(stack_plan).region
