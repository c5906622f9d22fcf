"""The benchmark keeps working: its floor matches the program, and it runs end to end at 2 tenants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import floor, workloads
from fleet.tools.offline import mock
from tests.helpers import ROOT, stack_run


@pytest.mark.parametrize("stack", ["staging", "prod-eu"])
def test_benchmarks_floor_registers_what_the_program_registers(stack: str) -> None:
    program = stack_run(stack)
    replayed = mock.run(floor.program(floor.plan_of(program)), config={}, stack_name=stack)

    def shape(r: mock.Registration) -> tuple[object, ...]:
        return (r.type, r.urn, r.parent, r.protect, r.provider, r.custom, r.inputs)

    # Registrations arrive as their parents resolve, so only the set is comparable, not the order.
    assert sorted(map(shape, replayed.resources), key=str) == sorted(
        map(shape, program.resources), key=str
    )
    assert len(replayed.resources) == len(program.resources)
    # The floor declares no dependencies: the program's are part of its own cost.
    assert all(not r.dependencies for r in replayed.resources)


def test_benchmarks_workload_generates_tenants_and_a_component_chain(tmp_path: Path) -> None:
    workload = workloads.by_name("t3xc3")
    workloads.prepare(workload, ROOT, tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())["config"]
    assert json.loads(config["d1-fleet:tenants"]) == ["tenant-0000", "tenant-0001", "tenant-0002"]
    assert json.loads(config["d1-fleet:platformComponents"]) == [
        "component-0000",
        "component-0001: component-0000",
        "component-0002: component-0001",
    ]


def test_benchmarks_run_at_the_smallest_size(tmp_path: Path) -> None:
    out = tmp_path / "results"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--workloads",
            "t2",
            "--pairs",
            "1",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
        text=True,
    )
    results = json.loads(out.with_suffix(".json").read_text())
    (summary,) = results["summaries"]
    assert summary["workload"] == "t2"
    assert summary["resources"] == summary["floor_resources"] > 40
    assert {r["kind"] for r in results["runs"]} == {
        "program",
        "floor",
        "program-gc-default",
        "render",
        "check",
    }
    assert summary["render_s"] is not None
    assert summary["check_s"] is not None
    assert summary["pulumi_github_loaded"] is False
    assert f"| 2 tenants | {summary['resources']} |" in out.with_suffix(".md").read_text()
