"""Reading a stack's state from `pulumi stack export`, in the engine's format (`fleet.engine.state`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleet.engine import state
from fleet.engine.cli import PulumiCli

STACK_URN = "urn:pulumi:prod-eu::d1-fleet::pulumi:pulumi:Stack::d1-fleet-prod-eu"
TEAM_URN = (
    "urn:pulumi:prod-eu::d1-fleet::fleet:index:Cluster$fleet:github:GitHubAccess"
    "$github:index/team:Team::cluster-github-access-team"
)
# `UntypedDeployment` holding a `DeploymentV3` (pulumi sdk/go/common/apitype/core.go).
EXPORT: dict[str, Any] = {
    "version": 3,
    "deployment": {
        "manifest": {"time": "2026-01-01T00:00:00Z", "magic": "", "version": "v3.200.0"},
        "resources": [
            {"urn": STACK_URN, "custom": False, "type": "pulumi:pulumi:Stack"},
            # A team created by `up`: GitHub's numeric id, not the slug an import file carries.
            {"urn": TEAM_URN, "custom": True, "id": "4242", "type": "github:index/team:Team"},
            {"urn": TEAM_URN + "-old", "custom": True, "id": "1", "delete": True, "type": "x"},
        ],
    },
}


def test_urns_of_an_export_leave_out_pending_deletions() -> None:
    """`ResourceV3.Delete` marks a resource pending deletion (pulumi
    sdk/go/common/apitype/core.go); it is not part of the stack any more."""
    assert state.urns(EXPORT) == {STACK_URN, TEAM_URN}
    # A stack that was created but never updated has no `resources`.
    assert state.urns({"version": 3, "deployment": {"manifest": {}}}) == frozenset()
    with pytest.raises(state.StateError, match="not a pulumi stack export"):
        state.urns({"resources": []})


def runner(code: int, out: str = "", err: str = "") -> Any:
    calls: list[list[str]] = []

    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, code, out, err)

    run.calls = calls  # type: ignore[attr-defined]
    return run


def test_read_runs_stack_export_and_parses_it(tmp_path: Path) -> None:
    run = runner(0, json.dumps(EXPORT))
    found = state.read_urns(PulumiCli("pulumi", {}, tmp_path, run), "prod-eu")
    assert found == {STACK_URN, TEAM_URN}
    assert run.calls == [["pulumi", "stack", "export", "--stack", "prod-eu"]]


def test_read_of_a_stack_not_created_yet_is_empty(tmp_path: Path) -> None:
    """The CLI's error for a missing stack (pulumi pkg/backend/backenderr/backenderr.go,
    `StackNotFoundError.Error`): nothing is in its state."""
    run = runner(255, err="error: no stack named 'prod-eu' found")
    assert state.read_urns(PulumiCli("pulumi", {}, tmp_path, run), "prod-eu") == frozenset()


def test_read_failures_say_what_failed(tmp_path: Path) -> None:
    with pytest.raises(state.StateError, match="failed: error: passphrase"):
        state.read_urns(PulumiCli("pulumi", {}, tmp_path, runner(1, err="error: passphrase")), "s")
    with pytest.raises(state.StateError, match="pulumi stack export --stack s"):
        state.read_urns(PulumiCli("pulumi", {}, tmp_path, runner(0, out="not json")), "s")
