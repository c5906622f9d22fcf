"""Generated stacks of growing size: the staging stack with more tenants and platform components.

Each workload becomes a throwaway project folder (the project's `__main__.py` and `Pulumi.yaml`,
plus a generated `Pulumi.bench-<name>.yaml`) and the full config the engine would hand the program,
with the offline placeholders for tokens that `fleet render` uses.
"""

from __future__ import annotations

import itertools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from fleet.program import conventions as c
from fleet.program.config import keys
from fleet.tools.offline import render

BASE_STACK: Final = "staging"


@dataclass(frozen=True)
class Workload:
    """`tenants` tenant namespaces and `components` platform components (None: the base's)."""

    tenants: int
    components: int | None = None

    @property
    def name(self) -> str:
        if self.components is None:
            return f"t{self.tenants}"
        return f"t{self.tenants}xc{self.components}"

    @property
    def label(self) -> str:
        if self.components is None:
            return f"{self.tenants} tenants"
        return f"{self.tenants} tenants x {self.components} components"

    @property
    def stack(self) -> str:
        return f"bench-{self.name}"

    def overrides(self) -> dict[str, object]:
        values: dict[str, object] = {"tenants": [f"tenant-{i:04d}" for i in range(self.tenants)]}
        if self.components is not None:
            # A chain: each component waits for the one before, the deepest order a stack can ask.
            names = [f"component-{i:04d}" for i in range(self.components)]
            values["platformComponents"] = [names[0]] + [
                f"{name}: {before}" for before, name in itertools.pairwise(names)
            ]
        return values


QUICK: Final = (Workload(2), Workload(20), Workload(200), Workload(50, 50))
FULL: Final = (
    Workload(2),
    Workload(20),
    Workload(200),
    Workload(1000),
    Workload(50, 50),
    Workload(200, 200),
)


def by_name(name: str) -> Workload:
    """`t200` or `t50xc50`."""
    tenants, _, components = name.removeprefix("t").partition("xc")
    return Workload(int(tenants), int(components) if components else None)


def prepare(workload: Workload, project_root: Path, case: Path) -> None:
    """Write the workload's project folder and config under `case`."""
    project = case / "project"
    project.mkdir(parents=True, exist_ok=True)
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(project_root / name, project / name)
    base = yaml.safe_load((project_root / f"Pulumi.{BASE_STACK}.yaml").read_text())
    config = dict(base.get("config") or {})
    config.update({f"{c.PROJECT}:{k}": v for k, v in workload.overrides().items()})
    (project / f"Pulumi.{workload.stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    values, _ = render.offline_config(project, workload.stack)
    (case / "config.json").write_text(
        json.dumps(
            {
                "stack": workload.stack,
                "config": values,
                "secret_keys": [f"{c.PROJECT}:{k}" for k in sorted(keys.SECRET_KEYS)],
            }
        )
    )
