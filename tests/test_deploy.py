"""Preflight of `python -m fleet up|preview`: each missing prerequisite fails fast and says so.

The run itself is checked against a stand-in `pulumi` executable that records its arguments and
whether the tokens are in its environment; that proves the calls and that tokens never reach argv,
not that the real CLI succeeds.
"""

from __future__ import annotations

import argparse
import json
import shutil
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from fleet.tools.operations import deploy
from fleet.tools.views import review
from tests import preview_digests as pd
from tests.fake_pulumi import KUBECONFIG
from tests.helpers import ROOT, stack_run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod-eu.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    policy_python = project / deploy.POLICY_PYTHON
    policy_python.parent.mkdir(parents=True)
    policy_python.write_text("")
    return project


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "calls.log"
    fake = bin_dir / "pulumi"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@ | apps=${{FLEET_APPS_TOKEN:+set}} expires=$FLEET_APPS_TOKEN_EXPIRES" >> {record}\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "KUBECONFIG": str(kubeconfig),
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "FLEET_PLATFORM_TOKEN": "github_pat_" + "p" * 82,
        "FLEET_APPS_TOKEN": "github_pat_" + "a" * 82,
        "FLEET_APPS_PUSH_TOKEN": "github_pat_" + "w" * 82,
        "FLEET_APPS_PUSH_TOKEN_EXPIRES": "2099-01-01",
        "HOME": str(tmp_path),
        "RECORD": str(record),
    }


def with_expiry(project: Path, stack: str) -> None:
    path = project / f"Pulumi.{stack}.yaml"
    path.write_text(
        path.read_text()
        + "  d1-fleet:platformTokenExpires: 2099-01-01\n  d1-fleet:appsTokenExpires: 2099-01-01\n"
    )


def failure(stack: str, env: dict[str, str], project: Path) -> str:
    with pytest.raises(deploy.PreflightError) as caught:
        deploy.preflight(stack, env, project)
    return str(caught.value)


def test_deploy_preflight_passes_and_uses_the_backend_pulumi_yaml_declares(
    env: dict[str, str], project: Path
) -> None:
    with_expiry(project, "staging")
    plan = deploy.preflight("staging", env, project)
    # The CLI reads Pulumi.yaml's backend itself; fleet must not override it with a variable.
    assert "PULUMI_BACKEND_URL" not in plan.env
    assert plan.backend == f"file://{(project / '.pulumi-state').resolve()}"
    assert (project / ".pulumi-state").is_dir()
    assert plan.tokens_from_env == (
        "d1-fleet:platformToken",
        "d1-fleet:appsToken",
        "d1-fleet:appsPushToken",
    )
    assert plan.env["FLEET_APPS_TOKEN"] == env["FLEET_APPS_TOKEN"]


def test_deploy_preflight_keeps_a_configured_backend(env: dict[str, str], project: Path) -> None:
    with_expiry(project, "staging")
    plan = deploy.preflight("staging", {**env, "PULUMI_BACKEND_URL": "s3://state"}, project)
    assert plan.backend == "s3://state"
    assert plan.env["PULUMI_BACKEND_URL"] == "s3://state", "the user's choice reaches the CLI"


def test_deploy_preflight_missing_cli(env: dict[str, str], project: Path) -> None:
    with_expiry(project, "staging")
    message = failure("staging", {**env, "PATH": "/nonexistent"}, project)
    assert "Pulumi CLI is not on PATH" in message
    assert "https://www.pulumi.com/docs/install/" in message


def test_deploy_preflight_missing_kube_context(env: dict[str, str], project: Path) -> None:
    with_expiry(project, "staging")
    (Path(env["KUBECONFIG"])).write_text("contexts:\n  - name: other\n")
    message = failure("staging", env, project)
    assert "d1-fleet:kubeContext: 'staging' is not a context in" in message


def test_deploy_preflight_missing_token(env: dict[str, str], project: Path) -> None:
    with_expiry(project, "staging")
    del env["FLEET_APPS_TOKEN"]
    message = failure("staging", env, project)
    assert "d1-fleet:appsToken: no token" in message
    assert "FLEET_APPS_TOKEN" in message
    assert "platformToken: no token" not in message


def test_deploy_preflight_token_without_expiry(env: dict[str, str], project: Path) -> None:
    message = failure("staging", env, project)
    assert "d1-fleet:platformTokenExpires: set the token's expiry date" in message
    assert "fleet init -s staging" in message
    assert "FLEET_PLATFORM_TOKEN_EXPIRES" in message


def test_deploy_token_expiry_from_the_environment(env: dict[str, str], project: Path) -> None:
    env.update(FLEET_PLATFORM_TOKEN_EXPIRES="2099-01-31", FLEET_APPS_TOKEN_EXPIRES="2099-02-28")
    plan = deploy.preflight("staging", env, project)
    assert plan.env["FLEET_APPS_TOKEN_EXPIRES"] == "2099-02-28"
    calls = deploy.commands(plan, "staging", "up", [])
    assert [call[1:3] for call in calls] == [["stack", "select"], ["up", "--policy-pack"]]


