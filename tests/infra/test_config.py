"""Stack-config validation: every bad input is refused with `key: got VALUE; expected ...`, all at once."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra import config
from infra.catalog import CLOUDS
from infra.config.aws import AwsConfig
from infra.config.gcp import GcpConfig
from plan import stackfile
from plan.runner import ProgramFailedError
from tests.plans import DELETE, ROOT, merged, plan_with, stack_values

POOL = "gpu-platform:gpuPools"


def parse_with(overrides: dict[str, Any], base: str = "dev") -> config.StackConfig:
    files = stackfile.load(ROOT, f"{base}-test", overrides=merged(stack_values(base), overrides))
    return config.parse(config.read_raw(files.config.get), stack=base)


def problems_of(overrides: dict[str, Any], base: str = "dev") -> list[str]:
    with pytest.raises(config.ConfigError) as caught:
        parse_with(overrides, base)
    return caught.value.problems


def with_pool(**changes: Any) -> dict[str, Any]:
    pool = {**stack_values("dev")[POOL][0], **changes}
    return {POOL: [pool]}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_are_valid(stack: str) -> None:
    cfg = parse_with({}, stack)
    assert cfg.clouds == ("aws", "gcp", "azure")
    assert cfg.environment == stack


BAD_INPUTS = [
    pytest.param(
        {"gpu-platform:clouds": ["aws", "ibm"]}, "gpu-platform:clouds[1]", '"ibm"', id="unknown-cloud"
    ),
    pytest.param(with_pool(gpu="v100"), f"{POOL}[0].gpu", '"v100"', id="unknown-gpu"),
    pytest.param({"aws:region": "us-east-9"}, "aws:region", '"us-east-9"', id="unknown-region"),
    pytest.param({"azure-native:location": "mars"}, "azure-native:location", '"mars"', id="unknown-location"),
    pytest.param(with_pool(gpu="l4"), f"{POOL}[0].gpu", '"l4"', id="gpu-not-on-azure"),
    pytest.param({"gcp:region": "us-west2"}, f"{POOL}[0].gpu", '"t4"', id="gpu-not-in-region"),
    pytest.param(with_pool(gpusPerNode=3), f"{POOL}[0].gpusPerNode", "3", id="no-machine-with-3-gpus"),
    pytest.param(with_pool(minNodes=3, maxNodes=1), f"{POOL}[0].minNodes", "3", id="min-above-max"),
    pytest.param(with_pool(minNodes=-1), f"{POOL}[0].minNodes", "-1", id="negative-count"),
    pytest.param(with_pool(maxNodes=0), f"{POOL}[0].maxNodes", "0", id="max-zero"),
    pytest.param(
        {"gpu-platform:aws": {"vpcCidr": "10.10.0.1/16"}},
        "gpu-platform:aws.vpcCidr",
        '"10.10.0.1/16"',
        id="cidr-host-bits",
    ),
    pytest.param(
        {"gpu-platform:aws": {"vpcCidr": "10.10.0.0/33"}},
        "gpu-platform:aws.vpcCidr",
        '"10.10.0.0/33"',
        id="cidr-bad-prefix",
    ),
    pytest.param(
        {"gpu-platform:azure": {"gpuSubnetCidr": "10.99.0.0/22"}},
        "gpu-platform:azure.gpuSubnetCidr",
        '"10.99.0.0/22"',
        id="subnet-outside-vnet",
    ),
    pytest.param(
        {"gpu-platform:gcp": {"network": {"subnetCidr": "10.10.0.0/20"}}},
        "gpu-platform:gcp.network.subnetCidr",
        '"10.10.0.0/20"',
        id="overlap-across-clouds",
    ),
    pytest.param(
        {"gpu-platform:aws": {"apiAccess": {"authorizedCidrs": ["0.0.0.0/0"]}}},
        "gpu-platform:aws.apiAccess.authorizedCidrs[0]",
        '"0.0.0.0/0"',
        id="api-open-to-world",
    ),
    pytest.param(
        {"gpu-platform:gcp": {"apiAccess": {"authorizedCidrs": []}}},
        "gpu-platform:gcp.apiAccess",
        '{"authorizedCidrs": []}',
        id="api-neither-private-nor-restricted",
    ),
    pytest.param(
        {"gpu-platform:aws": {"kubernetesVersion": "v1.33"}},
        "gpu-platform:aws.kubernetesVersion",
        '"v1.33"',
        id="bad-k8s-version",
    ),
    pytest.param(
        {"gpu-platform:aws": {"bucketName": "My_Bucket"}},
        "gpu-platform:aws.bucketName",
        '"My_Bucket"',
        id="bad-s3-name",
    ),
    pytest.param(
        {"gpu-platform:gcp": {"bucketName": "google-ml"}},
        "gpu-platform:gcp.bucketName",
        '"google-ml"',
        id="bad-gcs-name",
    ),
    pytest.param(
        {"gpu-platform:azure": {"storageAccountName": "gpu-platform"}},
        "gpu-platform:azure.storageAccountName",
        '"gpu-platform"',
        id="bad-storage-account",
    ),
    pytest.param(
        {"gpu-platform:azure": {"registryName": "acr"}},
        "gpu-platform:azure.registryName",
        '"acr"',
        id="bad-acr-name",
    ),
    pytest.param(
        {"gpu-platform:aws": {"registryName": "Trainer"}},
        "gpu-platform:aws.registryName",
        '"Trainer"',
        id="bad-ecr-name",
    ),
    pytest.param(with_pool(name="gpu-train"), f"{POOL}[0].name", '"gpu-train"', id="pool-name-breaks-aks"),
    pytest.param(
        {"gpu-platform:training": {"pool": "missing"}},
        "gpu-platform:training.pool",
        '"missing"',
        id="training-pool-unknown",
    ),
    pytest.param(
        {"gpu-platform:training": {"cloud": "ibm"}}, "gpu-platform:training.cloud", '"ibm"', id="unknown-home"
    ),
    pytest.param(
        {"gpu-platform:clouds": ["aws", "gcp"], "gpu-platform:training": {"cloud": "azure"}},
        "gpu-platform:training.cloud",
        '"azure"',
        id="home-not-enabled",
    ),
    pytest.param(
        {**with_pool(clouds=["aws"]), "gpu-platform:training": {"cloud": "gcp"}},
        "gpu-platform:training.pool",
        '"train"',
        id="training-pool-not-on-home",
    ),
    pytest.param(
        {"gpu-platform:aws": {"logRetentionDays": 45}},
        "gpu-platform:aws.logRetentionDays",
        "45",
        id="cloudwatch-retention",
    ),
    pytest.param(
        {"gpu-platform:aws": {"natGateway": "single"}},
        "gpu-platform:aws.natGateway",
        '"single"',
        id="misspelled-key",
    ),
    pytest.param(
        {"gpu-platform:aws": {"deployerPrincipalArn": DELETE}},
        "gpu-platform:aws.deployerPrincipalArn",
        "nothing",
        id="missing-required",
    ),
    pytest.param(
        {"gpu-platform:waivers": [{"control": "ST-12", "clouds": ["azure"], "reason": "cheap"}]},
        "gpu-platform:waivers[0].reason",
        '"cheap"',
        id="waiver-without-real-reason",
    ),
    pytest.param(
        {
            "gpu-platform:waivers": [
                {"control": "ST-21", "clouds": ["azure"], "reason": "a typo waives nothing at all"}
            ]
        },
        "gpu-platform:waivers[0].control",
        '"ST-21"',
        id="waiver-of-unknown-control",
    ),
    pytest.param(
        {"gpu-platform:azure": {"registryRetentionDays": 7}},
        "gpu-platform:azure.registryRetentionDays",
        "7",
        id="retention-on-a-registry-whose-rg03-is-waived",
    ),
]


@pytest.mark.parametrize(("overrides", "key", "got"), BAD_INPUTS)
def test_bad_input_names_key_value_and_what_is_allowed(overrides: dict[str, Any], key: str, got: str) -> None:
    problems = problems_of(overrides)
    matching = [p for p in problems if p.startswith(f"{key}: got {got}; expected ")]
    assert matching, problems
    assert len(matching[0].split("; expected ", 1)[1]) > 3


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        {
            "aws:region": "us-east-9",
            "gpu-platform:azure": {"storageAccountName": "Bad"},
            "gpu-platform:gcp": {"kubernetesVersion": "latest"},
            **with_pool(minNodes=4, maxNodes=2),
        }
    )
    keys = {p.split(":  ")[0].split(": got")[0] for p in problems}
    assert keys == {
        "aws:region",
        "gpu-platform:azure.storageAccountName",
        "gpu-platform:gcp.kubernetesVersion",
        f"{POOL}[0].minNodes",
    }


def test_disabled_cloud_section_is_not_validated() -> None:
    cfg = parse_with(
        {
            "gpu-platform:clouds": ["aws"],
            "gpu-platform:gcp": {"bucketName": "Bad!"},
            "gpu-platform:waivers": [],
        }
    )
    assert cfg.gcp is None
    assert cfg.aws is not None


def test_every_cloud_has_a_section_that_states_its_facts() -> None:
    assert set(config.SECTIONS) == set(CLOUDS)
    for cloud, section in config.SECTIONS.items():
        assert cloud == section.CLOUD
        assert section.region_key() in config.PROVIDER_KEYS.values()
        assert section.REGION_FIELD in section.model_fields


def test_enabled_cloud_needs_every_required_key_of_its_section() -> None:
    problems = problems_of({"gpu-platform:azure": DELETE})
    assert (
        "gpu-platform:azure.resourceGroupName: got nothing; expected a value (this key is required)"
        in problems
    )
    assert "gpu-platform:azure.keyVaultName: got nothing; expected a value (this key is required)" in problems


def test_config_error_is_a_pulumi_run_error_listing_each_problem() -> None:
    with pytest.raises(config.ConfigError) as caught:
        parse_with(with_pool(gpu="v100"))
    assert isinstance(caught.value, pulumi.RunError)
    assert str(caught.value).startswith("invalid config for stack 'dev' (1 problem(s)):\n  - ")


def test_per_cloud_gpu_map_picks_each_clouds_machine() -> None:
    cfg = parse_with(with_pool(gpu={"aws": "a10g", "gcp": "l4", "azure": "t4"}))
    pool = cfg.gpu_pools[0]
    assert [pool.gpu_for(c) for c in ("aws", "gcp", "azure")] == ["a10g", "l4", "t4"]


def test_invalid_config_registers_no_resource() -> None:
    with pytest.raises(ProgramFailedError) as caught:
        plan_with(with_pool(gpu="v100"))
    assert isinstance(caught.value.cause, config.ConfigError)
    assert caught.value.registered == []


def test_a_platform_asking_for_a_section_its_stack_lacks_is_told_which() -> None:
    cfg = parse_with({"gpu-platform:clouds": ["aws"], "gpu-platform:waivers": []})
    assert cfg.section(AwsConfig) is cfg.aws
    with pytest.raises(ValueError, match="needs the gpu-platform:gcp section"):
        cfg.section(GcpConfig)


def test_the_home_cloud_is_the_first_enabled_one_unless_named() -> None:
    assert parse_with({"gpu-platform:clouds": ["gcp", "aws", "azure"]}).training_cloud == "gcp"
    assert parse_with({"gpu-platform:training": {"cloud": "azure"}}).training_cloud == "azure"
    assert parse_with({}, "prod").training_cloud == "gcp"
