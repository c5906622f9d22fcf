"""`fleet status` on stack state in the engine's formats, built from the program's own declarations.

The exports come from the real `__main__.py` under the mock runtime (`tests.status_fixtures`), the
history entries and drift digests in the shapes the Pulumi CLI prints them. The reader that runs the
CLI is checked against a stand-in `pulumi` executable that prints recorded JSON: that proves the
calls and how their answers are read, not that a real backend answers them so.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from fleet import cli
from fleet.engine import types
from fleet.tools.offline.mock import SECRET_SIG
from fleet.tools.views import status, status_render
from fleet.tools.views.status_read import (
    CredentialState,
    Declared,
    Drift,
    LastUpdate,
    StackStatus,
    app_key_state,
    collect,
    credential_state,
    declared,
    drift_from_digest,
    from_state,
)
from fleet.tools.views.status_render import HEADERS
from tests import preview_digests as pd
from tests.helpers import ROOT, app_run, doc, stack_run
from tests.status_fixtures import (
    DRIFT_DIGEST,
    NOW,
    SECRET_VALUE_SIG,
    TODAY,
    FakeReader,
    Live,
    deployment,
    empty_deployment,
    example_fleet,
    history_entry,
)

STAGING = Declared("staging", 14)
WRITTEN = NOW - timedelta(days=5)
ANSI = re.compile(r"\033\[[0-9;]*[A-Za-z]")


@pytest.fixture(scope="module")
def staging_export() -> dict[str, Any]:
    return deployment(stack_run("staging"), "staging", WRITTEN)


def healthy_history() -> list[dict[str, Any]]:
    return [
        history_entry("refresh", "succeeded", NOW - timedelta(hours=6), {"same": 50}, 2),
        history_entry("update", "succeeded", WRITTEN, {"create": 50}, 1),
    ]


def read(
    export: Mapping[str, Any] | None,
    history: list[dict[str, Any]] | None = None,
    declared: Declared = STAGING,
    digest: str | None = None,
) -> StackStatus:
    return from_state("staging", export, history or [], declared, TODAY, drift_digest=digest)


def test_status_reads_a_healthy_stack_from_its_export_and_history(
    staging_export: dict[str, Any],
) -> None:
    recording = stack_run("staging")
    found = read(staging_export, healthy_history())
    assert found.deployed
    assert found.environment == "staging"
    assert found.flux_declared == recording.outputs["fluxVersion"]
    assert found.flux_applied == "v2.7.3"
    assert found.flux_ready is True
    assert found.chart_declared == found.chart_applied == recording.outputs["operatorChartVersion"]
    tenants = recording.of_type("fleet:tenants:Tenant")
    assert found.tenants == len(tenants) > 0
    controllers = [
        r
        for r in recording.of_type("kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization")
        if r.name.startswith("cluster-platform-") and r.name.endswith("-controllers")
    ]
    assert found.platform_components == len(controllers) > 0
    # 120 days left on the day of the update, five days ago.
    assert {(c.name, c.days_left, c.state) for c in found.credentials} == {
        ("platform", 115, CredentialState.OK),
        ("apps", 115, CredentialState.OK),
        ("appsPush", 115, CredentialState.OK),
    }
    assert found.last_update is not None
    assert (found.last_update.kind, found.last_update.result) == ("refresh", "succeeded")
    assert found.last_update.start == NOW - timedelta(hours=6)
    assert found.drift.state is Drift.NONE
    assert found.problems == []


def test_status_export_holds_secrets_as_ciphertext_only(staging_export: dict[str, Any]) -> None:
    # The fixture is what a plain `stack export` prints: no secret's value, and status needs none.
    text = json.dumps(staging_export)
    assert "github_pat_" not in text
    assert "ciphertext" in text
    assert read(staging_export, healthy_history()).problems == []


@pytest.mark.parametrize("export", [None, empty_deployment()], ids=["no-stack", "empty"])
def test_status_never_deployed_stack_needs_action(export: dict[str, Any] | None) -> None:
    found = read(export, [])
    assert not found.deployed
    assert found.environment == "staging", "from the stack file, since there is no state"
    assert found.last_update is None
    assert found.problems == ["never deployed"]
    [row] = [status_render.cells(found)]
    assert ("never", status_render.RED) in row


def test_status_failed_last_update_needs_action(staging_export: dict[str, Any]) -> None:
    history = [
        history_entry("update", "failed", NOW - timedelta(hours=1), {"same": 40, "update": 1}, 3),
        *healthy_history(),
    ]
    found = read(staging_export, history)
    assert found.last_update is not None
    assert (found.last_update.kind, found.last_update.result) == ("update", "failed")
    assert found.problems == ["last update failed"]


def test_status_last_update_is_the_newest_entry_whatever_the_page_order(
    staging_export: dict[str, Any],
) -> None:
    history = list(reversed(healthy_history()))
    found = read(staging_export, history)
    assert found.last_update is not None
    assert found.last_update.kind == "refresh"


def test_status_expired_credential_needs_action() -> None:
    # Deployed with three days left, ten days ago: expired since a week.
    expires = (date.today() + timedelta(days=3)).isoformat()
    recording = stack_run("prod-eu", {"platformTokenExpires": expires})
    deployed = NOW - timedelta(days=10)
    export = deployment(recording, "prod-eu", deployed)
    history = [history_entry("update", "succeeded", deployed, {"create": 50}, 1)]
    found = read(export, history, Declared("production", 14))
    platform = next(c for c in found.credentials if c.name == "platform")
    assert (platform.days_left, platform.state) == (-7, CredentialState.EXPIRED)
    assert platform.expires == TODAY - timedelta(days=7)
    assert found.problems == [f"platform token expired on {platform.expires.isoformat()}"]


@pytest.mark.parametrize(
    ("warning_days", "state"),
    [(10, CredentialState.EXPIRING), (9, CredentialState.OK)],
)
def test_status_expiring_credential_uses_the_programs_warning_window(
    warning_days: int, state: CredentialState
) -> None:
    # 15 days left when deployed five days ago: 10 now, warned about with a window of 10 or more.
    expires = (date.today() + timedelta(days=15)).isoformat()
    recording = stack_run("staging", {"platformTokenExpires": expires})
    found = read(
        deployment(recording, "staging", WRITTEN), healthy_history(), Declared("x", warning_days)
    )
    platform = next(c for c in found.credentials if c.name == "platform")
    assert (platform.days_left, platform.state) == (10, state)
    assert bool(found.problems) is (state is CredentialState.EXPIRING)


@pytest.mark.parametrize(("age", "state"), [(90, CredentialState.DUE), (89, CredentialState.OK)])
def test_status_app_key_due_for_rotation_needs_action(age: int, state: CredentialState) -> None:
    # 90 days is the default maximum age; the program warns from the day it is reached.
    recording = app_run("staging", key_age_days=age - 5)
    found = read(deployment(recording, "staging", WRITTEN), healthy_history())
    # staging's image automation pushes with a token in every mode; the App key is the other.
    [key] = [c for c in found.credentials if c.name != "appsPush"]
    assert (key.name, key.days_left, key.state) == ("App key", 90 - age, state)
    assert bool(found.problems) is (state is CredentialState.DUE)


def test_status_days_left_count_from_the_last_successful_update_not_the_first_deployment() -> None:
    """The stack resource's `modified` is its first deployment's: the engine sets it in
    `CreateStep.Apply` and carries it over in a `SameStep` (pulumi `pkg/resource/deploy/step.go`),
    while every update rewrites the outputs. Counting from it shows live tokens as expired."""
    export = deployment(
        stack_run("staging"), "staging", WRITTEN, first_deployed=NOW - timedelta(days=200)
    )
    history = [
        # Neither a refresh nor a failed update reran the program that wrote the outputs.
        history_entry("update", "failed", NOW - timedelta(hours=1), {"same": 50}, 4),
        history_entry("refresh", "succeeded", NOW - timedelta(hours=6), {"same": 50}, 3),
        history_entry("update", "succeeded", WRITTEN, {"same": 48, "update": 2}, 2),
        history_entry("update", "succeeded", NOW - timedelta(days=200), {"create": 50}, 1),
    ]
    found = read(export, history)
    # 120 days left on the day of the last successful update, five days ago.
    assert {(c.days_left, c.state) for c in found.credentials} == {(115, CredentialState.OK)}
    assert found.problems == ["last update failed"]


def test_status_days_left_without_an_update_in_the_history_count_from_the_first_deployment(
    staging_export: dict[str, Any],
) -> None:
    # A history page of refreshes only: the first deployment, which can only understate.
    export = deployment(
        stack_run("staging"), "staging", WRITTEN, first_deployed=NOW - timedelta(days=20)
    )
    refreshes = [history_entry("refresh", "succeeded", NOW - timedelta(hours=6), None, 30)]
    assert {c.days_left for c in read(export, refreshes).credentials} == {100}
    # Without the stack resource's `modified` time either, the checkpoint's time is the day.
    stale = copy.deepcopy(staging_export)
    [root] = [r for r in stale["deployment"]["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    del root["modified"]
    stale["deployment"]["manifest"]["time"] = (NOW - timedelta(days=30)).isoformat()
    assert {c.days_left for c in read(stale, refreshes).credentials} == {90}


def test_status_secret_outputs_are_not_read(staging_export: dict[str, Any]) -> None:
    export = copy.deepcopy(staging_export)
    [root] = [r for r in export["deployment"]["resources"] if r["type"] == "pulumi:pulumi:Stack"]
    root["outputs"]["tokenDaysLeft"] = {SECRET_SIG: SECRET_VALUE_SIG, "ciphertext": "v1:x"}
    found = read(export, healthy_history())
    assert found.credentials == ()
    assert found.problems == []


def test_status_drifted_stack_from_a_drift_run_needs_action(
    staging_export: dict[str, Any],
) -> None:
    found = read(staging_export, healthy_history(), digest=DRIFT_DIGEST)
    assert found.drift.state is Drift.DRIFTED
    assert found.drift.changes == {"update": 2}
    assert found.problems == ["drifted (2 update; drift run)"]


@pytest.mark.parametrize(
    ("digest", "state"),
    [
        ('{"changeSummary": {"same": 50}}', Drift.NONE),
        ('{"changeSummary": {"same": 49, "read": 1, "refresh": 3}}', Drift.NONE),
        ('{"changeSummary": {"same": 49, "delete": 1}}', Drift.DRIFTED),
        (
            '{"diagnostics": [{"message": "boom", "severity": "error"}], "changeSummary": {}}',
            Drift.CHECK_FAILED,
        ),
        ("", Drift.CHECK_FAILED),
        ('{"steps": []}', Drift.CHECK_FAILED),
    ],
)
def test_status_drift_digest_tells_drift_from_a_failed_check(digest: str, state: Drift) -> None:
    assert drift_from_digest(digest).state is state


def test_status_drift_leaves_out_updates_of_fields_the_server_writes() -> None:
    def server_written(outputs: dict[str, Any]) -> dict[str, Any]:
        metadata = {**outputs["metadata"], "resourceVersion": "48213", "uid": "u-1"}
        return {**outputs, "metadata": metadata, "status": {"phase": "Active"}}

    def edited(outputs: dict[str, Any]) -> dict[str, Any]:
        return {**server_written(outputs), "data": {"CLUSTER_DOMAIN": "hand.example.com"}}

    before = stack_run("staging")
    run = pd.Run(before, "staging")
    namespace = run.urn("kubernetes:core/v1:Namespace", "cluster-flux-system-namespace")
    configmap = run.urn("kubernetes:core/v1:ConfigMap", "cluster-runtime-info-configmap")
    quiet = pd.refreshed(before, "staging", live={namespace: server_written})
    assert quiet["changeSummary"]["update"] == 1
    assert drift_from_digest(json.dumps(quiet)).state is Drift.NONE
    real = pd.refreshed(before, "staging", live={namespace: server_written, configmap: edited})
    assert drift_from_digest(json.dumps(real)).changes == {"update": 1}


def test_status_drift_from_the_last_refresh_when_no_update_followed(
    staging_export: dict[str, Any],
) -> None:
    refreshed = history_entry(
        "refresh", "succeeded", NOW - timedelta(hours=1), {"same": 47, "update": 3}, 3
    )
    drifted = read(staging_export, [refreshed, *healthy_history()])
    assert drifted.drift.state is Drift.DRIFTED
    assert drifted.drift.changes == {"update": 3}
    assert drifted.drift.source == f"refresh {NOW - timedelta(hours=1):%Y-%m-%d %H:%M} UTC"
    # An update after the refresh applied the program again: the history no longer says.
    applied = history_entry("update", "succeeded", NOW - timedelta(minutes=10), {"update": 3}, 4)
    assert read(staging_export, [applied, refreshed]).drift.state is Drift.UNKNOWN


def test_status_drift_run_wins_over_the_history(staging_export: dict[str, Any]) -> None:
    refreshed = history_entry("refresh", "succeeded", NOW, {"same": 47, "update": 3}, 3)
    found = read(staging_export, [refreshed], digest='{"changeSummary": {"same": 50}}')
    assert found.drift.state is Drift.NONE


@pytest.mark.parametrize(
    ("live", "ready", "problem"),
    [
        (
            Live(flux_ready="False", flux_reason="ArtifactFailed", flux_message="pull failed"),
            False,
            "FluxInstance not Ready: ArtifactFailed: pull failed",
        ),
        (Live(flux_ready="True"), True, None),
        # Still reconciling: not a failure, and not shown as Ready either.
        (Live(flux_ready="Unknown", flux_reason="Progressing"), None, None),
        (Live(flux_ready=None), None, None),
    ],
    ids=["False", "True", "Unknown", "absent"],
)
def test_status_flux_readiness_as_recorded(
    live: Live, ready: bool | None, problem: str | None
) -> None:
    found = read(deployment(stack_run("staging"), "staging", WRITTEN, live), healthy_history())
    assert found.flux_ready is ready
    assert found.problems == ([problem] if problem else [])
    shown = {True: "Ready", False: "not Ready", None: "unknown"}[ready]
    assert status_render.cells(found)[HEADERS.index("READY")][0] == shown


@pytest.mark.parametrize(
    ("days_left", "state", "problem"),
    [
        (15, CredentialState.OK, None),
        # The warning starts on the window's first day: 14 days left with a window of 14.
        (14, CredentialState.EXPIRING, "platform token expires in 14 day(s), on 2026-12-18"),
        # Due today is still valid; the program refuses from the next day on.
        (0, CredentialState.EXPIRING, "platform token expires in 0 day(s), on 2026-12-04"),
        (-1, CredentialState.EXPIRED, "platform token expired on 2026-12-03"),
    ],
)
def test_status_token_boundaries_are_the_programs(
    days_left: int, state: CredentialState, problem: str | None
) -> None:
    cred = credential_state("platform", days_left, 14, TODAY)
    assert (cred.state, cred.expires) == (state, TODAY + timedelta(days=days_left))
    found = StackStatus("staging", "staging", deployed=True, credentials=(cred,))
    assert found.problems == ([problem] if problem else [])


@pytest.mark.parametrize(
    ("days_left", "state", "shown", "problem"),
    [
        (1, CredentialState.OK, "App key 1d", None),
        # Due on the day the maximum age is reached.
        (0, CredentialState.DUE, "App key due", "App key due for rotation since 2026-12-04"),
        (
            -3,
            CredentialState.DUE,
            "App key due 3d ago",
            "App key due for rotation since 2026-12-01",
        ),
    ],
)
def test_status_app_key_due_day_is_the_programs(
    days_left: int, state: CredentialState, shown: str, problem: str | None
) -> None:
    key = app_key_state(days_left, TODAY)
    assert key.state is state
    found = StackStatus("staging", "staging", deployed=True, credentials=(key,))
    assert found.problems == ([problem] if problem else [])
    assert status_render.cells(found)[HEADERS.index("CREDENTIALS")][0] == shown


@pytest.mark.parametrize(
    ("creds", "shown", "colour"),
    [
        ([("platform", 40)], "platform 40d", ""),
        ([("platform", 40), ("apps", 3)], "platform 40d, apps 3d", status_render.YELLOW),
        # Counted as days since expiry, never as a negative count.
        ([("apps", 3), ("platform", -7)], "apps 3d, platform expired 7d ago", status_render.RED),
    ],
)
def test_status_credentials_cell_shows_days_and_colours_the_worst(
    creds: list[tuple[str, int]], shown: str, colour: str
) -> None:
    found = StackStatus(
        "staging",
        "staging",
        deployed=True,
        credentials=tuple(credential_state(name, days, 14, TODAY) for name, days in creds),
    )
    assert status_render.cells(found)[HEADERS.index("CREDENTIALS")] == (shown, colour)


def test_status_unsupported_deployment_version_is_unreadable(
    staging_export: dict[str, Any],
) -> None:
    reader = FakeReader(exports={"staging": {**staging_export, "version": 2}})
    [found] = collect(["staging"], reader, {"staging": STAGING}, TODAY)
    assert found.error is not None
    assert "version 2" in found.error
    assert found.problems == [f"state unreadable: {found.error}"]


def test_status_reads_stacks_in_parallel(staging_export: dict[str, Any]) -> None:
    names = [f"s{i}" for i in range(6)]
    # The barrier opens only when all six reads wait at once; one at a time would time out.
    reader = FakeReader(
        exports=dict.fromkeys(names, staging_export), barrier=threading.Barrier(len(names))
    )
    seen: list[tuple[int, int, str]] = []
    found = collect(
        names,
        reader,
        dict.fromkeys(names, STAGING),
        TODAY,
        jobs=len(names),
        progress=lambda done, total, stack: seen.append((done, total, stack)),
    )
    assert [s.stack for s in found] == names, "in the order asked, whatever order reads finish"
    assert all(s.error is None for s in found)
    assert sorted(d for d, _, _ in seen) == list(range(1, 7))
    assert {stack for _, _, stack in seen} == set(names)


def test_status_progress_goes_to_a_terminal_line_that_is_cleared() -> None:
    stream = io.StringIO()
    progress = status.TtyProgress(stream)
    progress(1, 2, "staging")
    progress(2, 2, "prod-eu")
    assert "[1/2] staging" in stream.getvalue()
    assert stream.getvalue().endswith("\r\033[K")


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_status_table_colours_what_needs_action_only_on_a_terminal() -> None:
    statuses, _ = example_fleet()
    coloured = status_render.as_table(statuses, colour=True)
    plain = status_render.as_table(statuses, colour=False)
    assert "\033[" not in plain
    assert f"{status_render.RED}never" in coloured
    assert f"{status_render.RED}drifted (2)" in coloured
    assert ANSI.sub("", coloured) == plain, "colour never shifts a column"
    assert status.use_colour(Tty(), {}) is True
    assert status.use_colour(Tty(), {"NO_COLOR": "1"}) is False
    assert status.use_colour(io.StringIO(), {}) is False


def test_status_markdown_carries_the_issue_marker_and_what_needs_action() -> None:
    statuses, _ = example_fleet()
    text = status_render.as_markdown(statuses, NOW)
    assert text.startswith(status_render.MARKER)
    assert "| stack | env | flux |" in text
    assert "**3 of 4 stack(s) need action**: prod-eu, prod-us, prod-ap." in text
    assert "- prod-ap: never deployed" in text
    assert "| **drifted (2)** |" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == 4
    assert all(row.count(" | ") == len(status_render.HEADERS) - 1 for row in rows)


def test_status_json_for_scripts() -> None:
    statuses, _ = example_fleet()
    document = json.loads(status_render.as_json(statuses, NOW))
    assert document["needsAction"] is True
    by_name = {s["stack"]: s for s in document["stacks"]}
    assert by_name["staging"]["problems"] == []
    assert by_name["staging"]["flux"] == {
        "declared": "2.7.x",
        "applied": "v2.7.3",
        "ready": True,
        "message": "",
    }
    assert by_name["prod-eu"]["drift"] == {
        "state": "drifted",
        "source": "drift run",
        "changes": {"update": 2},
    }
    assert by_name["prod-us"]["lastUpdate"]["result"] == "failed"
    assert by_name["prod-ap"]["deployed"] is False
    platform = next(c for c in by_name["prod-eu"]["credentials"] if c["name"] == "platform")
    assert platform == {
        "name": "platform",
        "daysLeft": 10,
        "expires": "2026-12-14",
        "state": "expiring",
    }


def test_status_readme_example_is_the_rendered_fixture() -> None:
    readme = doc("review-and-status.md")
    table = status_render.as_table(example_fleet()[0], colour=False)
    assert f"```text\n$ python -m fleet status\n{table}```" in readme, (
        "regenerate the README's example with `python -m tests.status_fixtures`"
    )


# The Pulumi CLI, as far as `fleet status` uses it: `stack export` and `stack history --json`
# answer from $STATE/<stack>.export.json and .history.json; a stack without them does not exist.
FAKE_PULUMI = """#!/bin/sh
echo "$* | backend=$PULUMI_BACKEND_URL | cwd=$PWD | skip=$PULUMI_SKIP_UPDATE_CHECK" >> "$STATE/calls.log"
stack=""; previous=""
for arg in "$@"; do [ "$previous" = "--stack" ] && stack="$arg"; previous="$arg"; done
case "$1 $2" in
  "stack export") answer="$STATE/$stack.export.json" ;;
  "stack history") answer="$STATE/$stack.history.json" ;;
  *) echo "unexpected call: $*" >&2; exit 2 ;;
