"""`make mutate`: mutmut on the modules a change touches (or those named), with their area's tests.

- Modules: the `fleet/` Python files changed since the branch left `main` (committed or not), or
  the files and folders named on the command line.
- Tests: per module, the test files that import it or are named after it (`test_<name>.py`, the
  name's first word for `status_read`, a plural for `spoke_plan`), and for a module that declares
  resources (`fleet/program/` outside `config/`) the URN guard; `--tests` replaces them.
- Mutants: every mutant of the modules, or those named with `--mutants` (as the report names them,
  or shell-style patterns), to check survivors again after a test is written.
- mutmut 3 reads its settings from pyproject.toml and writes `mutants/` beside it, so it runs in a
  scratch copy of the checkout (tracked and untracked, not ignored, files) in the user's cache,
  its `mutants/` wiped first: every run starts clean and no result outlives the code it judged.
- Budget: after `--budget` seconds mutmut is interrupted; the mutants it had not run are counted
  as such, never as killed.

Kill rate: killed (a test failed, or the tests ran out of time) over every mutant that ran; a
mutant no test reaches counts as a survivor.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Final, TextIO

from fleet.cli.options import positive
from mutation import registrations

ROOT: Final = Path(__file__).resolve().parents[1]
PACKAGE: Final = "fleet"
BASE: Final = "main"
# mutmut names a mutant `<module>.x_<function>__mutmut_<n>` (a method: `<module>.xǁ<Class>ǁ<name>`).
MUTANT: Final = "__mutmut_"
DETECTED: Final = frozenset({"killed", "timeout", "caught by type check"})
NOT_RUN: Final = frozenset({"not checked", "check was interrupted by user", "skipped"})
GRACE_SECONDS: Final = 60
# mutmut 3.8's words when `run` is given names that match no mutant.
NOTHING_MATCHES: Final = "Filtered for specific mutants, but nothing matches"
# A module that declares resources moves a URN when a type token, name or parent changes, which the
# URN guard alone notices (the area's own tests look resources up by type and name).
DECLARING: Final = Path(PACKAGE, "program")
NOT_DECLARING: Final = Path(PACKAGE, "program", "config")
URN_GUARD: Final = Path("tests", "test_urns.py")


class MutationError(Exception):
    """The run cannot start or mutmut failed; the message says why."""


def git(*args: str, root: Path = ROOT) -> list[str]:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise MutationError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return [line for line in done.stdout.splitlines() if line]


def changed_modules(root: Path = ROOT, base: str = BASE) -> list[Path]:
    """The `fleet/` modules that differ from where the branch left `base`, work tree included."""
    [fork] = git("merge-base", base, "HEAD", root=root)
    names = git("diff", "--name-only", fork, root=root)
    names += git("ls-files", "--others", "--exclude-standard", root=root)
    # A module the change deleted has nothing left to mutate.
    return modules(root, [name for name in names if (root / name).exists()])


def modules(root: Path, names: Iterable[str]) -> list[Path]:
    """The Python files of `fleet/` among `names` (files, or folders taken whole), relative."""
    found: set[Path] = set()
    for name in names:
        path = (root / name).resolve()
        if path.is_dir():
            found |= {p.relative_to(root) for p in path.rglob("*.py")}
        elif path.is_file():
            if path.suffix == ".py":
                found.add(path.relative_to(root))
        else:
            raise MutationError(f"{name}: no such file or folder")
    return sorted(p for p in found if p.parts[0] == PACKAGE)


def module_name(path: Path) -> str:
    """`fleet/a/b.py` -> `fleet.a.b`; a package's `__init__.py` is the package itself."""
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_module(source: str, module: str) -> bool:
    """Whether Python `source` imports `module` (`import a.b`, `from a.b import x`, `from a import b`)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    package, _, leaf = module.rpartition(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == module for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == module:
                return True
            if node.module == package and any(a.name == leaf for a in node.names):
                return True
    return False


def named_after(test: Path, module: Path) -> bool:
    """`test_<stem>.py`, or the stem's first word (`status_read`), or either as a plural; a module
    of a package (`config/rules/cluster.py`) is also its package's (`test_rules.py`)."""
    stems = {module.stem, module.parent.name}
    if module.stem == "__init__":
        stems = {module.parent.name}
    wanted = set()
    for stem in stems:
        first = stem.split("_", 1)[0]
        wanted |= {stem, first, f"{stem}s", f"{first}s"}
    return test.stem.removeprefix("test_") in wanted


