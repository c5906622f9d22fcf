"""The `python -m fleet.tools.ephemeral` command, tested at the Automation API boundary.

`main` runs with a `World` whose factory is `FakeBackend`, a recording stand-in for the workspace
and stacks of `pulumi.automation`, so no Pulumi CLI runs here; the tests check exit codes, messages
and the teardown guarantees. The preflight tests use the real factory with a controlled PATH.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pulumi import automation as auto

from fleet.cli.commands.ephemeral import main
from fleet.exit_codes import ExitCode
from fleet.tools.ephemeral.app import World
from fleet.tools.ephemeral.backend import (
    PreflightError,
    StackFactory,
    backend_url,
    preflight,
)
from fleet.tools.ephemeral.console import Console
from fleet.tools.ephemeral.overrides import ClusterTarget
from tests.ephemeral_fakes import FakeBackend, command_error
from tests.helpers import EXPORTED_TOKENS, ROOT

TOKEN_ENV = {
    **EXPORTED_TOKENS,
    "PULUMI_CONFIG_PASSPHRASE": "test",
    "GITHUB_RUN_ID": "500",
    "GITHUB_RUN_ATTEMPT": "1",
}
STACKS = ["eph-500-1-0", "eph-500-1-1", "eph-500-1-2"]
UP = ["up", "--kube-context", "kind-a", "--kube-context", "kind-b", "--kube-context", "kind-c"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The checkout's program and staging stack: `up` runs the program's checks on the copy."""
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.staging.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


class Run:
    def __init__(self, project: Path, backend: FakeBackend, env: Mapping[str, str]) -> None:
        self.out = io.StringIO()
        self.ready_asked: list[ClusterTarget] = []
        self.backend = backend

        def build(project_dir: Path, url: str, env: Mapping[str, str]) -> StackFactory:
            return backend

        def ready(target: ClusterTarget, timeout: int) -> str | None:
            self.ready_asked.append(target)
            return None

        self.world = World(
            env=dict(env),
            build_factory=build,
            ready=ready,
            kubectl_missing=lambda: None,
            console=Console(out=self.out, err=self.out),
            now=lambda: datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        )
        self.project = project

    def __call__(self, *argv: str) -> int:
        return main([*argv, "--project-dir", str(self.project)], self.world)

    @property
    def text(self) -> str:
        return self.out.getvalue()


def run(project: Path, env: Mapping[str, str] = TOKEN_ENV) -> Run:
    return Run(project, FakeBackend(), env)


def test_up_with_destroy_verifies_then_removes_everything(project: Path) -> None:
    cli = run(project)
    assert cli(*UP, "--destroy") == ExitCode.OK
    assert cli.backend.stacks == {}
    assert [t.label for t in cli.ready_asked] == ["kind-a", "kind-b", "kind-c"]
    assert cli.backend.named("destroy") == STACKS
    assert cli.backend.named("remove_stack") == STACKS


def test_failed_up_still_destroys_all_stacks_in_order(project: Path) -> None:
    cli = run(project)
    cli.backend.fail("up", STACKS[1], command_error(stderr="error: helm release timed out"))
    assert cli(*UP, "--destroy") == ExitCode.FAILED
    assert cli.backend.named("destroy") == STACKS
    assert cli.backend.stacks == {}
    assert "helm release timed out" in cli.text
    assert "up: failed for eph-500-1-1" in cli.text


def test_failed_verify_still_destroys_all_stacks(project: Path) -> None:
    cli = run(project)
    cli.world.ready = lambda target, timeout: "FluxInstance not Ready"
    assert cli(*UP, "--destroy") == ExitCode.FAILED
    assert cli.backend.named("destroy") == STACKS
    assert cli.backend.stacks == {}


