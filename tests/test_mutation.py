"""`make mutate`'s runner: which modules and tests a run takes, the settings mutmut reads, the report.

mutmut itself is not run here (minutes per module, and not installed by `make venv`): its result
lines are given in the format `mutmut results --all true` prints them (mutmut 3.8).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mutation import registrations, run
from tests.helpers import ROOT


def test_mutation_area_tests_are_the_importers_and_the_namesakes() -> None:
    def area(module: str) -> set[str]:
        return {str(t) for t in run.area_tests(ROOT, Path(module))}

    assert {"tests/test_review.py", "tests/test_deploy.py"} <= area("fleet/tools/views/review.py")
    # Named after the first word of the module, and after its plural.
    assert "tests/test_status.py" in area("fleet/tools/views/status_read.py")
    assert "tests/test_spokes.py" in area("fleet/program/spokes.py")
    # A module that declares resources is the URN guard's too; its config checks are not.
    assert "tests/test_urns.py" in area("fleet/program/spokes.py")
    assert "tests/test_urns.py" in area("fleet/program/platform.py")
    assert "tests/test_urns.py" not in area("fleet/program/config/rules/cluster.py")
    assert "tests/test_urns.py" not in area("fleet/tools/views/review.py")
    # A package's module is its package's too; the package is its __init__.py.
    assert "tests/config/test_rules.py" in area("fleet/program/config/rules/cluster.py")
    assert "tests/config/test_rules.py" in area("fleet/program/config/rules/__init__.py")
    assert "tests/test_adopt.py" not in area("fleet/tools/views/review.py")
    # The real-engine tier is skipped without its binaries, so it is no area's.
    assert not [t for t in area("fleet/tools/views/status_read.py") if "real_engine" in t]


def test_mutation_imports_are_read_from_the_syntax_tree() -> None:
    module = "fleet.tools.review"
    assert run.imports_module("from fleet.tools import cli, review\n", module)
    assert run.imports_module("from fleet.tools.review import Op\n", module)
    assert run.imports_module("import fleet.tools.review\n", module)
    # A module whose name shares the prefix is another module.
    assert not run.imports_module("from fleet.tools import review_extra\n", module)
    assert not run.imports_module("# from fleet.tools import review\n", module)


def test_mutation_modules_are_the_fleet_python_files_named(tmp_path: Path) -> None:
    assert run.modules(ROOT, ["fleet/program/config"]) == sorted(
        p.relative_to(ROOT) for p in (ROOT / "fleet/program/config").rglob("*.py")
    )
    assert run.modules(ROOT, ["README.md", "tests/test_review.py"]) == []
    with pytest.raises(run.MutationError, match="no such file"):
        run.modules(ROOT, ["fleet/tools/nope.py"])


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def commit(repo: Path, message: str, *flags: str) -> None:
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", *flags, "-m", message)


def test_mutation_change_is_measured_from_where_the_branch_left_main(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "fleet").mkdir(parents=True)
    for name in ("kept.py", "edited.py", "deleted.py"):
        (repo / "fleet" / name).write_text("X = 1\n")
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "0", "--allow-empty")
    git(repo, "add", ".")
    commit(repo, "1")
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "fleet" / "edited.py").write_text("X = 2\n")
    (repo / "fleet" / "deleted.py").unlink()
    (repo / "fleet" / "new.py").write_text("Y = 1\n")
    # A later commit on main is not part of this change.
    git(repo, "checkout", "-q", "main")
    commit(repo, "2", "--allow-empty")
    git(repo, "checkout", "-q", "topic")
    assert run.changed_modules(repo) == [Path("fleet/edited.py"), Path("fleet/new.py")]


def test_mutation_settings_are_the_table_mutmut_reads() -> None:
    table = run.settings(
        [Path("fleet/tools/review.py")],
        [Path("tests/test_review.py")],
        ["Pulumi.yaml", "examples", "fleet", "pyproject.toml", "tests"],
    )
    parsed = tomllib.loads((ROOT / "pyproject.toml").read_text() + table)["tool"]["mutmut"]
    assert parsed["source_paths"] == ["fleet"]
    assert parsed["only_mutate"] == ["fleet/tools/review.py"]
    assert parsed["pytest_add_cli_args_test_selection"] == ["tests/test_review.py"]
    # The program's tests read the stack files and examples: copied beside the mutants.
    assert parsed["also_copy"] == ["Pulumi.yaml", "examples"]


RESULTS = """\
    fleet.tools.review.x_parse__mutmut_1: killed
    fleet.tools.review.x_parse__mutmut_2: survived
    fleet.tools.review.xǁPreviewǁlabel__mutmut_1: timeout
    fleet.tools.review.x__gate__mutmut_4: no tests
    fleet.tools.status_read.x_credentials__mutmut_1: killed
    fleet.tools.status_read.x_credentials__mutmut_2: not checked