esac
if [ -f "$STATE/$stack.broken" ]; then cat "$STATE/$stack.broken" >&2; exit 255; fi
if [ ! -f "$answer" ]; then echo "error: no stack named '$stack' found" >&2; exit 255; fi
cat "$answer"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod-eu.yaml"):
        shutil.copy(ROOT / name, project / name)
    return project


@pytest.fixture
def state(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    return folder


@pytest.fixture
def env(tmp_path: Path, state: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "STATE": str(state), "HOME": str(tmp_path)}


def args(project: Path, *argv: str) -> argparse.Namespace:
    return cli.parser().parse_args(["status", "--project-dir", str(project), *argv])


def run(project: Path, env: Mapping[str, str], *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = status.run(args(project, *argv), env=env, out=out, err=err, today=TODAY)
    return code, out.getvalue(), err.getvalue()


def test_status_cli_reader_runs_plain_export_and_history(
    project: Path, env: dict[str, str], state: Path, staging_export: dict[str, Any]
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    (state / "staging.history.json").write_text(json.dumps(healthy_history()))
    code, out, err = run(project, {**env, "PULUMI_BACKEND_URL": "s3://fleet-state"}, "--json")
    document = json.loads(out)
    by_name = {s["stack"]: s for s in document["stacks"]}
    assert by_name["staging"]["problems"] == []
    assert by_name["staging"]["tenants"] == 2
    assert by_name["prod-eu"]["problems"] == ["never deployed"]
    assert code == 1, "prod-eu was never deployed"
    assert err == "", "no progress line when stderr is not a terminal"
    calls = [c.partition(" | cwd=")[0] for c in (state / "calls.log").read_text().splitlines()]
    assert "stack export --stack staging | backend=s3://fleet-state" in calls
    assert "stack history --json --stack staging --page-size 20 | backend=s3://fleet-state" in calls
    assert not [c for c in calls if "--show-secrets" in c], "status never decrypts anything"
    assert not [c for c in calls if "history" in c and "prod-eu" in c], "no history without a stack"


def test_status_takes_its_stacks_with_s_as_every_stack_command_does(
    project: Path, env: dict[str, str], state: Path, staging_export: dict[str, Any]
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    (state / "staging.history.json").write_text(json.dumps(healthy_history()))
    code, out, _ = run(project, env, "--json", "-s", "staging")
    assert [s["stack"] for s in json.loads(out)["stacks"]] == ["staging"]
    assert code == 0
    assert run(project, env, "--stack", "nowhere")[0] == 2, "an unknown stack, as positionally"


def test_status_warning_window_and_environment_come_from_the_stack_file(
    project: Path, env: dict[str, str], state: Path, staging_export: dict[str, Any]
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text() + "  d1-fleet:tokenWarningDays: 120\n")
    code, out, _ = run(project, env, "--json")
    by_name = {s["stack"]: s for s in json.loads(out)["stacks"]}
    assert {c["state"] for c in by_name["staging"]["credentials"]} == {"expiring"}
    assert by_name["prod-eu"]["environment"] == "production", "never deployed: the stack file says"
    assert code == 1


def test_status_shows_progress_on_a_terminal(
    project: Path, env: dict[str, str], state: Path, staging_export: dict[str, Any]
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    err = Tty()
    status.run(args(project), env=env, out=io.StringIO(), err=err, today=TODAY)
    assert "reading stack state [2/2]" in err.getvalue()


def test_status_cli_reader_leaves_the_backend_to_the_project_file(
    project: Path, env: dict[str, str], state: Path
) -> None:
    """Without PULUMI_BACKEND_URL the CLI runs in the project folder and sets none, so it reads
    Pulumi.yaml's `backend.url` as `fleet up` and a bare `pulumi` do (`fleet.engine.backend`)."""
    env = {k: v for k, v in env.items() if k != "PULUMI_BACKEND_URL"}
    run(project, env, "staging")
    [call] = (state / "calls.log").read_text().splitlines()
    assert f"| backend= | cwd={project} |" in call, call


def test_status_exits_0_when_nothing_needs_action(
    project: Path, env: dict[str, str], state: Path, staging_export: dict[str, Any]
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    (state / "staging.history.json").write_text(json.dumps(healthy_history()))
    code, out, _ = run(project, env, "staging")
    assert code == 0
    assert out.endswith("\nNothing needs action.\n")
    assert "\033[" not in out, "no colour when stdout is not a terminal"


def test_status_unreadable_state_is_reported_per_stack(
    project: Path, env: dict[str, str], state: Path
) -> None:
    (state / "staging.broken").write_text("error: failed to decrypt\nerror: access denied\n")
    code, out, _ = run(project, env, "staging", "--markdown")
    assert code == 1
    assert "- staging: state unreadable: pulumi stack export: error: access denied" in out


@pytest.mark.parametrize(
    "case",
    [
        ("not json", "[]", "pulumi stack export: not JSON"),
        ("[]", "[]", "pulumi stack export: not a JSON object"),
        (None, "{oops", "pulumi stack history: not JSON"),
    ],
)
def test_status_unparsable_cli_output_marks_the_stack_unreadable(
    project: Path,
    env: dict[str, str],
    state: Path,
    staging_export: dict[str, Any],
    case: tuple[str | None, str, str],
) -> None:
    export, history, message = case
    (state / "staging.export.json").write_text(export or json.dumps(staging_export))
    (state / "staging.history.json").write_text(history)
    code, out, _ = run(project, env, "staging", "--json")
    [found] = json.loads(out)["stacks"]
    assert message in found["error"]
    assert code == 1


def test_status_reads_drift_digests_from_the_drift_folder(
    project: Path, env: dict[str, str], state: Path, staging_export: dict[str, Any], tmp_path: Path
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    (state / "staging.history.json").write_text(json.dumps(healthy_history()))
    drift = tmp_path / "drift"
    drift.mkdir()
    (drift / "staging.json").write_text(DRIFT_DIGEST)
    code, out, _ = run(project, env, "staging", "--drift", str(drift), "--json")
    assert code == 1
    assert json.loads(out)["stacks"][0]["drift"]["state"] == "drifted"


@pytest.mark.parametrize(
    ("argv", "path", "message"),
    [
        (("prod-us",), None, "no stack file for prod-us; known stacks: prod-eu, staging"),
        (("prod-us", "staging", "dev"), None, "no stack file for prod-us, dev; known stacks:"),
        (("--drift", "/nonexistent"), None, "--drift /nonexistent: not a folder"),
        ((), "/nonexistent", "the Pulumi CLI is not on PATH"),
    ],
)
def test_status_usage_errors_exit_2(
    project: Path, env: dict[str, str], argv: tuple[str, ...], path: str | None, message: str
) -> None:
    code, out, err = run(project, {**env, "PATH": path or env["PATH"]}, *argv)
    assert code == 2
    assert out == ""
    assert message in err


def test_status_is_a_fleet_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["status", "--help"])
    assert caught.value.code == 0
    help_text = capsys.readouterr().out
    for option in ("--json", "--markdown", "--drift", "--jobs"):
        assert option in help_text
    with pytest.raises(SystemExit) as both:
        cli.main(["status", "--json", "--markdown"])
    assert both.value.code == 2


@pytest.mark.parametrize("jobs", ["0", "-2", "many"])
def test_status_jobs_must_be_a_positive_whole_number(
    project: Path, capsys: pytest.CaptureFixture[str], jobs: str
) -> None:
    from fleet import cli  # noqa: PLC0415

    with pytest.raises(SystemExit) as caught:
        cli.main(["status", f"--jobs={jobs}", "--project-dir", str(project)])
    assert caught.value.code == 2
    assert f"argument --jobs: {jobs!r} is not a positive whole number" in capsys.readouterr().err


def test_status_json_is_the_whole_document_scripts_read() -> None:
    started = NOW - timedelta(hours=2)
    found = StackStatus(
        "staging",
        "staging",
        deployed=True,
        flux_declared="2.7.x",
        flux_applied="v2.7.3",
        flux_ready=True,
        chart_declared="0.33.0",
        chart_applied="0.33.0",
        tenants=2,
        platform_components=3,
        last_update=LastUpdate("update", "succeeded", started, None, {"same": 50}),
    )
    document = json.loads(status_render.as_json([found], NOW))
    assert document == {
        "generatedAt": NOW.isoformat(),
        "needsAction": False,
        "stacks": [
            {
                "stack": "staging",
                "environment": "staging",
                "deployed": True,
                "error": None,
                "flux": {"declared": "2.7.x", "applied": "v2.7.3", "ready": True, "message": ""},
                "operatorChart": {"declared": "0.33.0", "applied": "0.33.0"},
                "tenants": 2,
                "platformComponents": 3,
                "credentials": [],
                # Still running: no end yet.
                "lastUpdate": {
                    "kind": "update",
                    "result": "succeeded",
                    "startTime": started.isoformat(),
                    "endTime": None,
                    "resourceChanges": {"same": 50},
                },
                "drift": {"state": "unknown", "source": "", "changes": {}},
                "problems": [],
            }
        ],
    }


def test_status_unreadable_stack_row_says_so_once() -> None:
    found = StackStatus("prod-eu", None, deployed=False, error="pulumi stack export: denied")
    assert status_render.cells(found) == [
        ("prod-eu", status_render.BOLD),
        ("-", ""),
        ("unreadable", status_render.RED),
        *[("", "")] * (len(HEADERS) - 3),
    ]


@pytest.mark.parametrize(
    ("declared", "applied", "shown"),
    [
        ("2.7.x", "v2.7.3", "2.7.x -> v2.7.3"),
        ("2.7.3", "v2.7.3", "2.7.3"),
        ("0.33.0", "0.33.0", "0.33.0"),
        ("2.7.3", None, "2.7.3"),
        (None, "v2.7.3", "? -> v2.7.3"),
        (None, None, "-"),
    ],
)
def test_status_versions_cell_shows_applied_only_when_it_differs(
    declared: str | None, applied: str | None, shown: str
) -> None:
    found = StackStatus(
        "s", "staging", deployed=True, chart_declared=declared, chart_applied=applied
    )
    assert status_render.cells(found)[HEADERS.index("OPERATOR")] == (shown, "")


@pytest.mark.parametrize(
    ("update", "shown", "colour"),
    [
        (LastUpdate("update", "failed", NOW, NOW, {}), "2026-12-04 09:00 update failed", "RED"),
        (
            LastUpdate("refresh", "succeeded", NOW, NOW, {}),
            "2026-12-04 09:00 refresh succeeded",
            "",
        ),
        (None, "never", "RED"),
    ],
)
def test_status_last_update_cell_is_red_when_failed_or_never(
    update: LastUpdate | None, shown: str, colour: str
) -> None:
    found = StackStatus("s", "staging", deployed=True, last_update=update)
    tint = getattr(status_render, colour) if colour else ""
    assert status_render.cells(found)[HEADERS.index("LAST UPDATE")] == (shown, tint)


def test_status_markdown_table_is_well_formed_and_bolds_what_needs_action() -> None:
    fine = StackStatus(
        "staging",
        "st|ging",
        deployed=True,
        last_update=LastUpdate("update", "succeeded", NOW, NOW, {}),
    )
    text = status_render.as_markdown([fine], NOW)
    lines = text.splitlines()
    header = "| " + " | ".join(h.lower() for h in HEADERS) + " |"
    assert lines[lines.index(header) + 1] == "| " + " | ".join(["---"] * len(HEADERS)) + " |"
    assert "| `staging` | st\\|ging |" in text
    assert "All 1 stack(s) are fine." in text
    assert "Nothing needs action." in text
    broken = StackStatus("prod-eu", "production", deployed=False)
    text = status_render.as_markdown([broken], NOW)
    assert "| **never** |" in text
    assert "### Needs action\n- prod-eu: never deployed\n" in text
    assert "\033[" not in text


def test_status_table_heads_what_needs_action_in_red_only_with_colour() -> None:
    broken = [StackStatus("prod-eu", "production", deployed=False)]
    coloured = status_render.as_table(broken, colour=True)
    assert (
        f"\n{status_render.RED}Needs action:{status_render.RESET}\nprod-eu: never deployed\n"
        in (coloured)
    )
    assert "\nNeeds action:\nprod-eu: never deployed\n" in status_render.as_table(
        broken, colour=False
    )


def test_status_cells_without_data_show_a_dash_and_no_colour() -> None:
    found = StackStatus("s", None, deployed=True, flux_ready=None)
    row = dict(zip(HEADERS, status_render.cells(found), strict=True))
    assert row["ENV"] == ("-", "")
    assert row["READY"] == ("unknown", "")
    assert row["CREDENTIALS"] == ("-", "")
    assert status_render.cells(StackStatus("s", "x", deployed=False))[HEADERS.index("READY")] == (
        "-",
        "",
    )


def test_status_app_key_due_is_yellow_like_a_warning_not_red() -> None:
    found = StackStatus("s", "x", deployed=True, credentials=(app_key_state(-3, TODAY),))
    assert status_render.cells(found)[HEADERS.index("CREDENTIALS")][1] == status_render.YELLOW


def test_status_json_last_update_carries_its_end_time() -> None:
    ended = NOW - timedelta(hours=1)
    found = StackStatus(
        "s",
        "x",
        deployed=True,
        last_update=LastUpdate("update", "succeeded", ended - timedelta(minutes=2), ended, {}),
    )
    [stack] = json.loads(status_render.as_json([found], NOW))["stacks"]
    assert stack["lastUpdate"]["endTime"] == ended.isoformat()


def test_status_runs_the_cli_without_its_update_check(
    project: Path, env: dict[str, str], state: Path
) -> None:
    run(project, env)
    calls = (state / "calls.log").read_text().splitlines()
    assert calls
    assert all(c.endswith(" | skip=true") for c in calls), calls
    # One the caller set is kept.
    (state / "calls.log").unlink()
    run(project, {**env, "PULUMI_SKIP_UPDATE_CHECK": "false"})
    assert all(c.endswith(" | skip=false") for c in (state / "calls.log").read_text().splitlines())


def test_status_colours_the_table_on_a_terminal_unless_no_color(
    project: Path, env: dict[str, str]
) -> None:
    for extra, coloured in (({}, True), ({"NO_COLOR": "1"}, False)):
        out = Tty()
        code = status.run(args(project), env={**env, **extra}, out=out, err=Tty(), today=TODAY)
        assert code == 1
        assert (status_render.RED in out.getvalue()) is coloured, extra


@pytest.mark.parametrize(
    ("reason", "message", "problem"),
    [
        ("", "", "FluxInstance not Ready"),
        ("ArtifactFailed", "", "FluxInstance not Ready: ArtifactFailed"),
        ("", "pull failed", "FluxInstance not Ready: pull failed"),
    ],
)
def test_status_not_ready_says_whatever_the_condition_gives(
    reason: str, message: str, problem: str
) -> None:
    live = Live(flux_ready="False", flux_reason=reason, flux_message=message)
    found = read(deployment(stack_run("staging"), "staging", WRITTEN, live), healthy_history())
    assert found.problems == [problem]


def test_status_a_failed_drift_check_names_the_drift_run() -> None:
    found = read(
        deployment(stack_run("staging"), "staging", WRITTEN), healthy_history(), digest="{"
    )
    assert found.problems == ["drift check failed (drift run)"]


def test_status_drift_counts_are_listed_by_operation() -> None:
    found = read(
        deployment(stack_run("staging"), "staging", WRITTEN),
        healthy_history(),
        digest='{"changeSummary": {"update": 2, "delete": 1, "same": 40, "create": 3}}',
    )
    assert found.problems == ["drifted (3 create, 1 delete, 2 update; drift run)"]


def test_status_drift_skips_a_failed_refresh_for_the_good_one_before_it(
    staging_export: dict[str, Any],
) -> None:
    good = history_entry("refresh", "succeeded", NOW - timedelta(hours=2), {"update": 1}, 3)
    failed = history_entry("refresh", "failed", NOW - timedelta(hours=1), {"same": 50}, 4)
    found = read(staging_export, [failed, good, *healthy_history()])
    assert found.drift.state is Drift.DRIFTED
    assert found.drift.source == f"refresh {NOW - timedelta(hours=2):%Y-%m-%d %H:%M} UTC"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        # The CLI writes UTC with a Z; a time without a zone is read as UTC, one with an offset
        # is shown in UTC.
        ("2026-12-01T03:17:00", "refresh 2026-12-01 03:17 UTC"),
        ("2026-12-01T05:17:00+02:00", "refresh 2026-12-01 03:17 UTC"),
    ],
)
def test_status_refresh_times_are_shown_in_utc(
    staging_export: dict[str, Any], written: str, shown: str
) -> None:
    refresh = {**history_entry("refresh", "succeeded", NOW, {"update": 1}, 3), "startTime": written}
    assert read(staging_export, [refresh]).drift.source == shown


def test_status_a_warning_window_that_is_not_a_number_falls_back_to_the_programs(
    tmp_path: Path,
) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    text = (ROOT / "Pulumi.staging.yaml").read_text()
    (tmp_path / "Pulumi.staging.yaml").write_text(text + '  d1-fleet:tokenWarningDays: "soon"\n')
    assert declared(tmp_path, "staging") == Declared("staging", 14)
    (tmp_path / "Pulumi.staging.yaml").write_text(text + "  d1-fleet:tokenWarningDays: 30\n")
    assert declared(tmp_path, "staging") == Declared("staging", 30)


def test_status_an_unreadable_stack_keeps_the_environment_its_file_declares() -> None:
    reader = FakeReader(failing={"prod-eu": "pulumi stack export: backend unreachable"})
    [found] = collect(["prod-eu"], reader, {"prod-eu": Declared("production", 14)}, TODAY)
    assert found.environment == "production"
    assert found.problems == ["state unreadable: pulumi stack export: backend unreachable"]


def _resources_of(export: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in export["deployment"]["resources"] if r["type"] == kind]


def test_status_declared_versions_are_the_objects_own_and_else_the_stack_outputs(
    staging_export: dict[str, Any],
) -> None:
    export = copy.deepcopy(staging_export)
    [root] = _resources_of(export, types.STACK)
    [instance] = _resources_of(export, types.FLUX_INSTANCE)
    [release] = _resources_of(export, types.HELM_RELEASE)
    instance["inputs"]["spec"]["distribution"]["version"] = "2.8.x"
    release["inputs"]["version"] = "0.60.0"
    root["outputs"]["environment"] = "production"
    found = read(export, healthy_history())
    # What the objects were last applied with, not the outputs an older program wrote.
    assert (found.flux_declared, found.chart_declared) == ("2.8.x", "0.60.0")
    assert found.environment == "production", "the stack's own record over the stack file"
    del instance["inputs"]["spec"]["distribution"]["version"], release["inputs"]["version"]
    del root["outputs"]["environment"]
    found = read(export, healthy_history())
    assert (found.flux_declared, found.chart_declared) == (
        root["outputs"]["fluxVersion"],
        root["outputs"]["operatorChartVersion"],
    )
    assert found.environment == STAGING.environment


def test_status_last_update_is_read_whole_from_the_history(
    staging_export: dict[str, Any],
) -> None:
    entry = history_entry("update", "failed", NOW - timedelta(hours=3), {"update": 2, "same": 9})
    found = read(staging_export, [entry])
    assert found.last_update == LastUpdate(
        kind="update",
        result="failed",
        start=NOW - timedelta(hours=3),
        end=NOW - timedelta(hours=3) + timedelta(minutes=2),
        changes={"update": 2, "same": 9},
    )
    # A stack never deployed keeps what its history and drift say.
    never = read(None, [entry], digest=DRIFT_DIGEST)
    assert never.last_update == found.last_update
    assert never.drift.changes == {"update": 2}
    assert never.environment == STAGING.environment


def test_status_counts_days_to_the_day_it_is_given_and_reads_the_process_environment(
    project: Path,
    env: dict[str, str],
    state: Path,
    staging_export: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out = io.StringIO()
    # Far past every token's expiry: each is expired on that day, whatever today is.
    later = TODAY + timedelta(days=3650)
    code = status.run(
        args(project, "--json", "-s", "staging"), out=out, err=io.StringIO(), today=later
    )
    assert code == 1
    [staging] = json.loads(out.getvalue())["stacks"]
    assert {c["state"] for c in staging["credentials"]} == {"expired"}


@contextlib.contextmanager
def machine_zone(zone: str) -> Iterator[None]:
    """The process's local zone set to `zone`, as on a runner elsewhere; restored after."""
    try:
        with patch.dict(os.environ, {"TZ": zone}):
            time.tzset()
            yield
    finally:
        time.tzset()


@pytest.fixture
def tokyo() -> Iterator[None]:
    """Nine hours east of UTC."""
    with machine_zone("Asia/Tokyo"):
        yield


@pytest.mark.usefixtures("tokyo")
@pytest.mark.parametrize(
    "written",
    ["2026-12-01T03:17:00", "2026-12-01T03:17:00.000Z", "2026-12-01T12:17:00+09:00"],
    ids=["no zone", "Z", "offset"],
)
def test_status_times_are_utc_whatever_the_machines_zone(
    staging_export: dict[str, Any], written: str
) -> None:
    refresh = {**history_entry("refresh", "succeeded", NOW, {"update": 1}, 3), "startTime": written}
    found = read(staging_export, [refresh])
    assert found.drift.source == "refresh 2026-12-01 03:17 UTC"
    assert found.last_update is not None
    assert status_render.cells(found)[HEADERS.index("LAST UPDATE")][0].startswith(
        "2026-12-01 03:17 refresh"
    )


def test_status_history_entries_without_a_readable_start_are_left_out(
    staging_export: dict[str, Any],
) -> None:
    older = history_entry("update", "succeeded", NOW - timedelta(days=2), {"create": 50}, 1)
    # A number, an empty string, a time without a zone and one with: none of them stops the read.
    odd = [
        {**history_entry("update", "failed", NOW, {"same": 50}, 4), "startTime": 1764838800},
        {**history_entry("update", "failed", NOW, {"same": 50}, 3), "startTime": ""},
    ]
    naive = {
        **history_entry("refresh", "succeeded", NOW, {"same": 50}, 2),
        "startTime": "2026-12-03T09:00:00",
    }
    found = read(staging_export, [*odd, naive, older])
    assert found.last_update is not None
    assert (found.last_update.kind, found.last_update.result) == ("refresh", "succeeded")
    assert found.problems == []


def test_status_entries_started_in_the_same_second_keep_the_backends_order(
    staging_export: dict[str, Any],
) -> None:
    refresh = history_entry("refresh", "succeeded", NOW, {"update": 2}, 3)
    update = history_entry("update", "succeeded", NOW, {"update": 2}, 2)
    # The backend pages newest first: the refresh was recorded after the update.
    found = read(staging_export, [refresh, update])
    assert found.last_update is not None
    assert found.last_update.kind == "refresh"
    assert found.drift.state is Drift.DRIFTED


def test_status_an_entry_without_kind_or_result_shows_them_empty(
    staging_export: dict[str, Any],
) -> None:
    entry = history_entry("update", "succeeded", NOW, {"same": 50}, 2)
    del entry["kind"], entry["result"]
    found = read(staging_export, [entry])
    assert found.last_update is not None
    assert (found.last_update.kind, found.last_update.result) == ("", "")
    document = json.loads(status_render.as_json([found], NOW))
    assert (
        document["stacks"][0]["lastUpdate"]["kind"],
        document["stacks"][0]["lastUpdate"]["result"],
    ) == ("", "")


def test_status_a_deployed_stack_without_flux_objects_reads_them_as_unknown(
    staging_export: dict[str, Any],
) -> None:
    # An `up` that failed before the FluxInstance and the Helm release were created.
    export = copy.deepcopy(staging_export)
    kept = {types.FLUX_INSTANCE, types.HELM_RELEASE}
    export["deployment"]["resources"] = [
        r for r in export["deployment"]["resources"] if r["type"] not in kept
    ]
    found = read(export, healthy_history())
    assert found.deployed
    assert (found.flux_applied, found.flux_ready, found.flux_message) == (None, None, "")
    assert found.chart_applied is None
    [root] = _resources_of(export, types.STACK)
    assert found.flux_declared == root["outputs"]["fluxVersion"], "what the program declared"


def test_status_flux_without_an_applied_revision_or_readable_conditions(
    staging_export: dict[str, Any],
) -> None:
    export = deployment(stack_run("staging"), "staging", WRITTEN, Live(flux_revision=None))
    [instance] = _resources_of(export, types.FLUX_INSTANCE)
    conditions = instance["outputs"]["status"]["conditions"]
    instance["outputs"]["status"]["conditions"] = ["Ready", None, *conditions]
    found = read(export, healthy_history())
    assert found.flux_applied is None
    assert found.flux_ready is True, "entries that are not conditions are skipped"
    cells = status_render.cells(found)
    assert cells[HEADERS.index("READY")][0] == "Ready"


def test_status_no_ready_condition_has_no_message(staging_export: dict[str, Any]) -> None:
    found = read(deployment(stack_run("staging"), "staging", WRITTEN, Live(flux_ready=None)))
    document = json.loads(status_render.as_json([found], NOW))
    assert document["stacks"][0]["flux"] == {
        "declared": found.flux_declared,
        "applied": "v2.7.3",
        "ready": None,
        "message": "",
    }


def test_status_chart_applied_is_the_releases_recorded_status_not_its_input(
    staging_export: dict[str, Any],
) -> None:
    export = deployment(stack_run("staging"), "staging", WRITTEN, Live(chart_applied="0.39.0"))
    found = read(export, healthy_history())
    assert found.chart_applied == "0.39.0"
    assert found.chart_declared != "0.39.0"
    assert found.flux_applied == "v2.7.3", "the revision without its digest"


def test_status_values_the_state_holds_as_secrets_are_not_shown(
    staging_export: dict[str, Any],
) -> None:
    export = copy.deepcopy(staging_export)
    [root] = _resources_of(export, types.STACK)
    [instance] = _resources_of(export, types.FLUX_INSTANCE)
    secret = {SECRET_SIG: SECRET_VALUE_SIG, "ciphertext": "v1:Y2lwaGVy"}
    root["outputs"]["environment"] = secret
    del instance["inputs"]["spec"]["distribution"]["version"]
    root["outputs"]["fluxVersion"] = secret
    instance["outputs"]["status"]["lastAppliedRevision"] = 7
    found = read(export, healthy_history())
    assert found.environment == STAGING.environment
    assert found.flux_declared is None
    assert found.flux_applied is None
    assert "ciphertext" not in status_render.as_json([found], NOW)


def test_status_days_left_without_any_recorded_time_count_from_today(
    staging_export: dict[str, Any],
) -> None:
    export = copy.deepcopy(staging_export)
    [root] = _resources_of(export, types.STACK)
    del root["modified"], export["deployment"]["manifest"]["time"]
    found = read(export, [])
    assert {(c.name, c.days_left) for c in found.credentials} == {
        ("platform", 120),
        ("apps", 120),
        ("appsPush", 120),
    }


def test_status_counts_platform_components_by_name_under_the_platform_only(
    staging_export: dict[str, Any],
) -> None:
    export = copy.deepcopy(staging_export)
    before = read(export, healthy_history()).platform_components
    assert before is not None
    [platform] = _resources_of(export, types.PLATFORM)
    [tenant, *_] = _resources_of(export, types.TENANT)

    def kustomization(name: str, parent: str, path: str | None) -> dict[str, Any]:
        spec = {} if path is None else {"path": path}
        return {
            "urn": f"urn:pulumi:staging::d1-fleet::{types.KUSTOMIZATION}::{name}",
            "custom": True,
            "type": types.KUSTOMIZATION,
            "parent": parent,
            "inputs": {"spec": spec},
        }

    export["deployment"]["resources"] += [
        # One component with three roles counts once; a two-part path names a component too.
        *(
            kustomization(f"extra-{role}", platform["urn"], f"components/extra/{role}/staging")
            for role in ("controllers", "configs", "policies")
        ),
        kustomization("solo", platform["urn"], "components/solo"),
        # Not components: the folder alone, other folders, no path, another parent's.
        kustomization("bare", platform["urn"], "components"),
        kustomization("infra", platform["urn"], "infra/extra2/staging"),
        kustomization("nopath", platform["urn"], None),
        kustomization("tenant", tenant["urn"], "components/tenantish/controllers/staging"),
    ]
    assert read(export, healthy_history()).platform_components == before + 2


def test_status_warning_window_without_a_declared_default_is_the_programs(
    tmp_path: Path,
) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: d1-fleet\nruntime: python\n")
    shutil.copy(ROOT / "Pulumi.staging.yaml", tmp_path / "Pulumi.staging.yaml")
    assert declared(tmp_path, "staging").token_warning_days == 14


def test_status_one_job_reads_one_stack_at_a_time(staging_export: dict[str, Any]) -> None:
    names = ["a", "b", "c"]
    active = 0
    most = 0
    lock = threading.Lock()

    class Counting(FakeReader):
        def export(self, stack: str) -> Mapping[str, Any] | None:
            nonlocal active, most
            with lock:
                active += 1
                most = max(most, active)
            time.sleep(0.1)  # long enough for a second worker to start a read beside it
            with lock:
                active -= 1
            return super().export(stack)

    reader = Counting(exports=dict.fromkeys(names, staging_export))
    found = collect(names, reader, dict.fromkeys(names, STAGING), TODAY, jobs=1)
    assert [s.error for s in found] == [None] * 3
    assert most == 1


def test_status_an_unreadable_stack_is_not_reported_as_deployed() -> None:
    reader = FakeReader(failing={"prod-eu": "pulumi stack export: backend unreachable"})
    [found] = collect(["prod-eu"], reader, {"prod-eu": Declared("production", 14)}, TODAY)
    document = json.loads(status_render.as_json([found], NOW))
    assert document["stacks"][0]["deployed"] is False


def test_status_a_cli_failure_without_words_still_names_the_command(
    project: Path, env: dict[str, str], state: Path
) -> None:
    (state / "staging.broken").write_text("\n  \n")
    code, out, _ = run(project, env, "staging", "--json")
    assert code == 1
    assert json.loads(out)["stacks"][0]["error"] == "pulumi stack export: failed"


@pytest.mark.parametrize(
    ("revision", "shown"),
    [("v2.7.3@sha256:4d1c", "v2.7.3"), ("v2.7.3", "v2.7.3")],
    ids=["with digest", "without"],
)
def test_status_applied_flux_version_is_the_revision_before_its_digest(
    revision: str, shown: str
) -> None:
    export = deployment(stack_run("staging"), "staging", WRITTEN, Live(flux_revision=revision))
    assert read(export, healthy_history()).flux_applied == shown


# At any moment one of these two zones has another date than UTC (14 hours east, 12 west).
@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])
def test_status_counts_days_and_stamps_its_report_in_utc_whatever_the_machines_zone(
    project: Path, env: dict[str, str], state: Path, staging_export: dict[str, Any], zone: str
) -> None:
    (state / "staging.export.json").write_text(json.dumps(staging_export))
    (state / "staging.history.json").write_text(json.dumps(healthy_history()))
    out = io.StringIO()
    with machine_zone(zone):
        before = datetime.now(UTC)
        status.run(args(project, "--json", "-s", "staging"), env=env, out=out, err=io.StringIO())
        after = datetime.now(UTC)
    document = json.loads(out.getvalue())
    generated = datetime.fromisoformat(document["generatedAt"])
    assert generated.utcoffset() == timedelta(0)
    assert before <= generated <= after
    # 120 days left on the day of the last update, counted to today's date in UTC.
    expected = {120 - (day - WRITTEN.date()).days for day in (before.date(), after.date())}
    days = {c["daysLeft"] for c in document["stacks"][0]["credentials"]}
    assert len(days) == 1
    assert days <= expected
