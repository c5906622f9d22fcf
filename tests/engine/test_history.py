"""Reading `pulumi stack history --json` (`fleet.engine.history`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleet.engine import history
from fleet.engine.cli import PulumiCli


def _cli(tmp_path: Path, code: int, out: str = "", err: str = "") -> tuple[PulumiCli, list[Any]]:
    calls: list[Any] = []

    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, code, out, err)

    return PulumiCli("pulumi", {}, tmp_path, run), calls


def test_history_reads_a_page_of_entries(tmp_path: Path) -> None:
    entry = {"kind": "update", "result": "succeeded", "startTime": "2026-12-01T03:17:00.000Z"}
    cli, calls = _cli(tmp_path, 0, json.dumps([entry]))
    assert history.entries(cli, "staging") == [entry]
    assert calls == [
        ["pulumi", "stack", "history", "--json", "--stack", "staging", "--page-size", "20"]
    ]


@pytest.mark.parametrize("out", ["", "null", "[]"])
def test_history_of_a_new_stack_is_empty(tmp_path: Path, out: str) -> None:
    assert history.entries(_cli(tmp_path, 0, out)[0], "s") == []
    missing = _cli(tmp_path, 255, err="error: no stack named 's' found")[0]
    assert history.entries(missing, "s") == []


def test_history_that_is_not_a_list_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(history.HistoryError, match="not a JSON list"):
        history.entries(_cli(tmp_path, 0, '{"a": 1}')[0], "s")