def test_teardown_runs_even_when_up_is_interrupted(project: Path) -> None:
    cli = run(project)
    cli.backend.fail("up", STACKS[0], KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        cli(*UP, "--destroy", "--parallel", "1")
    assert cli.backend.named("destroy") == [STACKS[0]], "only the stack that was created"
    assert cli.backend.stacks == {}


def test_leftovers_are_named_with_a_distinct_exit_code(project: Path) -> None:
    cli = run(project)
    gone = command_error(stderr="error: Kubernetes cluster unreachable")
    cli.backend.fail("destroy", STACKS[0], gone, gone)
    assert cli(*UP, "--destroy") == ExitCode.LEFTOVERS
    assert "teardown: could not remove eph-500-1-0" in cli.text
    assert cli.backend.named("remove_stack") == STACKS[1:]


def test_name_collision_exits_with_stack_exists_and_leaves_the_other_runs_stack(
    project: Path,
) -> None:
    cli = run(project)
    cli.backend.create(STACKS[0])
    assert cli(*UP, "--destroy") == ExitCode.STACK_EXISTS
    assert "another run uses the same run id" in cli.text
    assert list(cli.backend.stacks) == [STACKS[0]]


def test_locked_stack_exits_with_locked(project: Path) -> None:
    cli = run(project)
    locked = command_error(auto.ConcurrentUpdateError, "the stack is currently locked by 1 lock")
    cli.backend.fail("up", STACKS[2], locked)
    assert cli(*UP, "--destroy") == ExitCode.LOCKED
    assert "another update holds the stack's lock" in cli.text


def test_up_without_destroy_keeps_stacks_and_says_how_to_remove_them(project: Path) -> None:
    cli = run(project)
    assert cli(*UP) == ExitCode.OK
    assert sorted(cli.backend.stacks) == STACKS
    assert "down --run-id 500-1" in cli.text


def test_bad_token_environment_fails_before_any_stack_exists(project: Path) -> None:
    cli = run(project, {**TOKEN_ENV, "FLEET_APPS_TOKEN": "password"})
    assert cli(*UP, "--destroy") == ExitCode.USAGE
    assert "FLEET_APPS_TOKEN: allowed: a fine-grained personal access token" in cli.text
    assert cli.backend.calls == []


def test_up_lists_every_problem_of_one_run_including_the_programs(project: Path) -> None:
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text() + "  d1-fleet:imageAutomaton: true\n")
    cli = run(project, {**TOKEN_ENV, "FLEET_APPS_TOKEN_EXPIRES": "soon"})
    assert cli(*UP[:1], "--destroy") == ExitCode.USAGE
    assert "FLEET_APPS_TOKEN_EXPIRES: 'soon' is not a date" in cli.text
    assert "--kube-context" in cli.text, "the missing clusters are reported in the same run"
    assert cli.backend.calls == []
    fixed = run(project)
    assert fixed(*UP, "--destroy") == ExitCode.USAGE
    assert "a copy of staging: d1-fleet:imageAutomaton" in fixed.text, fixed.text
    assert fixed.backend.calls == []


def test_missing_kubectl_fails_before_any_stack_exists(project: Path) -> None:
    cli = run(project)
    cli.world.kubectl_missing = lambda: "kubectl is not on PATH"
    assert cli(*UP, "--destroy") == ExitCode.TOOL_MISSING
    assert cli.backend.calls == []
    assert cli(*UP, "--destroy", "--no-cluster-check") == ExitCode.OK


def test_verify_and_down_find_the_stacks_of_a_run(project: Path) -> None:
    cli = run(project)
    assert cli(*UP) == ExitCode.OK
    cli.backend.create("eph-501-1-0")
    assert cli("verify") == ExitCode.OK
    assert cli("down") == ExitCode.OK
    assert list(cli.backend.stacks) == ["eph-501-1-0"]
    assert cli("down") == ExitCode.OK, "a second down finds nothing and succeeds"


def test_verify_of_an_unknown_run_fails(project: Path) -> None:
    cli = run(project)
    assert cli("verify", "--run-id", "nope") == ExitCode.FAILED
    assert "run nope: no stacks found" in cli.text


def test_gc_removes_only_stale_stacks_and_dry_run_removes_nothing(project: Path) -> None:
    cli = run(project)
    assert cli(*UP) == ExitCode.OK
    for state in cli.backend.stacks.values():
        state.tags["fleet:created-at"] = "2026-03-01T02:00:00+00:00"
    cli.backend.create("eph-fresh-0")
    cli.backend.stacks["eph-fresh-0"].tags.update(
        {"fleet:ephemeral": "true", "fleet:created-at": "2026-03-01T11:00:00+00:00"}
    )
    assert cli("gc", "--max-age", "6h", "--dry-run") == ExitCode.OK
    assert "would remove: eph-500-1-0, eph-500-1-1, eph-500-1-2" in cli.text
    assert len(cli.backend.stacks) == 4
    assert cli("gc", "--max-age", "6h") == ExitCode.OK
    assert list(cli.backend.stacks) == ["eph-fresh-0"]


