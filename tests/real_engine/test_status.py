"""Scenario 7: `fleet status` on a real state and history, after a later `up`.

The engine writes a resource's `modified` time when it creates or updates it, never when a step is
a `same` (pulumi pkg/resource/deploy/step.go), so the root stack resource of a stack deployed long ago
keeps that first date. The stack is back-dated through `stack export`/`stack import`, updated again
on the real engine, and `fleet status` must still count every credential's days from today's update.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, tier_config
from tests.real_engine.operator_standin import OperatorStandIn

STACK_TYPE = "pulumi:pulumi:Stack"


def test_status_counts_credential_days_from_the_last_update_not_the_first_deployment(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine, tmp_path: Path
) -> None:
    engine.write_stack("staging", tier_config(cluster, chart))
    with inside(engine.project, TOKENS):
        stack = engine.stack("staging")
        assert stack.up(color="never").summary.result == "succeeded"

    state = engine.export("staging")
    [root] = [r for r in state["deployment"]["resources"] if r["type"] == STACK_TYPE]
    back_dated = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    first = back_dated.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
    root["created"] = root["modified"] = first
    exported = tmp_path / "state.json"
    exported.write_text(json.dumps(state))
    engine.cli("stack", "import", "--stack", "staging", "--file", str(exported))

    with inside(engine.project, TOKENS):
        assert stack.up(color="never").summary.result == "succeeded"
    [root] = [
        r for r in engine.export("staging")["deployment"]["resources"] if r["type"] == STACK_TYPE
    ]
    kept = datetime.fromisoformat(root["modified"].replace("Z", "+00:00"))
    assert abs(kept - back_dated) < timedelta(seconds=1), "the engine moved the modified time"

    status = engine.fleet("status", "staging", "--json", env=TOKENS)
    assert status.returncode in (0, 1), status.stderr
    [staging] = json.loads(status.stdout)["stacks"]
    assert staging["deployed"], staging
    credentials = staging["credentials"]
    assert credentials, staging
    expected = (date(2099, 1, 31) - date.today()).days
    for credential in credentials:
        assert credential["expires"] == "2099-01-31", credential
        assert credential["daysLeft"] == expected, credential
        assert credential["state"] == "ok", credential