def declares_resources(module: Path) -> bool:
    """A module of the program's components (`fleet/program/`, not its config checks)."""
    return DECLARING in module.parents and NOT_DECLARING not in module.parents


def area_tests(root: Path, module: Path) -> list[Path]:
    """The test files of `module`'s area: those that import it or are named after it, and the URN
    guard for a module that declares resources."""
    name = module_name(module)
    real_engine = root / "tests" / "real_engine"
    found = []
    for test in sorted((root / "tests").rglob("test_*.py")):
        if real_engine in test.parents:
            continue  # the real-engine tier skips without its binaries: it kills nothing here
        relative = test.relative_to(root)
        if (
            named_after(test, module)
            or imports_module(test.read_text(), name)
            or (relative == URN_GUARD and declares_resources(module))
        ):
            found.append(relative)
    return found


def scratch_dir(root: Path, targets: Sequence[Path]) -> Path:
    """A folder of the user's cache keyed by the checkout's path and the modules mutated: two
    worktrees, or two runs on different modules, never share one."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    key = hashlib.sha256(repr((str(root), sorted(map(str, targets)))).encode()).hexdigest()[:12]
    return cache / "fleet-mutation" / key


def sync(root: Path, scratch: Path) -> list[str]:
    """Copy the checkout's files into `scratch` with no `mutants/`; the top-level names copied."""
    shutil.rmtree(scratch / "mutants", ignore_errors=True)
    files = git("ls-files", "--cached", "--others", "--exclude-standard", root=root)
    for name in files:
        source = root / name
        if not source.is_file():
            continue
        target = scratch / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copy2(source, target)
    return sorted({Path(name).parts[0] for name in files})


def settings(targets: Sequence[Path], tests: Sequence[Path], top_level: Sequence[str]) -> str:
    """The `[tool.mutmut]` table for one run (mutmut 3.8 option names)."""
    # mutmut copies the source folder itself, and tests/ and pyproject.toml by default.
    also_copy = [name for name in top_level if name not in (PACKAGE, "tests", "pyproject.toml")]

    def toml_list(values: Iterable[str]) -> str:
        return "[" + ", ".join(f'"{v}"' for v in values) + "]"

    return "\n".join(
        [
            "",
            "[tool.mutmut]",
            f'source_paths = ["{PACKAGE}"]',
            f"only_mutate = {toml_list(str(t) for t in targets)}",
            f"also_copy = {toml_list(also_copy)}",
            f"pytest_add_cli_args_test_selection = {toml_list(str(t) for t in tests)}",
            'pytest_add_cli_args = ["-p", "no:cacheprovider"]',
            "",
        ]
    )


def unwrap_registrations(scratch: Path, targets: Sequence[Path]) -> list[Path]:
    """Rewrite the targets' registering decorators as calls in the scratch copy (mutmut skips
    decorated functions); the modules rewritten."""
    rewritten = []
    for target in targets:
        path = scratch / target
        text = path.read_text()
        plain = registrations.as_calls(text)
        if plain != text:
            path.write_text(plain)
            rewritten.append(target)
    return rewritten


def configure(scratch: Path, root: Path, table: str) -> None:
    original = (root / "pyproject.toml").read_text()
    (scratch / "pyproject.toml").write_text(original + table)


def run_mutmut(
    scratch: Path,
    budget: int,
    children: int,
    env: Mapping[str, str],
    log: Path,
    *,
    mutants: Sequence[str] = (),
) -> bool:
    """Run mutmut (on `mutants` alone when named), interrupted after `budget` seconds; True when
    it finished within it."""
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *mutants]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=scratch,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=budget)
        except subprocess.TimeoutExpired:
            # mutmut saves each result as it comes and stops cleanly on an interrupt.
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            return False
    if code != 0:
        text = log.read_text()
        if mutants and NOTHING_MATCHES in text:
            raise MutationError(
                f"no mutant matches --mutants {' '.join(mutants)}; "
                "name them as the report does (module.x_function__mutmut_N) or by pattern"
            )
        tail = text.splitlines()[-15:]
        raise MutationError("mutmut run failed:\n" + "\n".join(tail))
    return True


