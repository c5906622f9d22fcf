"""The GitHub Actions workflows: schema-valid, and doing what docs/workflows.md says.

Validation uses check-jsonschema's vendored GitHub workflow schema (offline); one test feeds it a
broken workflow to prove it rejects one. The stack-listing script the workflows share is run here
for real against a folder of stack files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ("ci", "preview", "deploy", "drift", "e2e")
CHECKER = Path(sys.executable).parent / "check-jsonschema"


def load(name: str) -> dict[Any, Any]:
    document = yaml.safe_load((WORKFLOWS / f"{name}.yml").read_text())
    assert isinstance(document, dict)
    return document


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    on = workflow[True]
    assert isinstance(on, dict)
    return on


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found = job["steps"]
    assert isinstance(found, list)
    return found


def uses(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith(action)]


def check(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHECKER), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_workflow_is_valid_against_the_github_workflow_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.stem for f in files} == set(NAMES)
    result = check(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_checker_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = load("ci")
    del broken["jobs"]["test"]["runs-on"]
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken).replace("true:", "on:", 1))
    result = check(path)
    assert result.returncode != 0
    assert "runs-on" in result.stdout + result.stderr


def test_ci_runs_the_readme_test_command_on_every_pull_request_and_push() -> None:
    workflow = load("ci")
    assert set(triggers(workflow)) == {"pull_request", "push"}
    assert triggers(workflow)["push"] is None, "every push, no branch filter"
    assert [s.get("run") for s in steps(workflow["jobs"]["test"])][-1] == "make test"


def test_preview_diffs_each_stack_and_comments_on_the_pull_request() -> None:
    workflow = load("preview")
    assert set(triggers(workflow)) == {"pull_request"}
    assert workflow["permissions"]["pull-requests"] == "write"
    job = workflow["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.all) }}"
    [*_, preview] = uses(job, "pulumi/actions@")
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["stack-name"] == "${{ matrix.stack }}"
    assert preview["with"]["work-dir"] == "."
    assert preview["with"]["diff"] is True
    assert preview["with"]["comment-on-pr"] is True
    assert_secrets_from_repository(job)


def assert_secrets_from_repository(job: dict[str, Any]) -> None:
    assert job["env"]["PULUMI_BACKEND_URL"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert job["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    scripts = "\n".join(str(s.get("run", "")) for s in steps(job))
    for key in ("platformToken", "appsToken"):
        assert f'pulumi config set --secret --stack "$STACK" d1-fleet:{key}' in scripts


def test_deploy_runs_staging_then_each_production_stack_behind_its_environment() -> None:
    workflow = load("deploy")
    assert triggers(workflow)["push"] == {"branches": ["main"]}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    staging, production = workflow["jobs"]["staging"], workflow["jobs"]["production"]
    assert "staging" in production["needs"]
    assert production["strategy"]["matrix"]["stack"] == (
        "${{ fromJSON(needs.stacks.outputs.production) }}"
    )
    assert production["environment"]["name"] == "${{ matrix.stack }}"
    assert production["strategy"]["max-parallel"] == 1
    for job in (staging, production):
        [*_, up] = uses(job, "pulumi/actions@")
        assert up["with"]["command"] == "up"
        assert up["with"]["stack-name"] == "${{ matrix.stack }}"
        assert_secrets_from_repository(job)


def test_drift_runs_nightly_and_names_the_stack_that_drifted() -> None:
    workflow = load("drift")
    assert "schedule" in triggers(workflow)
    job = workflow["jobs"]["drift"]
    assert job["strategy"]["fail-fast"] is False, "one drifted stack must not hide the others"
    [drift] = [s for s in steps(job) if "--expect-no-changes" in str(s.get("run", ""))]
    script = drift["run"]
    assert 'pulumi preview --stack "$STACK" --refresh --expect-no-changes' in script
    assert "::error title=Drift on $STACK::" in script
    assert "exit 1" in script


def test_e2e_runs_on_label_or_by_hand_and_always_cleans_up() -> None:
    workflow = load("e2e")
    assert set(triggers(workflow)) == {"pull_request", "workflow_dispatch"}
    assert "labeled" in triggers(workflow)["pull_request"]["types"]
    job = workflow["jobs"]["e2e"]
    assert "contains(github.event.pull_request.labels.*.name, 'e2e')" in job["if"]
    runs = [str(s.get("run", "")) for s in steps(job)]
    assert any("kind create cluster" in r for r in runs)
    assert any("python -m fleet.tools.ephemeral up --destroy" in r for r in runs)
    [cleanup] = [s for s in steps(job) if "fleet.tools.ephemeral down" in str(s.get("run", ""))]
    assert cleanup["if"] == "always()"
    assert job["env"]["FLEET_RUN_ID"] == "${{ github.run_id }}-${{ github.run_attempt }}"


def list_script(name: str) -> str:
    [step] = [s for s in steps(load(name)["jobs"]["stacks"]) if s.get("id") == "list"]
    assert step["shell"] == "python"
    script = step["run"]
    assert isinstance(script, str)
    return script


def test_all_stack_lists_are_the_same_script() -> None:
    assert list_script("preview") == list_script("deploy") == list_script("drift")


@pytest.mark.parametrize("name", ["preview", "deploy", "drift"])
def test_stack_list_finds_cluster_stacks_and_production_ones(name: str, tmp_path: Path) -> None:
    files = {
        "staging": "config:\n  d1-fleet:environment: staging\n",
        "prod-eu": "config:\n  d1-fleet:environment: production\n",
        "prod-us": "config:\n  d1-fleet:environment: 'production'\n",
        "eph-1-1-0": "config:\n  d1-fleet:environment: staging\n",
    }
    for stack, text in files.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    (tmp_path / "Pulumi.yaml").write_text("name: d1-fleet\n")
    output = tmp_path / "github_output"
    subprocess.run(
        [sys.executable, "-c", list_script(name)],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        check=True,
        capture_output=True,
    )
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert json.loads(values["all"]) == ["prod-eu", "prod-us", "staging"]
    assert json.loads(values["production"]) == ["prod-eu", "prod-us"]
    assert json.loads(values["staging"]) == ["staging"]


def test_stack_list_of_this_repository(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    subprocess.run(
        [sys.executable, "-c", list_script("deploy")],
        cwd=ROOT,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        check=True,
        capture_output=True,
    )
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    expected = sorted(p.name[7:-5] for p in ROOT.glob("Pulumi.*.yaml"))
    assert json.loads(values["all"]) == [s for s in expected if not s.startswith("eph-")]
    assert "prod-eu" in json.loads(values["production"])
    assert json.loads(values["staging"]) == ["staging"]


@pytest.mark.parametrize(
    ("workflow", "jobs"), [("preview", ("preview",)), ("deploy", ("staging", "production"))]
)
def test_preview_and_deploy_run_the_policy_pack_before_any_change(
    workflow: str, jobs: tuple[str, ...]
) -> None:
    for name in jobs:
        job = load(workflow)["jobs"][name]
        job_steps = steps(job)
        install = next(
            i for i, s in enumerate(job_steps) if "policy/requirements.txt" in str(s.get("run", ""))
        )
        actions = uses(job, "pulumi/actions@")
        previews = [a for a in actions if a.get("with", {}).get("command") == "preview"]
        assert previews, name
        for preview in previews:
            assert preview["with"]["policyPacks"] == "policy", name
            assert job_steps.index(preview) > install, name
        ups = [a for a in actions if a.get("with", {}).get("command") == "up"]
        # The policy preview runs before the update, which enforces the pack as well.
        for up in ups:
            assert job_steps.index(up) > job_steps.index(previews[0]), name
            assert up["with"]["policyPacks"] == "policy", name
