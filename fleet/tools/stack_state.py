"""What a stack's state already holds, read from `pulumi stack export`.

The export is the engine's `UntypedDeployment` (pulumi `sdk/go/common/apitype/core.go`): a
`version` and a `deployment` whose `resources` are `ResourceV3` records (`urn`, `type`, `id`,
`parent`, `delete`, ...). `fleet adopt` leaves out every URN found here: the engine refuses to
import a resource whose URN is already in the state with another id (`pkg/resource/deploy/step.go`,
`ImportStep.Apply`: "already exists"), and the id in state (a team's number, `teamId:user`, node
ids) differs from the import id the file would carry.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Runner = Callable[..., subprocess.CompletedProcess[str]]
# The CLI's message for a stack that does not exist yet (pkg/backend/backenderr/backenderr.go).
NO_STACK = "no stack named"


class StateError(Exception):
    """The stack's state could not be read or is not an export the engine writes."""


def urns(export: Mapping[str, Any]) -> frozenset[str]:
    """URNs of the live resources in an export (pending deletions are on their way out)."""
    if not isinstance(export.get("version"), int) or not isinstance(
        export.get("deployment"), Mapping
    ):
        raise StateError("not a pulumi stack export: expected 'version' and 'deployment'")
    resources = export["deployment"].get("resources") or []
    return frozenset(str(r["urn"]) for r in resources if not r.get("delete"))


def read(
    pulumi: str,
    stack: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    run: Runner = subprocess.run,
) -> frozenset[str]:
    """URNs in `stack`'s state; none when the stack does not exist yet."""
    done = run(
        [pulumi, "stack", "export", "--stack", stack],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        if NO_STACK in done.stderr:
            return frozenset()
        raise StateError(f"pulumi stack export --stack {stack} failed: {done.stderr.strip()}")
    try:
        return urns(json.loads(done.stdout))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise StateError(f"pulumi stack export --stack {stack}: {error}") from None
