"""Fixtures: each (stack, cloud) of the plans as a `Cluster`, and the workloads against contract doubles.

`cluster` is parametrised over the clouds the plans hold, so a cloud merged later is covered by every
test here without a change; `double` over the contract doubles; `any_cluster` over both.

Only a stack's home cloud (`training.cloud`) trains: `home_cluster` is each plan's home cloud and the
doubles (which are built as home clouds); `planned_home` the plans' home clouds alone, which also run the
replicator (the doubles are built alone, without other clouds to copy to); `serving_only` every other
cloud of the plans, which serves what the home cloud trains.
"""

from __future__ import annotations

import functools

import pytest

from infra import config
from plan import stackfile
from tests.infra.workloads import doubles
from tests.infra.workloads.helpers import Cluster, clusters
from tests.plans import ROOT, planned

STACKS = ("dev", "prod")


@functools.cache
def stack_config(stack: str) -> config.StackConfig:
    files = stackfile.load(ROOT, stack)
    return config.parse(config.read_raw(files.config.get), stack=stack)


@functools.cache
def planned_clusters() -> dict[str, Cluster]:
    found = {}
    for stack in STACKS:
        for c in clusters(planned(stack), stack_config(stack)):
            found[f"{stack}-{c.cloud}"] = c
    return found


def planned_where(trains: bool) -> dict[str, Cluster]:
    return {key: c for key, c in planned_clusters().items() if c.trains == trains}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cluster" in metafunc.fixturenames:
        found = planned_clusters()
        metafunc.parametrize("cluster", list(found.values()), ids=list(found), scope="session")
    for name, trains in (("planned_home", True), ("serving_only", False)):
        if name in metafunc.fixturenames:
            found = planned_where(trains)
            metafunc.parametrize(name, list(found.values()), ids=list(found), scope="session")
    if "double" in metafunc.fixturenames:
        metafunc.parametrize("double", list(doubles.DOUBLES), indirect=True, scope="session")
    if "any_cluster" in metafunc.fixturenames:
        keys = [*planned_clusters(), *doubles.DOUBLES]
        metafunc.parametrize("any_cluster", keys, indirect=True, scope="session")
    if "home_cluster" in metafunc.fixturenames:
        keys = [*planned_where(trains=True), *doubles.DOUBLES]
        metafunc.parametrize("home_cluster", keys, indirect=True, scope="session")


@pytest.fixture(scope="session")
def double(request: pytest.FixtureRequest) -> doubles.Built:
    return doubles.built(request.param)


def by_key(key: str) -> Cluster:
    return doubles.built(key).cluster if key in doubles.DOUBLES else planned_clusters()[key]


@pytest.fixture(scope="session")
def any_cluster(request: pytest.FixtureRequest) -> Cluster:
    return by_key(request.param)


@pytest.fixture(scope="session")
def home_cluster(request: pytest.FixtureRequest) -> Cluster:
    return by_key(request.param)
