"""The README's first run, step by step, as a new user types it: render -> check -> init ->
preview -> up with the installed `fleet` command, either credential route, against a recording
stand-in `pulumi` (tests/fake_pulumi.py); and every error on the way names what to do."""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from fleet.tools.offline import schemas
from tests import fake_pulumi
from tests.helpers import ROOT, doc

FLEET = ROOT / ".venv" / "bin" / "fleet"
README = doc("first-run.md")


def fleet(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FLEET), *args, "--project-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_the_fleet_command_is_installed_by_the_projects_packaging() -> None:
    (script,) = [
        e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "fleet"
    ]
    assert script.value == "fleet.cli:main"
    assert FLEET.is_file(), "`make venv` installs it with pip install -e ."
    assert (
        "pip install --quiet --disable-pip-version-check --no-deps -e ."
        in (ROOT / "Makefile").read_text()
    )
    done = subprocess.run([str(FLEET), "--help"], capture_output=True, text=True, check=True)
    assert "usage: fleet" in done.stdout


def test_readme_first_run_names_each_step_that_is_tested_here() -> None:
    section = README.split("## First run", 1)[1].split("\n## ", 1)[0]
    for step in (
        "fleet render -s staging",
        "fleet check -s staging",
        "fleet init -s staging",
        "fleet init -s staging --keep-in-env",
        "fleet preview -s staging",
        "fleet up -s staging",
    ):
        assert f"`{step}" in section, step


@pytest.mark.parametrize("route", ["stored", "environment"])
def test_first_run_from_a_fresh_clone(tmp_path: Path, route: str) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli, FLEET_SCHEMAS_DIR=str(schemas.schemas_dir()))

    rendered = fleet(project, env, "render", "-s", "staging", "--out", str(tmp_path / "r"))
    assert rendered.returncode == 0, rendered.stderr
    checked = fleet(project, env, "check", "-s", "staging")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert cli.calls() == [], "render and check need no CLI"

    tokens = fake_pulumi.token_env()
    if route == "stored":
        # Tokens given once to init, then gone from the environment: the stack file holds them.
        init = fleet(project, {**env, **tokens}, "init", "-s", "staging")
        run_env = env
    else:
        init = fleet(project, {**env, **tokens}, "init", "-s", "staging", "--keep-in-env")
        run_env = {**env, **tokens}
    assert init.returncode == 0, init.stderr
    previewed = fleet(project, run_env, "preview", "-s", "staging")
    assert previewed.returncode == 0, previewed.stderr
    assert "## Fleet preview" in previewed.stdout, "the review summary follows the CLI's output"
    applied = fleet(project, run_env, "up", "-s", "staging", "--yes")
    assert applied.returncode == 0, applied.stderr

    calls = cli.calls()
    verbs = [c.argv for c in calls if c.argv[0] != "config"]
    assert verbs == [
        ["stack", "select", "--create", "staging"],
        ["stack", "select", "--create", "staging"],
        ["preview", "--diff", "--policy-pack", "policy", "--stack", "staging"],
        ["preview", "--json", "--policy-pack", "policy", "--stack", "staging"],
        ["stack", "select", "--create", "staging"],
        ["up", "--policy-pack", "policy", "--stack", "staging", "--yes"],
    ]
    for call in calls:
        assert call.cwd == project
        assert not any(t in " ".join(call.argv) for t in tokens.values() if t.startswith("github"))
    stored = [c.argv[3] for c in calls if "--secret" in c.argv]
    assert stored == (["platformToken", "appsToken", "appsPushToken"] if route == "stored" else [])


