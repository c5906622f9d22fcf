"""`python -m benchmarks.real_engine`: the real engine's preview and up of staging at 2, 20 and 200 tenants.

Each size gets a fresh loopback control plane, the operator stand-in and an empty `file://` backend
(tests/real_engine), then times: the first preview (everything to create), `up`, and a second
preview (nothing to change). Needs the tier's binaries (`make real-engine-bins`) and
FLEET_REAL_ENGINE_BIN. Writes bench/real-engine.json and .md and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.real_engine.chart_standin import build_chart
from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, tier_config
from tests.real_engine.operator_standin import OperatorStandIn

ROOT = Path(__file__).resolve().parent.parent


def one_size(bin_dir: Path, schemas: Path, tenants: int, folder: Path) -> dict[str, Any]:
    manifest = json.loads((bin_dir / "manifest.json").read_text())
    plane = ControlPlane(bin_dir, folder / "plane", Path(manifest["kwokStages"]))
    plane.folder.mkdir()
    plane.start()
    try:
        with OperatorStandIn(plane.kube(), schemas):
            chart = build_chart(schemas, folder)
            engine = Engine.create(bin_dir, folder / "engine")
            names = [f"t{i:03d}" for i in range(tenants)]
            engine.write_stack("staging", {**tier_config(plane, chart), "tenants": names})
            with inside(engine.project, TOKENS):
                stack = engine.stack("staging")
                timings: dict[str, Any] = {"tenants": tenants}
                started = time.monotonic()
                first = stack.preview(color="never")
                timings["preview_empty_s"] = round(time.monotonic() - started, 1)
                started = time.monotonic()
                up = stack.up(color="never")
                timings["up_s"] = round(time.monotonic() - started, 1)
                started = time.monotonic()
                stack.preview(color="never")
                timings["preview_same_s"] = round(time.monotonic() - started, 1)
                timings["resources"] = sum(first.change_summary.values())
                timings["result"] = up.summary.result
            return timings
    finally:
        plane.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[2, 20, 200])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "real-engine")
    args = parser.parse_args()
    bin_value = os.environ.get("FLEET_REAL_ENGINE_BIN")
    if not bin_value:
        raise SystemExit("FLEET_REAL_ENGINE_BIN is not set: `make real-engine-bins` prints it")
    schemas = Path(
        os.environ.get("FLEET_SCHEMAS_DIR") or ROOT.parent / "shared" / "schemas"
    ).resolve()
    rows = []
    for tenants in args.tenants:
        with tempfile.TemporaryDirectory(prefix="re-bench-") as tmp:
            rows.append(one_size(Path(bin_value), schemas, tenants, Path(tmp)))
            print(rows[-1], flush=True)
    table = [
        "| tenants | resources | preview (empty state) | up | preview (no changes) |",
        "| ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {r['tenants']} | {r['resources']} | {r['preview_empty_s']} s | {r['up_s']} s | {r['preview_same_s']} s |"
            for r in rows
        ),
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    args.out.with_suffix(".json").write_text(
        json.dumps({"machine": machine, "rows": rows}, indent=2) + "\n"
    )
    args.out.with_suffix(".md").write_text("\n".join(table) + "\n")
    print("\n".join(table))


if __name__ == "__main__":
    main()
