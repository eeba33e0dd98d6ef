"""The dependency graph: clusters per cloud and component, reduced edges, the critical path in red, and
the three output formats (svg and png only where Graphviz's `dot` is installed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from plan import critical_path, graph
from plan.__main__ import EXIT_INVALID_CONFIG, EXIT_OK, main
from plan.runner import Plan
from tests.plans import ROOT, planned


def test_dot_source_clusters_every_resource_by_cloud_and_component() -> None:
    plan = planned("prod")
    source = graph.build(plan).source
    assert "subgraph cluster_gcp {" in source
    assert 'label="Network prod-gcp-network"' in source
    assert 'label="GpuCluster prod-gcp-gke"' in source
    for res in plan.resources:
        assert (f"{res.name}\\n" in source) == res.custom, res.name


def test_edges_are_reduced_and_the_critical_path_is_red() -> None:
    plan = planned("prod")
    by_name = {r.name: r.urn for r in plan.resources}
    edges = graph.reduced(graph._edges(plan), set())
    compute, vpc, subnet = (
        by_name[f"prod-gcp-{n}"] for n in ("services-compute", "network-vpc", "network-subnet")
    )
    assert (compute, vpc) in edges
    assert (vpc, subnet) in edges
    assert (compute, subnet) not in edges  # implied by compute -> vpc -> subnet
    critical = graph.critical_edges(critical_path.analyse(plan).total.urns)
    drawn = critical & graph._edges(plan)  # the path also steps through the GCP provider, never drawn
    assert len(drawn) >= 4
    assert graph.build(plan, critical).source.count("color=red") == len(drawn)


def test_each_kubernetes_provider_is_drawn_with_what_it_waits_for() -> None:
    plan = planned("dev")
    providers = plan.of_type("pulumi:providers:kubernetes")
    assert {p.cloud for p in providers} == {"aws", "gcp", "azure"}
    edges = graph._edges(plan)
    for provider in providers:
        assert {b for a, b in edges if a in provider.depends_on} >= {provider.urn}


def test_dot_needs_no_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    out = tmp_path / "g.dot"
    graph.write(graph.build(planned("dev")), out)
    assert out.read_text().startswith("digraph dev {")


def test_svg_without_dot_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(graph.GraphError, match="apt-get install graphviz"):
        graph.write(graph.build(planned("dev")), tmp_path / "g.svg")


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(graph.GraphError, match=r"\.dot, \.svg, \.png"):
        graph.write(graph.build(Plan("p", "s", [], {}, [])), tmp_path / "g.pdf")


def test_svg_and_png_render(tmp_path: Path) -> None:
    dot = graph.build(planned("prod"))
    graph.write(dot, tmp_path / "g.svg")
    graph.write(dot, tmp_path / "g.png")
    assert "<svg" in (tmp_path / "g.svg").read_text()
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")


def test_cli_estimates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, dot = tmp_path / "plan.json", tmp_path / "graph.dot"
    argv = ["--stack", "dev", "--cwd", str(ROOT), "--json", str(out), "--cost", "--critical-path"]
    assert main([*argv, "--graph", str(dot)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "Monthly totals: dev" in printed
    assert "ratio:" in printed
    doc = json.loads(out.read_text())
    assert set(doc["cost"]) == {"currency", "idleMonthly", "busyMonthly", "clouds"}
    assert doc["criticalPath"]["ratio"] <= 1.1
    assert dot.read_text().startswith("digraph")


def test_cli_refuses_an_unwritable_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--stack", "dev", "--cwd", str(ROOT), "--graph", str(tmp_path / "g.gif")]
    assert main(argv) == EXIT_INVALID_CONFIG
    assert "expected a file ending in" in capsys.readouterr().err
