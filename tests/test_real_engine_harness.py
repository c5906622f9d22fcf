"""The real-engine tier's own pieces that need no binaries: when it skips, what the stand-ins read."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT
from tests.real_engine.binaries import missing
from tests.real_engine.build import BINARIES
from tests.real_engine.chart_standin import build_chart
from tests.real_engine.checks import mismatches
from tests.real_engine.operator_standin import flux_release

SCHEMAS = Path(os.environ.get("FLEET_SCHEMAS_DIR") or ROOT.parent / "shared" / "schemas").resolve()


def test_tier_names_every_binary_an_empty_folder_lacks(tmp_path: Path) -> None:
    assert missing(tmp_path) == [*(b.name for b in BINARIES), "manifest.json"]


def test_tier_runs_only_with_binaries_that_answer(tmp_path: Path) -> None:
    for binary in BINARIES:
        script = tmp_path / binary.name
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "manifest.json").write_text("{}")
    assert missing(tmp_path) == []
    (tmp_path / "etcd").write_text("#!/bin/sh\nexit 1\n")
    assert missing(tmp_path) == ["etcd"]


@pytest.mark.parametrize(
    ("requested", "folder"), [("2.7.x", "2.7.5"), ("2.8.3", "2.8.8"), ("v2.9.x", "2.9.4")]
)
def test_operator_standin_installs_the_newest_release_of_the_requested_line(
    requested: str, folder: str
) -> None:
    assert flux_release(SCHEMAS, requested).name == folder


def test_operator_standin_refuses_a_line_it_has_no_crds_for() -> None:
    with pytest.raises(LookupError, match=r"no Flux CRDs for 2\.6\.x"):
        flux_release(SCHEMAS, "2.6.x")


def test_standin_chart_carries_the_upstream_crds_and_values_schema(tmp_path: Path) -> None:
    chart = build_chart(SCHEMAS, tmp_path)
    assert chart.name == "flux-operator", "the policy pack finds the release by this name"
    assert (chart / "values.schema.json").read_bytes() == (
        SCHEMAS / "charts" / "flux-operator" / "values.schema.json"
    ).read_bytes()
    crds = sorted(p.name for p in (chart / "crds").iterdir())
    assert "fluxcd.controlplane.io_fluxinstances.yaml" in crds
    assert "stand-in" in (chart / "Chart.yaml").read_text().lower()


def test_declared_fields_missing_or_different_on_the_server_are_reported() -> None:
    declared = {"metadata": {"name": "a", "labels": {"x": "1"}}, "spec": {"list": [1, 2]}}
    live: dict[str, Any] = {
        "metadata": {"name": "a", "labels": {"x": "1", "y": "2"}, "uid": "u"},
        "spec": {"list": [1, 2]},
    }
    assert list(mismatches(declared, live)) == []
    live["metadata"]["labels"] = {"y": "2"}
    live["spec"]["list"] = [1]
    assert list(mismatches(declared, live)) == [
        ".metadata.labels.x: missing on the server",
        ".spec.list: declared [1, 2], live holds [1]",
    ]
