"""Fleet operations tested at the Automation API boundary.

These tests drive `Fleet` against `FakeBackend`, a recording stand-in for the workspace and stacks
of `pulumi.automation`; no Pulumi CLI runs. They prove what the fleet asks the SDK to do (tags,
config, parallelism, destroy order, retries), not what the engine then does.
"""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from pulumi import automation as auto

from fleet.exit_codes import ExitCode
from fleet.tools.ephemeral.backend import OnOutput
from fleet.tools.ephemeral.console import Console
from fleet.tools.ephemeral.overrides import ClusterTarget, Tokens
from fleet.tools.ephemeral.runner import (
    Fleet,
    PlannedStack,
    StackResult,
    bounded,
    in_plan_order,
    plan,
)
from tests.ephemeral_fakes import FakeBackend, command_error

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TOKENS = Tokens(
    secret={"platformToken": "github_pat_x", "appsToken": "github_pat_y"},
    plain={"platformTokenExpires": "2099-01-01", "appsTokenExpires": "2099-01-01"},
)
BASE = {"d1-fleet:environment": "staging", "d1-fleet:kubeContext": "staging"}


def up(fleet_: Fleet, stacks: list[PlannedStack]) -> tuple[list[StackResult], list[str]]:
    created: list[str] = []
    results = fleet_.up(stacks, created)
    return results, in_plan_order(stacks, created)


def planned(count: int, run_id: str = "42-1") -> list[PlannedStack]:
    return plan(
        BASE,
        prefix="eph",
        run_id=run_id,
        base_stack="staging",
        targets=[ClusterTarget(f"kind-{i}") for i in range(count)],
        tokens=TOKENS,
        created=NOW,
    )


def fleet(backend: FakeBackend, parallel: int = 4) -> tuple[Fleet, io.StringIO]:
    out = io.StringIO()
    return Fleet(backend, Console(out=out, err=out), parallel), out


def test_up_tags_configures_then_runs_each_stack() -> None:
    backend = FakeBackend()
    results, created = up(fleet(backend)[0], planned(1))
    assert results == [StackResult("eph-42-1-0", ExitCode.OK, "up")]
    assert created == ["eph-42-1-0"]
    assert backend.ops("eph-42-1-0") == [
        "create",
        *["set_tag"] * 4,
        "stack_settings",
        "save_stack_settings",
        "up",
    ]
    state = backend.stacks["eph-42-1-0"]
    assert state.policy_packs == ["policy"], "the project's pack, as on every fleet up"
    assert state.tags == {
        "fleet:ephemeral": "true",
        "fleet:run-id": "42-1",
        "fleet:created-at": "2026-03-01T12:00:00+00:00",
        "fleet:base-stack": "staging",
    }


def test_up_keeps_the_secrets_provider_salt_and_passes_tokens_in_the_environment() -> None:
    backend = FakeBackend()
    up(fleet(backend)[0], planned(1))
    state = backend.stacks["eph-42-1-0"]
    assert state.settings.encryption_salt == "v1:salt-from-init"
    assert state.settings.config is not None
    assert state.settings.config["d1-fleet:clusterName"] == "eph-42-1-0"
    assert state.settings.config["d1-fleet:githubAccessOwner"] is False
    assert state.settings.config["d1-fleet:appsTokenExpires"] == "2099-01-01"
    assert not {"d1-fleet:platformToken", "d1-fleet:appsToken"} & set(state.settings.config)
    assert state.env_at_up == {
        "FLEET_PLATFORM_TOKEN": "github_pat_x",
        "FLEET_APPS_TOKEN": "github_pat_y",
    }


