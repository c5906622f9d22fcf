"""The cluster stacks of the project, as the workflows fan out over them.

Every `Pulumi.<stack>.yaml` is a cluster stack, except the ephemeral `eph-*` copies the test fleets
write; a stack is a production stack when its environment is production. One function, so the
preview, deploy and drift workflows cannot disagree about which stacks exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import yaml

from fleet.program import conventions as c
from fleet.tools.offline import mock

# The checkout: the project folder every command uses unless told another.
PROJECT_DIR: Final = Path(__file__).resolve().parents[3]
# The ephemeral test fleets' stack name prefix; their stack files are no cluster stacks.
DEFAULT_PREFIX: Final = "eph"
EPHEMERAL_PREFIX: Final = f"{DEFAULT_PREFIX}-"


def listing(project_dir: Path) -> dict[str, list[str]]:
    """{"all": [...], "production": [...], "staging": [...]}, each sorted."""
    names = [n for n in mock.known_stacks(project_dir) if not n.startswith(EPHEMERAL_PREFIX)]
    production = [name for name in names if _environment(project_dir, name) == "production"]
    return {
        "all": names,
        "production": production,
        "staging": [name for name in names if name not in production],
    }


def _environment(project_dir: Path, stack: str) -> str | None:
    document = yaml.safe_load((project_dir / f"Pulumi.{stack}.yaml").read_text()) or {}
    config = document.get("config") or {}
    value = config.get(f"{c.PROJECT}:environment", config.get("environment"))
    return None if value is None else str(value)
