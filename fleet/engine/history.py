"""`pulumi stack history --json`, read: a stack's updates, refreshes and their results.

The CLI prints `updateInfoJSON` entries (`pkg/cmd/pulumi/stack/stack_history.go`), built from
`apitype.UpdateInfo` (`history.go`): `kind`, `startTime`, `endTime`, `result`, `resourceChanges`,
with times as RFC 5424 strings, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from fleet.engine.cli import CommandError, EngineError, PulumiCli

# Enough entries to find the last update behind a few refreshes; the CLI's default page is 10.
PAGE: Final = 20


class HistoryError(EngineError):
    """The CLI's history output is not the JSON list it writes."""


def entries(cli: PulumiCli, stack: str, page: int = PAGE) -> Sequence[Mapping[str, Any]]:
    """The stack's latest `page` history entries; none when the backend has no such stack."""
    try:
        out = cli.output("stack", "history", "--json", "--stack", stack, "--page-size", str(page))
    except CommandError as error:
        if error.no_stack:
            return []
        raise
    # An empty history prints `null` or nothing.
    try:
        found = json.loads(out or "[]") or []
    except json.JSONDecodeError as error:
        raise HistoryError(f"not JSON ({error})") from None
    if not isinstance(found, list):
        raise HistoryError("not a JSON list")
    return found