def test_a_new_user_with_nothing_set_is_told_what_to_do_for_each_problem(tmp_path: Path) -> None:
    project = fake_pulumi.checkout(tmp_path)
    (project / "policy" / "venv" / "bin" / "python").unlink()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = fleet(project, env, "preview", "-s", "staging")
    assert result.returncode == 2
    problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert len(problems) >= 5, result.stderr
    remedy = re.compile(r"run `|export |install it|set |add it")
    assert [p for p in problems if not remedy.search(p)] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up"], "name the stack: fleet up -s STACK"),
        (["render", "-s", "nope"], "no stack file"),
        (["render", "staging", "-s", "prod-eu"], "two stacks given"),
        (["init", "-s", "staging", "--project-dir", "/"], "holds no Pulumi.yaml"),
        (["render", "-s", "hub", "--project-dir", "tests/urns"], "holds no Pulumi.yaml"),
        (["check", "--bogus"], "unrecognized arguments: --bogus"),
        (["ephemeral"], "usage: fleet ephemeral"),
        (["ephemeral", "up", "--parallel", "0"], "is not a positive whole number"),
    ],
)
def test_bad_arguments_get_a_message_not_a_traceback(args: list[str], message: str) -> None:
    result = subprocess.run(
        [str(FLEET), *args], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_folder_of_stack_files_alone_is_told_how_to_run_them(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "hub" / "Pulumi.hub.yaml", tmp_path / "Pulumi.hub.yaml")
    result = subprocess.run(
        [str(FLEET), "render", "-s", "hub", "--project-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert f"cp {tmp_path / 'Pulumi.hub.yaml'} {ROOT}/" in result.stderr
    assert "examples/hub/Pulumi.yaml" in result.stderr, "or give it a Pulumi.yaml of its own"


def test_the_hub_example_renders_where_it_stands(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            str(FLEET),
            "render",
            "-s",
            "hub",
            "--project-dir",
            "examples/hub",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    for spoke in ("staging", "production"):
        assert (tmp_path / "kubernetes" / f"kustomization-{spoke}-apps.yaml").is_file()


def test_make_stack_targets_require_stack() -> None:
    for target in ("up", "preview", "init", "render"):
        result = subprocess.run(
            ["make", "-C", str(ROOT), "-n", target], capture_output=True, text=True, check=False
        )
        assert result.returncode != 0
        assert f"name the stack: make {target} STACK=<stack>" in result.stderr


def test_every_subcommand_has_help() -> None:
    from fleet import cli  # noqa: PLC0415

    root = cli.parser()
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in sub.choices.items():
        assert parser.description, name
        for action in parser._actions:
            assert action.help, f"{name} {action.dest}"


def test_render_and_check_print_the_programs_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fleet import cli  # noqa: PLC0415

    project = fake_pulumi.checkout(tmp_path)
    soon = (date.today() + timedelta(days=6)).isoformat()
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text(
        stack_file.read_text()
        + "  d1-fleet:platformToken:\n    secure: v1:fake\n"
        + f"  d1-fleet:platformTokenExpires: '{soon}'\n"
    )
    out = str(tmp_path / "r")
    assert cli.main(["render", "-s", "staging", "--project-dir", str(project), "--out", out]) == 0
    assert "staging: warning: d1-fleet:" in capsys.readouterr().err
    assert cli.main(["check", "-s", "staging", "--project-dir", str(project)]) == 0
    assert "staging: warning: d1-fleet:" in capsys.readouterr().err


def test_the_ephemeral_tool_is_a_subcommand_with_its_own_help() -> None:
    result = subprocess.run(
        [str(FLEET), "ephemeral", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "usage: fleet ephemeral" in result.stdout
    for sub in ("up", "verify", "down", "gc"):
        assert sub in result.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["up", "-s", "staging", "--target", "urn:x", "--yes"],
        ["up", "staging", "--target", "urn:x", "--yes"],
        ["up", "--target", "urn:x", "-s", "staging", "--yes"],
        ["up", "-s", "staging", "--", "--target", "urn:x", "--yes"],
    ],
)
def test_pulumi_arguments_pass_through_in_order_wherever_the_stack_is(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fleet import cli  # noqa: PLC0415

    seen: list[tuple[str, list[str]]] = []

    def record(args: argparse.Namespace) -> int:
        seen.append((args.stack, args.pulumi_args))
        return 0

    up = cli.COMMANDS["up"]
    fake = cli.Command(up.name, up.help, up.arguments, record)
    monkeypatch.setitem(cli.COMMANDS, "up", fake)
    assert cli.main(argv) == 0
    assert seen == [("staging", ["--target", "urn:x", "--yes"])]


def test_a_stack_file_that_is_not_yaml_is_named_with_its_line(tmp_path: Path) -> None:
    project = fake_pulumi.checkout(tmp_path)
    (project / "Pulumi.staging.yaml").write_text("config:\n  d1-fleet:environment: [staging\n")
    result = subprocess.run(
        [str(FLEET), "render", "-s", "staging", "--project-dir", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"{project / 'Pulumi.staging.yaml'} is not valid YAML at line 3" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_without_a_stack_checks_every_cluster_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fleet import cli  # noqa: PLC0415
    from fleet.tools.offline import stacks  # noqa: PLC0415

    project = fake_pulumi.checkout(tmp_path)
    shutil.copy(project / "Pulumi.staging.yaml", project / "Pulumi.eph-1-0.yaml")
    assert cli.main(["check", "--project-dir", str(project)]) == 0
    out = capsys.readouterr().out
    checked = sorted(re.findall(r"^([\w-]+): \d+ objects", out, re.M))
    assert checked == stacks.listing(project)["all"] == ["prod-eu", "staging"]