def test_backend_errors_while_listing_map_to_exit_codes(project: Path) -> None:
    cli = run(project)
    cli.backend.fail("list_stacks", "", command_error(stderr="error: could not read bucket"))
    assert cli("down", "--run-id", "1") == ExitCode.FAILED
    assert "could not read bucket" in cli.text


def test_missing_pulumi_cli_says_how_to_install_it(project: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    world = World(env={**TOKEN_ENV, "PATH": str(tmp_path)}, console=Console(out=out, err=out))
    code = main([*UP, "--project-dir", str(project), "--no-cluster-check"], world)
    assert code == ExitCode.TOOL_MISSING
    assert int(code) == 127
    assert "https://www.pulumi.com/docs/install/" in out.getvalue()


def test_missing_cli_passphrase_and_bad_token_are_reported_in_one_run(
    project: Path, tmp_path: Path
) -> None:
    out = io.StringIO()
    env = {**TOKEN_ENV, "PATH": str(tmp_path), "FLEET_APPS_TOKEN": "ghp_" + "c" * 36}
    del env["PULUMI_CONFIG_PASSPHRASE"]
    world = World(env=env, console=Console(out=out, err=out))
    code = main([*UP, "--project-dir", str(project), "--no-cluster-check"], world)
    assert code == ExitCode.TOOL_MISSING
    text = out.getvalue()
    assert "the Pulumi CLI (`pulumi`) is not on PATH" in text
    assert "PULUMI_CONFIG_PASSPHRASE" in text
    assert "FLEET_APPS_TOKEN: a classic personal access token" in text


def fake_pulumi_on(folder: Path) -> str:
    binary = folder / "pulumi"
    binary.write_text("#!/bin/sh\nexit 1\n")
    binary.chmod(0o755)
    return str(folder)


def test_preflight_requires_a_passphrase_for_diy_backends(tmp_path: Path) -> None:
    path = fake_pulumi_on(tmp_path)
    with pytest.raises(Exception, match="set PULUMI_CONFIG_PASSPHRASE"):
        preflight({"PATH": path}, "file:///state")
    preflight({"PATH": path, "PULUMI_CONFIG_PASSPHRASE_FILE": "/p"}, "s3://bucket")
    preflight({"PATH": path}, "https://api.pulumi.com")


def test_missing_passphrase_is_a_usage_error(project: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    env = {k: v for k, v in TOKEN_ENV.items() if k != "PULUMI_CONFIG_PASSPHRASE"}
    world = World(env={**env, "PATH": fake_pulumi_on(tmp_path)}, console=Console(out, out))
    assert main(["down", "--project-dir", str(project)], world) == ExitCode.USAGE
    assert "PULUMI_CONFIG_PASSPHRASE" in out.getvalue()


def test_backend_defaults_to_a_file_folder_in_the_project(tmp_path: Path) -> None:
    url = backend_url({}, tmp_path)
    assert url == f"file://{tmp_path.resolve()}/.pulumi-state"
    assert (tmp_path / ".pulumi-state").is_dir()
    assert backend_url({"PULUMI_BACKEND_URL": "s3://b"}, tmp_path) == "s3://b"


def test_backend_url_refuses_a_missing_folder_the_user_named(tmp_path: Path) -> None:
    typo = tmp_path / "no-such-state"
    with pytest.raises(PreflightError, match="no-such-state named by PULUMI_BACKEND_URL"):
        backend_url({"PULUMI_BACKEND_URL": f"file://{typo}"}, tmp_path)
    assert not typo.exists()


def test_backend_url_credentials_are_not_printed(project: Path) -> None:
    env = {**TOKEN_ENV, "PULUMI_BACKEND_URL": "postgres://fleet:s3cret@db:5432/state"}
    cli = run(project, env)
    cli("down")
    assert "s3cret" not in cli.text
    assert "backend: postgres://db/state" in cli.text


def test_usage_errors_exit_2(project: Path) -> None:
    cli = run(project)
    assert cli("up", "--destroy") == ExitCode.USAGE  # no cluster given
    with pytest.raises(SystemExit) as caught:
        cli("gc", "--max-age", "soon")
    assert caught.value.code == 2


def test_module_entry_point_is_wired() -> None:
    source = (Path(__file__).parent.parent / "fleet/tools/ephemeral/__main__.py").read_text()
    assert "raise SystemExit(main())" in source
    assert os.path.basename(__file__).startswith("test_ephemeral")