def test_deploy_preflight_refuses_a_token_in_plain_text(env: dict[str, str], project: Path) -> None:
    with_expiry(project, "staging")
    path = project / "Pulumi.staging.yaml"
    path.write_text(path.read_text() + f"  d1-fleet:appsToken: {env['FLEET_APPS_TOKEN']}\n")
    message = failure("staging", env, project)
    # The program's own refusal, in its words (`keys.plain_text_problems`).
    assert "d1-fleet:appsToken: set in plain text in the stack's config" in message
    assert "`pulumi config set --secret appsToken --stack staging`" in message
    assert env["FLEET_APPS_TOKEN"] not in message


def test_deploy_preflight_reports_what_the_cli_would_refuse(
    env: dict[str, str], project: Path
) -> None:
    with_expiry(project, "staging")
    path = project / "Pulumi.staging.yaml"
    path.write_text(
        path.read_text().replace("d1-fleet:imageAutomation: true", "d1-fleet:imageAutomation: yes")
    )
    assert (
        "Stack 'staging' with configuration key 'd1-fleet:imageAutomation' must be of type 'boolean'"
        in failure("staging", env, project)
    )


def test_deploy_preflight_names_a_plain_text_token_once(env: dict[str, str], project: Path) -> None:
    """One message per problem: a token in plain text is refused as such, not also as missing."""
    with_expiry(project, "staging")
    path = project / "Pulumi.staging.yaml"
    path.write_text(path.read_text() + f"  d1-fleet:appsToken: {env.pop('FLEET_APPS_TOKEN')}\n")
    message = failure("staging", env, project)
    assert "d1-fleet:appsToken: set in plain text in the stack's config" in message
    assert message.count("d1-fleet:appsToken:") == 1, message


def test_deploy_preflight_reports_a_type_error_with_the_other_problems(
    env: dict[str, str], project: Path
) -> None:
    """The CLI's typed check and the program's checks together: fixing one shows no new ones."""
    with_expiry(project, "staging")
    path = project / "Pulumi.staging.yaml"
    text = path.read_text().replace("imageAutomation: true", "imageAutomation: yes")
    path.write_text(
        text.replace("clusterDomain: preview1.example.com", "clusterDomain: Not_A_Domain")
    )
    message = failure("staging", env, project)
    assert "'d1-fleet:imageAutomation' must be of type 'boolean'" in message
    assert "d1-fleet:clusterDomain:" in message, message


def test_deploy_preflight_missing_passphrase_for_file_backend(
    env: dict[str, str], project: Path
) -> None:
    with_expiry(project, "staging")
    del env["PULUMI_CONFIG_PASSPHRASE"]
    assert "PULUMI_CONFIG_PASSPHRASE" in failure("staging", env, project)


def test_deploy_preflight_missing_passphrase_for_a_bucket_backend(
    env: dict[str, str], project: Path
) -> None:
    with_expiry(project, "staging")
    del env["PULUMI_CONFIG_PASSPHRASE"]
    env["PULUMI_BACKEND_URL"] = "s3://fleet-state/d1"
    assert "PULUMI_CONFIG_PASSPHRASE" in failure("staging", env, project)


def test_deploy_preflight_needs_no_passphrase_with_a_kms_secrets_provider(
    env: dict[str, str], project: Path
) -> None:
    with_expiry(project, "staging")
    del env["PULUMI_CONFIG_PASSPHRASE"]
    env["PULUMI_BACKEND_URL"] = "s3://fleet-state/d1"
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text("secretsprovider: awskms://alias/fleet\n" + stack_file.read_text())
    deploy.preflight("staging", env, project)


def test_deploy_preflight_unknown_stack(env: dict[str, str], project: Path) -> None:
    message = failure("prod-xx", env, project)
    assert "no stack file Pulumi.prod-xx.yaml" in message
    assert "prod-eu, staging" in message


def test_deploy_selects_the_stack_then_runs_up_with_tokens_in_the_environment_only(
    env: dict[str, str], project: Path
) -> None:
    env["FLEET_APPS_TOKEN_EXPIRES"] = "2099-02-28"
    with_expiry(project, "prod-eu")
    stack_file = (project / "Pulumi.prod-eu.yaml").read_text()
    plan = deploy.preflight("prod-eu", env, project)
    assert deploy.execute(plan, "prod-eu", "up", ["--yes"], project) == 0
    calls = Path(env["RECORD"]).read_text().splitlines()
    assert calls == [
        "stack select --create prod-eu | apps=set expires=2099-02-28",
        "up --policy-pack policy --stack prod-eu --yes | apps=set expires=2099-02-28",
    ]
    assert (project / "Pulumi.prod-eu.yaml").read_text() == stack_file, "no config set"