"""


def test_mutation_kill_rate_counts_what_ran_and_calls_untested_mutants_survivors() -> None:
    found = run.parse_results(RESULTS)
    assert found["fleet.tools.review.xǁPreviewǁlabel__mutmut_1"] == "timeout"
    by_module = run.rates(found)
    assert run.kill_rate(by_module["fleet.tools.review"]) == (2, 4)
    assert run.kill_rate(by_module["fleet.tools.status_read"]) == (1, 1)
    assert run.kill_rate(Counter()) == (0, 0)


def test_mutation_report_lists_each_survivor_with_its_diff() -> None:
    out = io.StringIO()
    results = run.parse_results(RESULTS)
    run.report(results, {"fleet.tools.review.x_parse__mutmut_2": "-    a\n+    b\n"}, False, out)
    text = out.getvalue()
    table = {line.split()[0]: line.split()[1:] for line in text.splitlines() if "%" in line}
    assert table["fleet.tools.review"] == ["2", "2", "0", "50.0%"]
    assert table["fleet.tools.status_read"] == ["1", "0", "1", "100.0%"]
    assert "the budget ran out" in text
    assert "2 survivor(s)" in text
    assert "fleet.tools.review.x_parse__mutmut_2: survived\n-    a\n+    b\n" in text
    assert "fleet.tools.review.x__gate__mutmut_4: no tests" in text


def test_mutation_is_not_part_of_make_test_or_ci() -> None:
    makefile = (ROOT / "Makefile").read_text()
    [test_rule] = [line for line in makefile.splitlines() if line.startswith("test:")]
    assert "mutate" not in test_rule
    assert "mutate" not in (ROOT / ".ci/run").read_text()
    assert "mutmut" not in (ROOT / "requirements-dev.txt").read_text()


def test_mutation_runs_on_other_modules_or_checkouts_never_share_a_scratch_folder() -> None:
    review = [Path("fleet/tools/review.py")]
    assert run.scratch_dir(ROOT, review) == run.scratch_dir(ROOT, list(review))
    assert run.scratch_dir(ROOT, review) != run.scratch_dir(ROOT, [Path("fleet/tools/adopt.py")])
    assert run.scratch_dir(ROOT, review) != run.scratch_dir(ROOT / "other", review)


@pytest.mark.parametrize("flag", ["--budget", "--jobs"])
@pytest.mark.parametrize("value", ["0", "-5", "soon"])
def test_mutation_budget_and_jobs_refuse_what_is_not_a_positive_count(
    flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run.arguments().parse_args(["fleet/engine/cli.py", flag, value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert flag in err
    assert f"{value!r} is not a positive whole number" in err


SAMPLE = '''
from registry import RULES, other

@RULES.reads("a")
def first(v):
    return v + 1

@other
def left_alone(v):
    return v

@RULES.reads(
    "b",
    "c",
)
def second(v):
    """Spans lines."""
    return v * 2
'''


def test_mutation_writes_registering_decorators_as_calls_in_the_same_order() -> None:
    plain = registrations.as_calls(SAMPLE)
    assert "@RULES" not in plain
    assert "@other\ndef left_alone" in plain, "other decorators may change the function: kept"
    registered: list[tuple[tuple[str, ...], object]] = []

    class Registry:
        def reads(self, *names: str) -> Any:
            def register(check: Any) -> Any:
                registered.append((names, check))
                return check

            return register

    namespace: dict[str, Any] = {}
    exec(  # the sample above, rewritten
        compile(plain.replace("from registry import RULES, other\n", ""), "sample", "exec"),
        {"RULES": Registry(), "other": lambda f: f},
        namespace,
    )
    assert [(names, check.__name__) for names, check in registered] == [  # type: ignore[attr-defined]
        (("a",), "first"),
        (("b", "c"), "second"),
    ]
    assert namespace["first"](1) == 2
    assert namespace["second"](3) == 6


def test_mutation_unwraps_every_check_of_the_rules_package_and_nothing_else(
    tmp_path: Path,
) -> None:
    rules = sorted((ROOT / "fleet" / "program" / "config" / "rules").glob("*.py"))
    targets = [p.relative_to(ROOT) for p in rules]
    for target in targets:
        (tmp_path / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / target, tmp_path / target)
    rewritten = run.unwrap_registrations(tmp_path, targets)
    assert rewritten == [t for t in targets if "@RULES.reads" in (ROOT / t).read_text()]
    for target in targets:
        text = (tmp_path / target).read_text()
        assert "@RULES.reads" not in text
        before = (ROOT / target).read_text().count("@RULES.reads(")
        assert text.count(" = RULES.reads(") == before
        compile(text, str(target), "exec")


STAND_IN_MUTMUT = """#!/bin/sh
# A stand-in for `python -m mutmut`: records its arguments, answers `results` and `show`, and
# fails as mutmut 3.8 does when `run` is given a name that matches no mutant.
echo "$*" >> "$CALLS"
case "$*" in
  *"run --max-children"*nothing*)
    echo "AssertionError: Filtered for specific mutants, but nothing matches"; exit 1 ;;
