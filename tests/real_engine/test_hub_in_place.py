"""The real CLI takes examples/hub as a project folder running the checkout's program.

Without the Python language host the program itself cannot run here, so this checks what the CLI
does before it: the stack file merges with examples/hub's `config:` block (its defaults applied),
and `main: ../..` resolves, so a preview stops at loading the language plugin; with `main:` naming
a folder that does not exist the same preview stops earlier, on the project (pulumi
pkg/engine/project.go `getPwdMain`). tests/test_hub_example.py checks the program's side.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.real_engine.engine import LANGUAGE_HOST, ROOT, Engine


def hub_in_place(engine: Engine) -> Path:
    """examples/hub inside the engine's project copy, as it stands in the checkout."""
    hub = engine.project / "examples" / "hub"
    hub.mkdir(parents=True)
    for name in ("Pulumi.yaml", "Pulumi.hub.yaml"):
        shutil.copy(ROOT / "examples" / "hub" / name, hub / name)
    return hub


def pulumi(engine: Engine, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(engine.bin / "pulumi"), *args, "--non-interactive"],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=engine.env,
    )


def test_the_cli_runs_examples_hub_where_it_stands(engine: Engine) -> None:
    hub = hub_in_place(engine)
    created = pulumi(engine, hub, "stack", "init", "hub")
    assert created.returncode == 0, created.stderr
    shown = pulumi(engine, hub, "config", "-s", "hub", "--json")
    assert shown.returncode == 0, shown.stderr
    config = {key: entry["value"] for key, entry in json.loads(shown.stdout).items()}
    assert config["d1-fleet:clusterName"] == "hub"
    assert config["d1-fleet:tokenWarningDays"] == "14", "examples/hub's declared default"
    assert len(json.loads(config["d1-fleet:spokes"])) == 2

    preview = pulumi(engine, hub, "preview", "-s", "hub")
    if (engine.bin / LANGUAGE_HOST).is_file():
        assert "project 'main' could not be read" not in preview.stderr
    else:
        assert preview.returncode != 0
        assert "failed to load language plugin python" in preview.stderr, preview.stderr

    project = hub / "Pulumi.yaml"
    project.write_text(project.read_text().replace("main: ../..", "main: ../nowhere"))
    broken = pulumi(engine, hub, "preview", "-s", "hub")
    assert broken.returncode != 0
    assert "project 'main' could not be read" in broken.stderr, broken.stderr