def test_deploy_preview_shows_the_diff(env: dict[str, str], project: Path) -> None:
    with_expiry(project, "staging")
    plan = deploy.preflight("staging", env, project)
    calls = deploy.commands(plan, "staging", "preview", ["--refresh"])
    assert [call[1:] for call in calls[1:]] == [
        ["preview", "--diff", "--policy-pack", "policy", "--stack", "staging", "--refresh"],
        ["preview", "--json", "--policy-pack", "policy", "--stack", "staging", "--refresh"],
    ]


def test_deploy_preview_prints_the_review_after_the_cli_output(
    env: dict[str, str], project: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # The stand-in CLI prints its diff, or with --json the digest of a tenant removal on prod-eu.
    before = stack_run("prod-eu")
    digest = tmp_path / "digest.json"
    digest.write_text(
        json.dumps(pd.plan(before, stack_run("prod-eu", {"tenants": '["backend"]'}), "prod-eu"))
    )
    fake = Path(env["PATH"].split(":")[0]) / "pulumi"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {env["RECORD"]}\n'
        f'case "$*" in *--json*) cat {digest} ;; *) echo "the CLI\'s own diff" ;; esac\n'
    )
    with_expiry(project, "prod-eu")
    plan = deploy.preflight("prod-eu", env, project)
    assert deploy.execute(plan, "prod-eu", "preview", [], project) == 0, "no gate locally"
    out = capfd.readouterr().out
    assert out.index("the CLI's own diff") < out.index(review.MARKER)
    assert "Kustomization `frontend/flux-frontend`" in out
    assert "| `prod-eu` | production | 7 delete |" in out


def test_deploy_preview_digest_that_cannot_be_read_exits_2(
    env: dict[str, str], project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake = Path(env["PATH"].split(":")[0]) / "pulumi"
    fake.write_text('#!/bin/sh\ncase "$*" in *--json*) echo "not json" ;; esac\n')
    with_expiry(project, "staging")
    plan = deploy.preflight("staging", env, project)
    assert deploy.execute(plan, "staging", "preview", [], project) == 2
    assert "cannot summarise the preview" in capfd.readouterr().err


def test_fleet_up_command_exits_2_and_explains_what_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fleet", "up", "staging"],
        cwd=ROOT,
        env={
            "PATH": "/nonexistent",
            "HOME": str(tmp_path),
            "PULUMI_BACKEND_URL": f"file://{tmp_path}",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "the Pulumi CLI is not on PATH" in result.stderr
    assert "d1-fleet:platformToken: no token" in result.stderr


def test_deploy_preflight_missing_kubeconfig_file(env: dict[str, str], project: Path) -> None:
    with_expiry(project, "staging")
    path = project / "Pulumi.staging.yaml"
    path.write_text(path.read_text() + "  d1-fleet:kubeconfig: /nonexistent/kubeconfig\n")
    assert "d1-fleet:kubeconfig: '/nonexistent/kubeconfig' does not exist" in failure(
        "staging", env, project
    )


def test_deploy_preflight_runs_the_programs_checks_and_lists_every_problem(
    env: dict[str, str], project: Path
) -> None:
    """What `fleet render` refuses, the preflight refuses too, all in one run (before, a typo'd
    key, a classic token or an expired date passed it and failed only inside `pulumi up`)."""
    path = project / "Pulumi.staging.yaml"
    path.write_text(path.read_text() + "  d1-fleet:imageAutomaton: true\n")
    env.update(
        FLEET_PLATFORM_TOKEN="ghp_" + "c" * 36,
        FLEET_PLATFORM_TOKEN_EXPIRES="2099-01-01",
        FLEET_APPS_TOKEN="github_pat_" + "a" * 40 + " " + "a" * 40,
        FLEET_APPS_TOKEN_EXPIRES="2020-01-01",
    )
    message = failure("staging", env, project)
    assert "d1-fleet:imageAutomaton" in message
    assert "d1-fleet:platformToken: [secret] is invalid: a classic personal access token" in message
    assert "d1-fleet:appsToken: [secret] is invalid: contains whitespace" in message
    assert "expired on 2020-01-01" in message
    assert env["FLEET_PLATFORM_TOKEN"] not in message
    assert env["FLEET_APPS_TOKEN"] not in message


def test_deploy_shows_the_programs_warnings_before_the_cli_runs(
    env: dict[str, str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    soon = (date.today() + timedelta(days=6)).isoformat()
    env.update(FLEET_PLATFORM_TOKEN_EXPIRES=soon, FLEET_APPS_TOKEN_EXPIRES="2099-01-01")
    plan = deploy.preflight("staging", env, project)
    assert any("platform" in w and "6 day" in w for w in plan.warnings), plan.warnings
    args = argparse.Namespace(stack="staging", command="up", pulumi_args=[], project_dir=project)
    assert deploy.run(args, env) == 0
    assert "warning: d1-fleet:" in capsys.readouterr().err