def test_no_secret_value_reaches_set_config_or_set_all_config() -> None:
    """The Automation API's `set_config`/`set_all_config` run `pulumi config set` with the value
    on the command line (pulumi/pulumi sdk/python/lib/pulumi/automation/_local_workspace.py:
    `LocalWorkspace.set_config` ends its `config set` arguments with the value,
    `set_all_config` passes `--secret key=value` to `config set-all`, secret or not); the
    fake stack and workspace record every value given to them, so any token or key sent there
    fails this test, in token and App mode."""
    secrets = {
        "platformToken": "github_pat_x",
        "appsToken": "github_pat_y",
        "enterpriseToken": "ghp_" + "E" * 36,
        "githubAppPrivateKey": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
        "githubAppsPrivateKey": "-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n",
    }
    backend = FakeBackend()
    stacks = plan(
        BASE,
        prefix="eph",
        run_id="42-1",
        base_stack="staging",
        targets=[ClusterTarget("kind-0"), ClusterTarget("kind-1")],
        tokens=Tokens(secret=secrets, plain=dict(TOKENS.plain)),
        created=NOW,
    )
    results, _ = up(fleet(backend)[0], stacks)
    assert [r.code for r in results] == [ExitCode.OK, ExitCode.OK]
    sent = [value for _, _, value in backend.config_calls]
    stored = [
        str(v) for state in backend.stacks.values() for v in (state.settings.config or {}).values()
    ]
    for value in secrets.values():
        assert not [v for v in [*sent, *stored] if value in v]
    # What the program needs still arrives, through the environment.
    for state in backend.stacks.values():
        assert set(secrets.values()) <= set((state.env_at_up or {}).values())


def test_up_streams_progress_prefixed_with_the_stack_name() -> None:
    backend = FakeBackend()
    fleet_, out = fleet(backend)
    up(fleet_, planned(2))
    lines = out.getvalue().splitlines()
    assert "[eph-42-1-0] Updating (eph-42-1-0)" in lines
    assert "[eph-42-1-1] Updating (eph-42-1-1)" in lines


def test_up_never_runs_more_stacks_at_once_than_the_worker_bound() -> None:
    parallel = 3
    gate = threading.Barrier(parallel, timeout=5)
    lock = threading.Lock()
    active = 0
    peak = 0

    def on_up(name: str, on_output: OnOutput | None) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        gate.wait()  # only releases once `parallel` updates run together
        with lock:
            active -= 1

    backend = FakeBackend(on_up=on_up)
    results, _ = up(fleet(backend, parallel=parallel)[0], planned(2 * parallel))
    assert all(r.ok for r in results)
    assert peak == parallel


def test_bounded_returns_results_in_item_order() -> None:
    assert bounded([3, 1, 2], lambda n: n * 10, parallel=3) == [30, 10, 20]


def test_up_failure_of_one_stack_does_not_stop_the_others() -> None:
    backend = FakeBackend()
    backend.fail("up", "eph-42-1-1", command_error(stderr="error: kind-1 unreachable"))
    results, created = up(fleet(backend)[0], planned(3))
    assert [r.code for r in results] == [ExitCode.OK, ExitCode.FAILED, ExitCode.OK]
    assert "kind-1 unreachable" in results[1].message
    assert created == ["eph-42-1-0", "eph-42-1-1", "eph-42-1-2"]


def test_up_does_not_claim_a_stack_it_could_not_create() -> None:
    backend = FakeBackend()
    backend.create("eph-42-1-0")  # another run with the same id got there first
    results, created = up(fleet(backend)[0], planned(2))
    assert results[0].code is ExitCode.STACK_EXISTS
    assert created == ["eph-42-1-1"], "a stack of another run must never be torn down"


def test_verify_reports_each_stack_and_checks_ready_on_its_own_cluster() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    up(fleet_, planned(2))
    backend.stacks["eph-42-1-1"].outputs = {"clusterName": "eph-42-1-1"}
    asked: list[ClusterTarget] = []

    def ready(target: ClusterTarget, timeout: int) -> str | None:
        asked.append(target)
        return None

    results = fleet_.verify(["eph-42-1-0", "eph-42-1-1"], ready, 60)
    assert results[0] == StackResult("eph-42-1-0", ExitCode.OK, "verified")
    assert results[1].code is ExitCode.FAILED
    assert "output fluxVersion is missing" in results[1].message
    assert sorted(t.label for t in asked) == ["kind-0", "kind-1"]


def test_verify_fails_when_the_flux_instance_is_not_ready() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    up(fleet_, planned(1))
    [result] = fleet_.verify(["eph-42-1-0"], lambda target, timeout: "not Ready: timed out", 60)
    assert result.code is ExitCode.FAILED
    assert "not Ready: timed out" in result.message


