"""A stack loads only the SDKs of what it declares: no GitHub or random object, no such import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT

# Runs the real __main__.py under mocks in a fresh interpreter, then reports the loaded SDKs.
_PROGRAM = """
import json, sys
from pathlib import Path
from fleet.tools.offline import render
result = render.render_stack(Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]))
github = [r["type"] for r in result.summary["github"]]
print(json.dumps({
    "github_objects": len(github),
    "pulumi_github": "pulumi_github" in sys.modules,
    "pulumi_random": "pulumi_random" in sys.modules,
}))
"""


def _loaded(stack: str, overrides: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(ROOT), stack, json.dumps(overrides)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.mark.parametrize(("stack", "owner"), [("staging", False), ("prod-eu", True)])
def test_imports_github_sdk_only_for_the_owner_stack(stack: str, owner: bool) -> None:
    report = _loaded(stack, {})
    assert bool(report["github_objects"]) is owner, report
    assert report["pulumi_github"] is owner, report
    assert report["pulumi_random"] is False, report


def test_imports_random_sdk_only_with_receivers() -> None:
    report = _loaded("staging", {"d1-fleet:receivers": "true"})
    assert report["pulumi_random"] is True, report
    assert report["pulumi_github"] is True, report
