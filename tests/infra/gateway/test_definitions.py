"""The gateway's CRD component declares every vendored CRD, as the file holds it, with the given labels."""

from __future__ import annotations

import functools

from infra.gateway import crds, definitions
from plan import runner, stackfile
from tests.infra.gateway.objects import CRD
from tests.plans import ROOT

LABELS = {"project": "gpu-platform", "stack": "dev"}


@functools.cache
def declared() -> list[runner.PlannedResource]:
    def program() -> None:
        definitions.GatewayCrds("gateway-crds", LABELS)

    done = runner.on_mocks(stackfile.load(ROOT, "dev"), "dev", program)
    return [r for r in done.resources if r.type == CRD]


def test_every_vendored_crd_is_declared_unchanged_but_for_labels() -> None:
    found = {r.inputs["metadata"]["name"]: r for r in declared()}
    assert sorted(found) == sorted(crd["metadata"]["name"] for crd in crds.every())
    assert len(found) == 24
    for crd in crds.every():
        res = found[crd["metadata"]["name"]]
        assert res.inputs["metadata"]["labels"] == {**crd["metadata"].get("labels", {}), **LABELS}
        assert res.inputs["spec"]["names"] == crd["spec"]["names"]
        assert not res.ignore_changes
        assert "conversion" not in crd["spec"] or crd["spec"]["conversion"]["strategy"] == "None"
