"""The one runner of the Pulumi CLI: an explicit binary or PATH, exactly the environment given."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleet.engine.cli import CliNotFoundError, CommandError, PulumiCli


def _fake_cli(folder: Path, script: str) -> Path:
    binary = folder / "pulumi"
    binary.write_text(f"#!/bin/sh\n{script}\n")
    binary.chmod(0o755)
    return binary


def test_cli_takes_an_explicit_binary_and_runs_with_exactly_the_env_given(tmp_path: Path) -> None:
    binary = _fake_cli(tmp_path, 'echo "$FLEET_X|$HOME|$(pwd)|$*"')
    cli = PulumiCli.at(binary, {"FLEET_X": "1", "PATH": "/usr/bin:/bin"}, cwd=tmp_path)
    assert cli.binary == str(binary)
    # Nothing of the test process's environment leaks in: HOME is unset.
    assert cli.output("stack", "ls") == f"1||{tmp_path}|stack ls\n"


def test_cli_is_found_once_on_the_path_of_the_env_given(tmp_path: Path) -> None:
    binary = _fake_cli(tmp_path, "exit 0")
    assert PulumiCli.at(None, {"PATH": str(tmp_path)}).binary == str(binary)
    with pytest.raises(CliNotFoundError, match="not on PATH"):
        PulumiCli.at(None, {"PATH": str(tmp_path / "none")})
    with pytest.raises(CliNotFoundError, match="no Pulumi CLI at"):
        PulumiCli.at(tmp_path / "missing", {})


def test_cli_failure_carries_the_stderr_and_tells_a_missing_stack(tmp_path: Path) -> None:
    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 255, "", "error: no stack named 's' found\n")

    cli = PulumiCli("pulumi", {}, tmp_path, run)
    with pytest.raises(CommandError) as caught:
        cli.output("stack", "export", "--stack", "s")
    assert caught.value.no_stack
    assert caught.value.last_line == "error: no stack named 's' found"
    assert str(caught.value) == (
        "pulumi stack export --stack s failed: error: no stack named 's' found"
    )