def mutmut(scratch: Path, env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", *args],
        cwd=scratch,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise MutationError(f"mutmut {' '.join(args)}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def parse_results(text: str) -> dict[str, str]:
    """`mutmut results --all true`: one `    <mutant>: <status>` line per mutant."""
    found = {}
    for line in text.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and MUTANT in name:
            found[name] = status
    return found


def rates(results: Mapping[str, str]) -> dict[str, Counter[str]]:
    """Per module: how many mutants ended in each status."""
    by_module: dict[str, Counter[str]] = {}
    for name, status in results.items():
        module = name.partition(MUTANT)[0].rpartition(".")[0]
        by_module.setdefault(module, Counter())[status] += 1
    return by_module


def kill_rate(counts: Counter[str]) -> tuple[int, int]:
    """(detected, ran): mutants a test caught, and every mutant that was run."""
    ran = sum(n for status, n in counts.items() if status not in NOT_RUN)
    detected = sum(counts[status] for status in DETECTED)
    return detected, ran


def report(
    results: Mapping[str, str], diffs: Mapping[str, str], finished: bool, out: TextIO
) -> None:
    out.write("\nmodule                                   killed  survived  not run  kill rate\n")
    for module, counts in sorted(rates(results).items()):
        detected, ran = kill_rate(counts)
        not_run = sum(counts[s] for s in NOT_RUN)
        rate = f"{100 * detected / ran:5.1f}%" if ran else "    -"
        out.write(f"{module:40} {detected:7} {ran - detected:9} {not_run:8}  {rate}\n")
    if not finished:
        out.write("\nthe budget ran out: the mutants not run are neither killed nor survivors\n")
    survivors = sorted(n for n, s in results.items() if s not in DETECTED | NOT_RUN)
    out.write(f"\n{len(survivors)} survivor(s)\n")
    for name in survivors:
        out.write(f"\n{name}: {results[name]}\n{diffs.get(name, '').rstrip()}\n")


def arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mutation", description=__doc__.split("\n")[0])
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"files or folders of {PACKAGE}/ (default: the change against {BASE})",
    )
    parser.add_argument(
        "--base", default=BASE, help=f"the branch a change is measured against (default: {BASE})"
    )
    parser.add_argument(
        "--tests", nargs="+", metavar="TEST", help="test files to run instead of the area's"
    )
    parser.add_argument(
        "--budget",
        type=positive,
        default=1800,
        help="seconds before mutmut is stopped (default: 1800)",
    )
    parser.add_argument("--jobs", type=positive, default=2, help="mutants run at once (default: 2)")
    parser.add_argument(
        "--mutants",
        nargs="+",
        metavar="NAME",
        default=[],
        help="run these mutants alone, named as the report names them or by shell-style pattern",
    )
    return parser


def main(argv: Sequence[str], root: Path = ROOT, out: TextIO = sys.stdout) -> int:
    args = arguments().parse_args(argv)
    try:
        targets = modules(root, args.paths) if args.paths else changed_modules(root, args.base)
        if not targets:
            out.write(f"nothing to mutate: no module of {PACKAGE}/ changed against {args.base}\n")
            return 0
        tests = (
            [Path(t) for t in args.tests]
            if args.tests
            else sorted({t for module in targets for t in area_tests(root, module)})
        )
        if not tests:
            raise MutationError(
                f"no tests found for {', '.join(map(str, targets))}; name them with --tests"
            )
        out.write(f"mutating {', '.join(map(str, targets))}\nwith {', '.join(map(str, tests))}\n")
        scratch = scratch_dir(root, targets)
        top_level = sync(root, scratch)
        unwrap_registrations(scratch, targets)
        configure(scratch, root, settings(targets, tests, top_level))
        env = dict(os.environ)
        env.setdefault("FLEET_SCHEMAS_DIR", str(root / ".schemas"))
        log = scratch / "mutmut.log"
        out.write(f"mutmut runs in {scratch} (log: {log}), budget {args.budget}s\n")
        out.flush()
        finished = run_mutmut(scratch, args.budget, args.jobs, env, log, mutants=args.mutants)
        results = parse_results(mutmut(scratch, env, "results", "--all", "true"))
        diffs = {
            name: mutmut(scratch, env, "show", name)
            for name, status in results.items()
            if status not in DETECTED | NOT_RUN
        }
    except MutationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report(results, diffs, finished, out)
    return 0
