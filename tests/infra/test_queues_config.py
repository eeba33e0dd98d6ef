"""The `queues` section: Kueue team queues from the GPU pools, their defaults, and each config error, which
names its key, the bad value and what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from infra.config.queues import Team
from infra.config.types import quantity_value
from tests.infra.test_config import parse_with, problems_of
from tests.plans import DELETE, stack_values

Q = "gpu-platform:queues"
T = f"{Q}.teams[0]"
D = f"{Q}.dispatch.workers"
POOL = "gpu-platform:gpuPools"
AWS_ONLY = {"gpu-platform:clouds": ["aws"], "gpu-platform:waivers": []}


def team(**fields: Any) -> dict[str, Any]:
    """dev with one team `ml` on its spot pool `train`, and `fields` changed."""
    return {Q: {"teams": [{"name": "ml", "pools": ["train"], **fields}]}}


def quotas(cfg: Any, cloud: str) -> list[tuple[str, int, str, str]]:
    return [(f.pool.name, f.gpus, f.cpu, f.memory) for q in cfg.team_queues(cloud) for f in q.flavors]


def test_the_stack_files_queue_training_spot_first() -> None:
    dev, prod = parse_with({}, "dev"), parse_with({}, "prod")
    assert dev.queues.cohort == prod.queues.cohort == "gpu-platform"
    assert dev.teams() == (Team(name="ml", pools=("train",)),)
    assert quotas(dev, "gcp") == [("train", 2, "8", "30Gi")]
    assert prod.teams() == (Team(name="ml", pools=("trainspot", "train")),)
    assert [f.pool.name for f in prod.training_team().flavors] == ["trainspot", "train"]


def test_prod_dispatches_from_its_home_cloud_to_the_other_two() -> None:
    assert parse_with({}, "dev").queues.dispatch is None
    prod = parse_with({}, "prod")
    assert prod.queues.dispatch is not None
    assert (prod.training_cloud, prod.queues.dispatch.workers) == ("gcp", ("aws", "azure"))


def test_prods_spot_pool_is_the_training_pool_on_spot() -> None:
    pools = {p["name"]: p for p in stack_values("prod")[POOL]}
    spot, train = pools["trainspot"], pools["train"]
    assert {**spot, "name": "train", "spot": False} == train
    assert (spot["spot"], spot["minNodes"], spot["maxNodes"], spot["diskGb"]) == (True, 0, 4, 300)


def test_without_queues_one_team_named_after_the_namespace_gets_every_batch_pool_spot_first() -> None:
    """Every GPU pool but serving's: queued Jobs would take the model servers' nodes."""
    cfg = parse_with({Q: DELETE, "gpu-platform:namespace": "research"}, "prod")
    (queue,) = cfg.team_queues("aws")
    assert (queue.name, queue.namespace, queue.cohort, queue.weight) == (
        "research",
        "research",
        "gpu-platform",
        1,
    )
    # The whole of each pool on that cloud: AWS's g5.xlarge, Azure's A100 size.
    assert quotas(cfg, "aws") == [("trainspot", 4, "16", "64Gi"), ("train", 4, "16", "64Gi")]
    assert [f[2:] for f in quotas(cfg, "azure")] == [("96", "880Gi"), ("96", "880Gi")]
    assert cfg.serving.pool == "serve"
    assert cfg.training_team() == cfg.team_queues("gcp")[0]


def test_stated_quotas_apply_in_each_pool_and_the_first_team_listing_the_training_pool_trains() -> None:
    teams = [
        {"name": "serving", "pools": ["serve"], "weight": 2},
        {"name": "ml", "pools": ["trainspot", "train"], "gpus": 2, "cpu": "8", "memory": "32Gi"},
        {"name": "extra", "pools": ["train"]},
    ]
    cfg = parse_with({Q: {"cohort": "research", "teams": teams}}, "prod")
    ml = cfg.training_team()
    assert (ml.name, ml.namespace, ml.cohort) == ("ml", "ml", "research")
    assert [(f.pool.name, f.gpus, f.cpu, f.memory) for f in ml.flavors] == [
        ("trainspot", 2, "8", "32Gi"),
        ("train", 2, "8", "32Gi"),
    ]
    assert [(q.name, q.weight) for q in cfg.team_queues("gcp")] == [("serving", 2), ("ml", 1), ("extra", 1)]


def test_a_cluster_queue_has_flavors_only_for_the_pools_on_its_cloud() -> None:
    pools = [{**p, "clouds": ["gcp"]} if p["name"] == "trainspot" else p for p in stack_values("prod")[POOL]]
    cfg = parse_with({POOL: pools}, "prod")
    assert [f[0] for f in quotas(cfg, "gcp")] == ["trainspot", "train"]
    assert [f[0] for f in quotas(cfg, "aws")] == ["train"]


def test_cpu_and_memory_are_bounded_by_the_smallest_machine_of_the_enabled_clouds() -> None:
    # Azure alone: Standard_NC4as_T4_v3 has 28 GiB, where GCP's n1-standard-4 has 15.
    azure_only = {"gpu-platform:clouds": ["azure"], "gpu-platform:waivers": []}
    assert parse_with({**azure_only, **team(memory="56Gi")}).teams()[0].memory == "56Gi"
    assert problems_of({**azure_only, **team(memory="57Gi")}) == [
        f'{T}.memory: got "57Gi"; expected at most 56Gi: the quota applies in each of the team\'s pools, and '
        "train holds at most 2 nodes x 28Gi (Standard_NC4as_T4_v3 on azure, the smallest machine of the "
        "clouds the pool is on)"
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("16", 16),
        ("64Gi", 64 * 2**30),
        ("1.5G", Decimal("1.5e9")),
        ("2e3", 2000),
        ("1E", 10**18),
        ("250u", Decimal("0.00025")),
    ],
)
def test_quantities_read_as_kubernetes_reads_them(text: str, value: Decimal) -> None:
    assert quantity_value(text) == value


@pytest.mark.parametrize("text", ["-1", "1.5.2", "Gi", "1gi", "1 Gi", "lots", "1e"])
def test_a_malformed_quantity_is_refused(text: str) -> None:
    expected = "a Kubernetes quantity like 500m, 16, 64Gi, 1.5G or 2e3"
    assert problems_of(team(cpu=text)) == [f'{T}.cpu: got "{text}"; expected {expected}']


def _spot_then_big() -> dict[str, Any]:
    """aws alone, so that a 4-GPU T4 machine exists: a 1-GPU spot pool before the 4-GPU training pool."""
    pools = [
        {"name": "small", "gpu": "t4", "minNodes": 0, "maxNodes": 2, "spot": True},
        {"name": "big", "gpu": "t4", "gpusPerNode": 4, "minNodes": 0, "maxNodes": 1},
    ]
    return {
        **AWS_ONLY,
        POOL: pools,
        "gpu-platform:training": {"pool": "big", "gpusPerWorker": 4},
        Q: {"teams": [{"name": "ml", "pools": ["small", "big"]}]},
    }


QUOTA_SPLIT = "the quota applies in each of the team's pools, and train holds at most 2 nodes x"
WHOLE = "the Job is admitted as a whole or never"
ERRORS = [
    pytest.param(
        team(pools=["train", "gpu"]),
        "dev",
        [f'{T}.pools[1]: got "gpu"; expected a GPU pool (train)'],
        id="unknown-pool",
    ),
    pytest.param(
        team(pools=["train", "train"]),
        "dev",
        [f'{T}.pools[1]: got "train"; expected each pool at most once'],
        id="twice",
    ),
    pytest.param(
        {Q: {"teams": [{"name": "ml", "pools": ["train", "trainspot"]}]}},
        "prod",
        [
            f'{T}.pools: got ["train", "trainspot"]; expected spot pools before on-demand ones '
            "(trainspot before train): Kueue tries a team's pools in order, so a job runs on spot when it "
            "can and falls back to on-demand"
        ],
        id="on-demand-before-spot",
    ),
    pytest.param(
        team(gpus=3), "dev", [f"{T}.gpus: got 3; expected at most 2: {QUOTA_SPLIT} 1 GPUs"], id="gpus"
    ),
    pytest.param(
        team(cpu="9"),
        "dev",
        [
            f'{T}.cpu: got "9"; expected at most 8: {QUOTA_SPLIT} 4 vCPUs (g4dn.xlarge on aws, the '
            "smallest machine of the clouds the pool is on)"
        ],
        id="cpu",
    ),
    pytest.param(
        team(memory="31Gi"),
        "dev",
        [
            f'{T}.memory: got "31Gi"; expected at most 30Gi: {QUOTA_SPLIT} 15Gi (n1-standard-4 on gcp, the '
            "smallest machine of the clouds the pool is on)"
        ],
        id="memory",
    ),
    pytest.param(
        {Q: {"teams": [{"name": "ml"}, {"name": "ml", "pools": ["train"]}]}},
        "dev",
        [
            f'{Q}.teams[1].name: got "ml"; expected a name no other team has (teams[0] has it): it '
            "names a ClusterQueue"
        ],
        id="duplicate-name",
    ),
    pytest.param(
        team(namespace="research"),
        "dev",
        [
            f'{T}.namespace: got "research"; expected the stack\'s namespace (gpu-platform:namespace): '
            "only ml exists in this stack"
        ],
        id="other-namespace",
    ),
    pytest.param(
        {Q: {"teams": [{"name": "ml", "pools": ["trainspot"]}]}},
        "prod",
        [
            'gpu-platform:training.pool: got "train"; expected a pool a team lists (ml: trainspot): the '
            "training Job waits in a team's queue, and no queue admits it into train"
        ],
        id="training-pool-in-no-queue",
    ),
    pytest.param(
        {**team(gpus=1), "gpu-platform:training": {"workers": 2}},
        "dev",
        [
            "gpu-platform:training.workers: got 2; expected workers x gpusPerWorker (2 x 1) within team "
            f"ml's GPU quota, {T}.gpus (1): {WHOLE}"
        ],
        id="gang-above-gpu-quota",
    ),
    pytest.param(
        {Q: DELETE, "gpu-platform:training": {"workers": 3}},
        "dev",
        [
            "gpu-platform:training.workers: got 3; expected workers x gpusPerWorker (3 x 1) within team "
            f"ml's GPU quota, {T}.gpus (unset: all 2 of pool train): {WHOLE}"
        ],
        id="gang-above-the-default-quota",
    ),
    pytest.param(
        {**team(cpu="3", memory="15Gi"), "gpu-platform:training": {"workers": 2}},
        "dev",
        [
            'gpu-platform:training.cpu: got "2"; expected workers x cpu (2 x 2) within team ml\'s CPU quota, '
            f"{T}.cpu (3): {WHOLE}",
            'gpu-platform:training.memory: got "8Gi"; expected workers x memory (2 x 8Gi) within team '
            f"ml's memory quota, {T}.memory (15Gi): {WHOLE}",
        ],
        id="gang-above-cpu-and-memory-quota",
    ),
    pytest.param(
        _spot_then_big(),
        "dev",
        [
            f'{T}.pools[0]: got "small"; expected pools whose nodes hold a worker\'s 4 GPUs '
            "(gpu-platform:training.gpusPerWorker): the Job may be admitted into any of team ml's pools, "
            "and small has 1 per node"
        ],
        id="worker-larger-than-a-pools-node",
    ),
    pytest.param(
        {
            Q: {
                "cohort": "GPU",
                "dispatch": {"workers": []},
                "dispatcher": {},
                "teams": [{"name": "ml", "gpus": -1, "weight": 0, "pools": []}],
            }
        },
        "dev",
        [
            f'{Q}.cohort: got "GPU"; expected a DNS label of up to 32 characters',
            f"{T}.pools: got []; expected at least one GPU pool, or no `pools` for every pool",
            f"{T}.gpus: got -1; expected greater than or equal to 0",
            f"{T}.weight: got 0; expected greater than or equal to 1",
            f"{Q}.dispatch.workers: got []; expected at least one worker cloud",
            f"{Q}.dispatcher: got {{}}; expected no such key (a misspelled or unknown key)",
        ],
        id="structure",
    ),
    pytest.param(
        {Q: {"teams": []}},
        "dev",
        [f"{Q}.teams: got []; expected at least one team, or no `teams` for the default one"],
        id="no-teams",
    ),
    pytest.param(
        {**AWS_ONLY, Q: {"dispatch": {"workers": ["gcp"]}}},
        "dev",
        [f'{D}[0]: got "gcp"; expected an enabled cloud (aws)'],
        id="worker-not-enabled",
    ),
    pytest.param(
        {Q: {"dispatch": {"workers": ["aws", "gcp", "aws"]}}},
        "prod",
        [
            f'{D}[1]: got "gcp"; expected a cloud other than the home cloud gcp '
            "(gpu-platform:training.cloud), which is MultiKueue's manager and cannot be its own worker",
            f'{D}[2]: got "aws"; expected each cloud at most once',
        ],
        id="manager-as-worker-and-twice",
    ),
    pytest.param(
        {
            Q: {"dispatch": {"workers": ["aws"]}},
            "gpu-platform:aws": {"apiAccess": {"privateEndpoint": True, "authorizedCidrs": ["10.0.0.0/8"]}},
        },
        "prod",
        [
            f'{D}[0]: got "aws"; expected a worker whose API server is public behind authorizedCidrs: the '
            "manager calls it from another cloud, which a private endpoint "
            "(gpu-platform:aws.apiAccess.privateEndpoint) refuses"
        ],
        id="private-worker",
    ),
    pytest.param(
        {Q: {"dispatch": {"workers": ["aws", "gcp"]}}, "gpu-platform:training": {"cloud": "azure"}},
        "prod",
        [
            'gpu-platform:queues.dispatch: got "with training.cloud azure"; expected a home cloud '
            "(gpu-platform:training.cloud) whose registry the workers' nodes can pull from: azure's "
            "registry admits only its own cluster's addresses (RG-03), so the Jobs dispatched to other "
            "clouds could not pull the training image"
        ],
        id="azure-manager-registry-firewalled",
    ),
    pytest.param(
        {"gpu-platform:training": {"image": f"ci.example/trainer@sha256:{'a' * 64}"}},
        "prod",
        [
            f'gpu-platform:training.image: got "ci.example/trainer@sha256:{"a" * 64}"; expected unset with '
            "gpu-platform:queues.dispatch: the workers pull the image the stack builds into the home "
            "registry, with the credential the refresher keeps there, and admit that image only"
        ],
        id="prebuilt-image-with-dispatch",
    ),
]


@pytest.mark.parametrize(("overrides", "base", "expected"), ERRORS)
def test_bad_queues_are_config_errors_naming_the_key(
    overrides: dict[str, Any], base: str, expected: list[str]
) -> None:
    assert problems_of(overrides, base) == expected
