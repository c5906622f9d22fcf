"""Which state backend a `pulumi` command uses, and that `make up` and bare `pulumi` agree.

The precedence is the CLI's (pulumi/pulumi `pkg/workspace/creds.go`,
`GetCurrentCloudURLWithSource`: PULUMI_BACKEND_URL, then Pulumi.yaml's `backend.url`, then the
`current` backend in credentials.json); a relative `file://` path is made absolute against the
CLI's working folder (`pkg/backend/diy/backend.go`, `massageBlobPath`, `filepath.Abs`). The
agreement test runs `make up` and a bare `pulumi stack ls` against a recording stand-in CLI and
checks both hand the real CLI the same inputs that decide the backend.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from fleet.engine import backend
from fleet.tools.offline import cli_config as cc
from fleet.tools.offline import schemas
from tests import fake_pulumi
from tests.helpers import ROOT


def test_pulumi_yaml_declares_the_checkout_state_folder_which_a_clone_has() -> None:
    assert backend.project_url(ROOT) == "file://.pulumi-state"
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", ".pulumi-state"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert tracked == [".pulumi-state/.gitkeep"], "a fresh clone has the folder the CLI needs"


def test_backend_precedence_is_the_clis(tmp_path: Path) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: x\nbackend:\n  url: file://state\n")
    home = tmp_path / "home"
    (home / ".pulumi").mkdir(parents=True)
    (home / ".pulumi" / "credentials.json").write_text(json.dumps({"current": "s3://login"}))
    env = {"HOME": str(home)}
    assert backend.current(env, project) == backend.Backend(
        f"file://{project / 'state'}", "Pulumi.yaml"
    )
    assert backend.current({**env, "PULUMI_BACKEND_URL": "gs://b"}, project).url == "gs://b"
    (project / "Pulumi.yaml").write_text("name: x\n")
    assert backend.current(env, project) == backend.Backend("s3://login", "credentials.json")
    assert backend.current({"PULUMI_HOME": str(home / ".pulumi")}, project).url == "s3://login"
    assert backend.current({"HOME": str(tmp_path / "nobody")}, project).url == ""


def test_a_relative_file_backend_is_relative_to_the_working_folder(tmp_path: Path) -> None:
    assert backend.absolute("file://.pulumi-state", tmp_path) == f"file://{tmp_path}/.pulumi-state"
    assert backend.absolute("file:///abs/state?no_tmp_dir=true", tmp_path) == (
        "file:///abs/state?no_tmp_dir=true"
    )
    assert backend.absolute("s3://bucket/fleet", tmp_path) == "s3://bucket/fleet"


def test_prepare_names_the_fix_when_no_backend_is_known(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    with pytest.raises(backend.BackendError, match="export PULUMI_BACKEND_URL"):
        backend.prepare({"HOME": str(tmp_path)}, tmp_path)


def test_prepare_refuses_a_missing_folder_the_user_named(tmp_path: Path) -> None:
    """The CLI opens any existing `file://` folder as a state, empty or not (pkg/backend/diy/
    backend.go, `newDIYBackend`: `blobmux.OpenBucket` on the path), so a mistyped PULUMI_BACKEND_URL folder,
    once created, would silently give an empty state; only Pulumi.yaml's own folder is created."""
    (tmp_path / "Pulumi.yaml").write_text("name: x\nbackend:\n  url: file://.pulumi-state\n")
    typo = tmp_path / "shraed-state"
    env = {"HOME": str(tmp_path), "PULUMI_BACKEND_URL": f"file://{typo}"}
    with pytest.raises(backend.BackendError, match=r"shraed-state named by PULUMI_BACKEND_URL"):
        backend.prepare(env, tmp_path)
    assert not typo.exists()
    assert backend.prepare({"HOME": str(tmp_path)}, tmp_path).source == "Pulumi.yaml"
    assert (tmp_path / ".pulumi-state").is_dir(), "the project's own folder is created"


def _backend_of(call: fake_pulumi.Call) -> str:
    """The backend the real CLI would use for this recorded call."""
    return backend.current(call.env, call.cwd).url


def test_make_up_and_bare_pulumi_use_the_same_backend(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli, **fake_pulumi.token_env())
    result = fake_pulumi.make(project, env, "up", "STACK=staging")
    assert result.returncode == 0, result.stderr
    subprocess.run(["pulumi", "stack", "ls"], cwd=project, env=env, check=True)
    select, up, bare = cli.calls()
    assert select.argv == ["stack", "select", "--create", "staging"]
    assert up.argv[:3] == ["up", "--policy-pack", "policy"]
    assert bare.argv == ["stack", "ls"]
    assert "PULUMI_BACKEND_URL" not in up.env, "fleet leaves the choice to the CLI"
    state = f"file://{(project / '.pulumi-state').resolve()}"
    assert {_backend_of(c) for c in cli.calls()} == {state}, "not the logged-in Pulumi Cloud"


def test_a_users_backend_variable_reaches_make_up_and_bare_pulumi_alike(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    other = tmp_path / "shared-state"
    other.mkdir()
    env = fake_pulumi.user_env(
        tmp_path, cli, PULUMI_BACKEND_URL=f"file://{other}", **fake_pulumi.token_env()
    )
    result = fake_pulumi.make(project, env, "preview", "STACK=staging")
    assert result.returncode == 0, result.stderr
    subprocess.run(["pulumi", "stack", "ls"], cwd=project, env=env, check=True)
    assert {_backend_of(c) for c in cli.calls()} == {f"file://{other}"}
    assert cli.calls()[1].argv[:4] == ["preview", "--diff", "--policy-pack", "policy"]


def test_the_clis_project_schema_accepts_the_backend_block_and_checks_it() -> None:
    """Pulumi.yaml's `backend: url:` is the CLI's own field (sdk/go/common/workspace/project.go,
    `ProjectBackend`); its project schema accepts it and refuses a misspelt one."""
    schema = json.loads((schemas.schemas_dir() / "pulumi" / "project.json").read_text())
    document = cc.load_yaml((ROOT / "Pulumi.yaml").read_text())
    assert document["backend"] == {"url": "file://.pulumi-state"}
    assert cc.schema_problems(document, schema) == []
    misspelt = {**document, "backend": {"uri": "file://.pulumi-state"}}
    assert cc.schema_problems(misspelt, schema) != []
