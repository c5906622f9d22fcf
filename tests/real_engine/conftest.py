"""Fixtures of the real-engine tier; every test here is skipped unless the tier's binaries are built.

`make real-engine-bins` builds them (Go 1.26 and the Go module proxy; see docs/real-engine.md) and
`make real-engine` runs this folder with FLEET_REAL_ENGINE_BIN pointing at them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.real_engine.binaries import missing
from tests.real_engine.chart_standin import build_chart
from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import Engine
from tests.real_engine.operator_standin import OperatorStandIn

HERE = Path(__file__).resolve().parent
HOW = "build them with `make real-engine-bins`, then run `make real-engine` (docs/real-engine.md)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the tier, saying why, when FLEET_REAL_ENGINE_BIN does not hold every binary."""
    ours = [item for item in items if HERE in Path(str(item.fspath)).parents]
    if not ours:
        return
    value = os.environ.get("FLEET_REAL_ENGINE_BIN", "")
    if not value:
        reason = f"real-engine tier: FLEET_REAL_ENGINE_BIN is not set; {HOW}"
    else:
        lacking = missing(Path(value))
        reason = f"real-engine tier: {value} lacks {', '.join(lacking)}; {HOW}" if lacking else ""
    for item in ours:
        item.add_marker(pytest.mark.real_engine)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def bin_dir() -> Path:
    return Path(os.environ["FLEET_REAL_ENGINE_BIN"])


@pytest.fixture(scope="session")
def schemas() -> Path:
    folder = os.environ.get("FLEET_SCHEMAS_DIR") or str(HERE.parents[2] / "shared" / "schemas")
    return Path(folder).resolve()


@pytest.fixture
def cluster(bin_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    manifest = json.loads((bin_dir / "manifest.json").read_text())
    plane = ControlPlane(bin_dir, tmp_path_factory.mktemp("plane"), Path(manifest["kwokStages"]))
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="module")
def chart(schemas: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in chart with the upstream CRDs and values schema copied in (data, not templates)."""
    return build_chart(schemas, tmp_path_factory.mktemp("chart"))


@pytest.fixture
def operator(cluster: ControlPlane, schemas: Path) -> Iterator[OperatorStandIn]:
    with OperatorStandIn(cluster.kube(), schemas) as standin:
        yield standin
    assert not standin.errors, standin.errors


@pytest.fixture
def engine(bin_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return Engine.create(bin_dir, tmp_path_factory.mktemp("engine"))
