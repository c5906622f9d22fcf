"""examples/hub runs where it stands: its own project folder, the checkout's program.

Its Pulumi.yaml names the checkout as `main:`, so the CLI runs the program from there (pulumi
pkg/engine/project.go `getPwdMain`) and passes examples/hub as the project root
(sdk/python/cmd/pulumi-language-python-exec `--root_directory`). The program must read the fleet's
stack files from that root, not from its working directory, or the hub would be checked against
the checkout's cluster stacks.
"""

from __future__ import annotations

import contextlib
import json
import runpy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet.cli import main
from fleet.tools.offline import cli_config as cc
from fleet.tools.offline import mock, project_file, schemas
from tests.helpers import ROOT, SECRET_KEYS, stack_run, token_config

HUB = ROOT / "examples" / "hub"


def layout(base: Path, **hub_siblings: dict[str, Any]) -> Path:
    """A checkout under `base` (Pulumi.yaml, __main__.py) with examples/hub in it; each keyword is
    another stack file beside the hub's, by stack name. Returns the hub's folder."""
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, base / name)
    hub = base / "examples" / "hub"
    hub.mkdir(parents=True)
    for name in ("Pulumi.yaml", "Pulumi.hub.yaml"):
        shutil.copy(HUB / name, hub / name)
    for stack, config in hub_siblings.items():
        (hub / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return hub


# A cluster stack whose cluster is the hub example's spoke `staging`.
SPOKE_AS_CLUSTER: dict[str, Any] = {"config": {"d1-fleet:clusterName": "staging"}}


def test_the_hub_example_is_a_project_folder_running_the_checkouts_program() -> None:
    assert mock.program_folder(HUB) == ROOT
    assert project_file.projects(ROOT) == [ROOT, HUB]
    assert project_file.check(HUB, ROOT) == []


def test_the_hub_checks_the_stack_files_beside_it_not_the_checkouts(tmp_path: Path) -> None:
    hub = layout(tmp_path)
    (tmp_path / "Pulumi.clash.yaml").write_text(yaml.safe_dump(SPOKE_AS_CLUSTER))
    run = stack_run("hub", project_dir=hub)
    assert {r.inputs["metadata"]["name"] for r in run.resources if r.type.endswith(":Namespace")}
    shutil.move(tmp_path / "Pulumi.clash.yaml", hub / "Pulumi.clash.yaml")
    with pytest.raises(mock.ProgramError) as refused:
        stack_run("hub", project_dir=hub)
    assert "spoke staging is the cluster of stack clash" in str(refused.value.error)


def test_a_program_without_a_project_root_reads_its_working_directory(tmp_path: Path) -> None:
    # Inline Automation API programs get no root directory: the program reads its cwd, which
    # here holds a stack file whose cluster is a spoke of the hub.
    hub = layout(tmp_path)
    (tmp_path / "Pulumi.clash.yaml").write_text(yaml.safe_dump(SPOKE_AS_CLUSTER))
    config = {**mock.stack_config(hub, "hub"), **token_config()}
    with contextlib.chdir(tmp_path), pytest.raises(mock.ProgramError) as refused:
        mock.run(
            lambda: runpy.run_path(str(tmp_path / "__main__.py"), run_name="__main__"),
            config=config,
            stack_name="hub",
            secret_keys=SECRET_KEYS,
        )
    assert "spoke staging is the cluster of stack clash" in str(refused.value.error)


def test_the_hub_project_and_stack_pass_the_cli_checks() -> None:
    schema = json.loads((schemas.schemas_dir() / "pulumi" / "project.json").read_text())
    document = cc.load_yaml((HUB / "Pulumi.yaml").read_text())
    assert cc.schema_problems(document, schema) == []
    assert cc.stack_problems(HUB, "hub", frozenset()) == []


def test_pulumi_yaml_writes_and_checks_the_example_projects_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = layout(tmp_path)
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "configuration.md", tmp_path / "docs" / "configuration.md")
    path = hub / "Pulumi.yaml"
    path.write_text(path.read_text().replace("default: 14\n", "default: 21\n", 1))
    assert main(["pulumi-yaml", "--check", "--project-dir", str(tmp_path)]) == 1
    assert "examples/hub/Pulumi.yaml: d1-fleet:tokenWarningDays: default is 21" in (
        capsys.readouterr().out
    )
    assert main(["pulumi-yaml", "--write", "--project-dir", str(tmp_path)]) == 0
    assert path.read_text() == (HUB / "Pulumi.yaml").read_text()
    assert main(["pulumi-yaml", "--check", "--project-dir", str(tmp_path)]) == 0
