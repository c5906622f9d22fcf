"""A stack loads only the SDKs of what it declares: no GitHub object, no `pulumi_github` import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Runs the real __main__.py under mocks in a fresh interpreter, then reports the loaded SDKs.
_PROGRAM = """
import json, sys
from pathlib import Path
from fleet.tools import render
result = render.render_stack(Path(sys.argv[1]), sys.argv[2])
github = [r["type"] for r in result.summary["github"]]
print(json.dumps({"github_objects": len(github), "pulumi_github": "pulumi_github" in sys.modules}))
"""


@pytest.mark.parametrize(("stack", "owner"), [("staging", False), ("prod-eu", True)])
def test_imports_github_sdk_only_for_the_owner_stack(stack: str, owner: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, str(ROOT), stack],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert bool(report["github_objects"]) is owner, report
    assert report["pulumi_github"] is owner, report