esac
case "$3" in
  results) printf '    fleet.engine.cli.x_find__mutmut_1: survived\\n'
           printf '    fleet.engine.cli.x_find__mutmut_2: not checked\\n' ;;
  show) echo "-    return shutil.which(...)" ;;
esac
"""


@pytest.fixture
def stand_in_mutmut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The runner's `python -m mutmut` answered by the stand-in; the file its calls go to."""
    python = tmp_path / "python"
    python.write_text(STAND_IN_MUTMUT)
    python.chmod(0o755)
    calls = tmp_path / "calls"
    monkeypatch.setattr(sys, "executable", str(python))
    monkeypatch.setenv("CALLS", str(calls))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return calls


def test_mutation_named_mutants_alone_are_run_and_reported(
    stand_in_mutmut: Path,
) -> None:
    calls = stand_in_mutmut
    out = io.StringIO()
    name = "fleet.engine.cli.x_find__mutmut_1"
    argv = [
        "fleet/engine/cli.py",
        "--tests",
        "tests/test_cli.py",
        "--mutants",
        name,
        "--budget",
        "60",
    ]
    assert run.main(argv, out=out) == 0
    [mutmut_run, *_] = calls.read_text().splitlines()
    assert mutmut_run == f"-m mutmut run --max-children 2 {name}"
    report = out.getvalue()
    assert f"{name}: survived\n-    return shutil.which(...)" in report
    # The mutant not named is not run: neither killed nor a survivor.
    [row] = [line for line in report.splitlines() if line.startswith("fleet.engine.cli ")]
    assert row.split() == ["fleet.engine.cli", "0", "1", "1", "0.0%"]


def test_mutation_make_target_passes_its_variables_quoted() -> None:
    done = subprocess.run(
        [
            "make",
            "-n",
            "mutate",
            "PKG=fleet/program/spoke_plan.py",
            "BUDGET=60",
            "MUTANTS=a.x_f* b",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "FLEET_SCHEMAS_DIR": "/nonexistent"},
    )
    [command] = [line for line in done.stdout.splitlines() if "-m mutation" in line]
    # Quoted, so the shell leaves a pattern to mutmut instead of matching files with it.
    assert command.endswith(
        "-m mutation fleet/program/spoke_plan.py --budget 60 --mutants 'a.x_f*' 'b'"
    )


def test_mutation_names_that_match_no_mutant_are_refused_clearly(
    stand_in_mutmut: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["fleet/engine/cli.py", "--tests", "tests/test_cli.py", "--mutants", "nothing.here"]
    assert run.main(argv, out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "error: no mutant matches --mutants nothing.here; name them as the report"
    )
