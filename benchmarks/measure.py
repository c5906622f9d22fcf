"""One measured run in a fresh interpreter: `python -m benchmarks.measure KIND CASE_DIR`.

Each run gets its own process so imports, memory peaks and collector state never carry over.
Kinds: `plan` (one untimed program run that writes the plan the floor replays), `program` (the project's `__main__.py` under the mock runtime), `program-gc-default`
(the same with the interpreter's default collector thresholds), `floor` (`benchmarks.floor`
replaying the program's plan), `render` and `check` (`python -m fleet render|check`). The harness
(Pulumi's mock runtime) is loaded before the clock starts; the run's own imports are timed apart
from its evaluation. Prints one JSON object on the last line of stdout.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import importlib.util
import io
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import floor
from fleet.tools.offline import mock

KINDS = ("plan", "program", "program-gc-default", "floor", "render", "check")
CONFIG_FILE = "config.json"
PLAN_FILE = "plan.json"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _main_imports(main: Path) -> list[str]:
    """Modules `__main__.py` imports at its top level."""
    names: list[str] = []
    for node in ast.parse(main.read_text()).body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module != "__future__":
            names.append(node.module)
            spec = importlib.util.find_spec(node.module)
            if spec is not None and spec.submodule_search_locations is not None:
                # `from package import module` imports the module too.
                names.extend(
                    f"{node.module}.{alias.name}"
                    for alias in node.names
                    if importlib.util.find_spec(f"{node.module}.{alias.name}") is not None
                )
    return names


class _CollectorClock:
    """Time spent in garbage collections while installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections += 1


def _prepare(
    kind: str, case: Path
) -> tuple[list[str], Callable[[], None] | None, Callable[[], int]]:
    """The modules a run imports, its untimed setup after them, and the run itself.

    The run returns how many resources (or objects, for render and check) it handled.
    """
    project = case / "project"
    config = json.loads((case / CONFIG_FILE).read_text())
    stack = config["stack"]

    def run_program() -> int:
        recording = mock.run_main(
            project,
            config=config["config"],
            stack_name=stack,
            secret_keys=tuple(config["secret_keys"]),
        )
        if kind == "plan":
            (case / PLAN_FILE).write_text(json.dumps(floor.to_json(floor.plan_of(recording))))
        return len(recording.resources)

    if kind == "plan":
        return [], None, run_program
    plan = floor.from_json(json.loads((case / PLAN_FILE).read_text()))
    # The SDK loads its submodules on first use; both sides load the ones the stack uses up front.
    sdk_modules = sorted(floor.modules(plan))
    if kind == "program":
        return _main_imports(project / "__main__.py") + sdk_modules, None, run_program
    if kind == "program-gc-default":
        from fleet.program import collector  # noqa: PLC0415

        collector.for_registration = lambda: None
        return _main_imports(project / "__main__.py") + sdk_modules, None, run_program
    if kind == "floor":
        replay: list[Callable[[], None]] = []

        def run_floor() -> int:
            # The floor collects as the program does, so the ratio compares like with like.
            from fleet.program import collector  # noqa: PLC0415

            collector.for_registration()
            recording = mock.run(replay[0], config={}, stack_name=stack)
            return len(recording.resources)

        def setup() -> None:
            replay.append(floor.program(plan))

        return sorted(floor.modules(plan)), setup, run_floor
    if kind in ("render", "check"):
        # Loaded as in the program's runs, so render and check times compare with them.
        cli_args = [kind, stack, "--project-dir", str(project)]
        if kind == "render":
            cli_args += ["--out", str(case / "render")]

        def run_cli() -> int:
            from fleet import cli  # noqa: PLC0415

            with contextlib.redirect_stdout(io.StringIO()) as out:
                code = cli.main(cli_args)
            if code != 0:
                raise SystemExit(f"fleet {kind} exited {code}:\n{out.getvalue()}")
            if kind == "render":
                return len(list((case / "render" / "kubernetes").iterdir()))
            return int(out.getvalue().split(" objects")[0].split()[-1])

        modules = ["fleet.cli", *sdk_modules]
        if kind == "check":
            modules.append("fleet.tools.offline.conformance")
        return modules, None, run_cli
    raise SystemExit(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")


def measure(kind: str, case: Path) -> dict[str, Any]:
    """Import, then evaluate, one run of `kind`; times in seconds, memory in MB."""
    sys.path.insert(0, str(case / "project"))
    modules, setup, run = _prepare(kind, case)
    started = time.perf_counter()
    for module in modules:
        importlib.import_module(module)
    imported = time.perf_counter()
    rss_after_imports = _peak_mb()
    if setup is not None:
        setup()
    clock = _CollectorClock()
    gc.callbacks.append(clock)
    began = time.perf_counter()
    count = run()
    evaluated = time.perf_counter() - began
    gc.callbacks.remove(clock)
    return {
        "kind": kind,
        "count": count,
        "imports_s": imported - started,
        "eval_s": evaluated,
        "gc_s": clock.seconds,
        "collections": clock.collections,
        "rss_after_imports_mb": rss_after_imports,
        "peak_mb": _peak_mb(),
        "pulumi_github_loaded": "pulumi_github" in sys.modules,
    }


def main(argv: list[str]) -> int:
    kind, case = argv
    print(json.dumps(measure(kind, Path(case))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