def test_teardown_destroys_and_removes_every_stack_in_order() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    _, created = up(fleet_, planned(3))
    backend.calls.clear()
    results = fleet_.teardown(created)
    assert all(r.ok for r in results)
    assert [(op, name) for op, name in backend.calls if op != "select"] == [
        ("destroy", "eph-42-1-0"),
        ("remove_stack", "eph-42-1-0"),
        ("destroy", "eph-42-1-1"),
        ("remove_stack", "eph-42-1-1"),
        ("destroy", "eph-42-1-2"),
        ("remove_stack", "eph-42-1-2"),
    ]
    assert backend.stacks == {}


def test_teardown_retries_a_failed_destroy_after_a_refresh() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    _, created = up(fleet_, planned(1))
    backend.fail("destroy", "eph-42-1-0", command_error(stderr="error: resource changed"))
    [result] = fleet_.teardown(created)
    assert result.ok
    assert backend.ops("eph-42-1-0")[-5:] == [
        "select",
        "destroy",
        "refresh",
        "destroy",
        "remove_stack",
    ]


def test_teardown_keeps_going_after_a_stack_it_cannot_destroy() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    _, created = up(fleet_, planned(3))
    failure = command_error(stderr="error: cluster gone")
    backend.fail("destroy", "eph-42-1-0", failure, command_error(stderr="error: cluster gone"))
    results = fleet_.teardown(created)
    assert [r.code for r in results] == [ExitCode.LEFTOVERS, ExitCode.OK, ExitCode.OK]
    assert "remove_stack" not in backend.ops("eph-42-1-0"), "never remove a stack with resources"
    assert list(backend.stacks) == ["eph-42-1-0"]


def test_teardown_treats_a_missing_stack_as_removed() -> None:
    backend = FakeBackend()
    [result] = fleet(backend)[0].teardown(["eph-42-1-0"])
    assert result == StackResult("eph-42-1-0", ExitCode.OK, "already removed")


def test_teardown_reports_a_locked_stack_as_left_over() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    _, created = up(fleet_, planned(1))
    locked = command_error(auto.ConcurrentUpdateError, "the stack is currently locked by 1 lock")
    backend.fail("destroy", created[0], locked, locked)
    [result] = fleet_.teardown(created)
    assert result.code is ExitCode.LEFTOVERS
    assert "another update holds the stack's lock" in result.message


def test_find_run_returns_only_that_runs_stacks_by_index() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    for name in ("eph-42-1-10", "eph-42-1-2", "eph-42-1-2-0", "staging", "eph-43-1-0"):
        backend.create(name)
    assert fleet_.find_run("eph", "42-1") == ["eph-42-1-2", "eph-42-1-10"]


def test_stale_selects_ephemeral_stacks_older_than_max_age() -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend)[0]
    up(fleet_, planned(1, run_id="old"))
    up(fleet_, planned(1, run_id="new"))
    backend.stacks["eph-new-0"].tags["fleet:created-at"] = "2026-03-01T11:30:00+00:00"
    backend.stacks["eph-old-0"].tags["fleet:created-at"] = "2026-03-01T02:00:00+00:00"
    backend.create("staging")
    backend.create("eph-untagged-0")
    backend.last_update["eph-untagged-0"] = datetime(2026, 2, 27, 9, 0)
    backend.create("eph-unknown-0")
    backend.create("eph-foreign-0")
    backend.stacks["eph-foreign-0"].tags["pulumi:project"] = "d1-fleet"
    backend.stacks["eph-foreign-0"].tags["fleet:created-at"] = "2020-01-01T00:00:00+00:00"
    assert fleet_.stale("eph", timedelta(hours=6), NOW) == ["eph-old-0", "eph-untagged-0"]


@pytest.mark.parametrize("parallel", [1, 2])
def test_created_names_come_back_in_plan_order(parallel: int) -> None:
    backend = FakeBackend()
    fleet_ = fleet(backend, parallel)[0]
    _, created = up(fleet_, planned(4))
    assert created == [f"eph-42-1-{i}" for i in range(4)]
