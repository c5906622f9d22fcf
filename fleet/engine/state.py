"""`pulumi stack export`, read: a stack's state in the engine's own format.

The export is the engine's `UntypedDeployment` (pulumi `sdk/go/common/apitype/core.go`): a
`version` and a `deployment` (`DeploymentV3`) whose `resources` are `ResourceV3` records (`urn`,
`type`, `id`, `inputs`, `outputs`, `parent`, `modified`, `delete`, ...). The root
`pulumi:pulumi:Stack` resource's outputs are the program's stack outputs. A plain export (no
`--show-secrets`) keeps secret values as ciphertext, so no passphrase is needed to read it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from fleet.engine.cli import CommandError, EngineError, PulumiCli

# DeploymentV3; version 4 is the same shape with a `features` list (UntypedDeployment).
DEPLOYMENT_VERSIONS: Final = (3, 4)


class StateError(EngineError):
    """The stack's state could not be read or is not an export the engine writes."""


def export(cli: PulumiCli, stack: str) -> Mapping[str, Any] | None:
    """The stack's `UntypedDeployment`; None when the backend has no such stack.

    A failed export is a `CommandError`; output that is not a JSON object a `StateError`.
    """
    try:
        out = cli.output("stack", "export", "--stack", stack)
    except CommandError as error:
        if error.no_stack:
            return None
        raise
    try:
        value = json.loads(out)
    except json.JSONDecodeError as error:
        raise StateError(f"not JSON ({error})") from None
    if not isinstance(value, dict):
        raise StateError("not a JSON object")
    return value


def urns(document: Mapping[str, Any]) -> frozenset[str]:
    """URNs of the live resources in an export (pending deletions are on their way out)."""
    if not isinstance(document.get("version"), int) or not isinstance(
        document.get("deployment"), Mapping
    ):
        raise StateError("not a pulumi stack export: expected 'version' and 'deployment'")
    resources = document["deployment"].get("resources") or []
    return frozenset(str(r["urn"]) for r in resources if not r.get("delete"))


def read_urns(cli: PulumiCli, stack: str) -> frozenset[str]:
    """URNs in `stack`'s state; none when the stack does not exist yet.

    Every failure is a `StateError` naming the command, as `fleet adopt` reports it.
    """
    try:
        document = export(cli, stack)
        return frozenset() if document is None else urns(document)
    except CommandError as error:
        raise StateError(str(error)) from None
    except (StateError, KeyError, TypeError, AttributeError) as error:
        raise StateError(f"pulumi stack export --stack {stack}: {error}") from None
