"""The real Automation API path against the real Pulumi CLI, with a throwaway file backend.

Runs only where `pulumi` is on PATH (CI's e2e job, a developer machine) and is skipped elsewhere.
It creates a stack of this project without `up` (no cluster needed), then checks what the fake
backend in the other tests only assumes: tags and typed config are written, tokens stay out of the
stack file (they travel in the workspace's environment), and `down` removes the stack and its
settings file.
"""

from __future__ import annotations

import io
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from fleet.cli.commands.ephemeral import main
from fleet.exit_codes import ExitCode
from fleet.tools.ephemeral.app import World
from fleet.tools.ephemeral.backend import automation_factory
from fleet.tools.ephemeral.console import Console
from fleet.tools.ephemeral.overrides import ClusterTarget, load_base, read_tokens
from fleet.tools.ephemeral.runner import Fleet, configure, plan
from tests.helpers import EXPORTED_TOKENS

ROOT = Path(__file__).resolve().parent.parent
TOKEN_ENV = dict(EXPORTED_TOKENS)

pytestmark = pytest.mark.skipif(
    shutil.which("pulumi") is None,
    reason="the Pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/)",
)


def test_real_cli_creates_tags_configures_and_removes_a_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "e2e-only")
    url = f"file://{tmp_path}"
    run_id = f"t{uuid.uuid4().hex[:8]}"
    [item] = plan(
        load_base(ROOT, "staging"),
        prefix="eph",
        run_id=run_id,
        base_stack="staging",
        targets=[ClusterTarget("kind-e2e")],
        tokens=read_tokens(TOKEN_ENV),
        created=datetime.now(UTC),
    )
    factory = automation_factory(ROOT, url)
    stack = factory.create(item.name)
    settings_file = ROOT / f"Pulumi.{item.name}.yaml"
    try:
        for key, value in item.tags.items():
            stack.set_tag(key, value)
        configure(stack, item.config)
        written = yaml.safe_load(settings_file.read_text())
        assert written["encryptionsalt"], "the passphrase salt from stack init must be kept"
        assert written["config"]["d1-fleet:githubAccessOwner"] is False
        assert "d1-fleet:platformToken" not in written["config"]
        assert TOKEN_ENV["FLEET_PLATFORM_TOKEN"] not in settings_file.read_text()
        assert stack.workspace.env_vars["FLEET_PLATFORM_TOKEN"] == TOKEN_ENV["FLEET_PLATFORM_TOKEN"]
        assert factory.list_tags(item.name)["fleet:run-id"] == run_id
        config = stack.get_all_config()
        assert config["d1-fleet:clusterName"].value == item.name
    finally:
        out = io.StringIO()
        Fleet(factory, Console(out, out)).teardown([item.name])
    assert not settings_file.exists(), out.getvalue()
    assert item.name not in [s.name for s in factory.list_stacks()]


def test_real_cli_down_of_an_empty_run_succeeds(tmp_path: Path) -> None:
    out = io.StringIO()
    env = {"PULUMI_BACKEND_URL": f"file://{tmp_path}", "PULUMI_CONFIG_PASSPHRASE": "x"}
    world = World(env={**os.environ, **env}, console=Console(out, out))
    assert main(["down", "--run-id", "none", "--project-dir", str(ROOT)], world) == ExitCode.OK
