"""`python -m benchmarks`: the program against its floor, and `fleet render` / `fleet check`.

For each workload (a generated stack), runs the real program and the floor program
(`benchmarks.floor`) in alternating order, `--pairs` times, each run in its own process; then once
each: the program with the interpreter's default collector thresholds, `fleet render` and
`fleet check`. Machines are noisy, so the ratio of each back-to-back pair counts, not the times.
Writes `<out>.json` (every run and the summaries) and `<out>.md` (the tables), and prints the
tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import report, workloads

ROOT = Path(__file__).resolve().parent.parent


def _run(kind: str, case: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", kind, str(case)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} run failed in {case}:\n{done.stdout}\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench(
    workload: workloads.Workload, pairs: int, tools: bool, gc_default: bool, work: Path
) -> tuple[report.Summary, list[dict[str, Any]]]:
    case = work / workload.name
    workloads.prepare(workload, ROOT, case)
    _run("plan", case)
    measured: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for i in range(pairs):
        if i % 2 == 0:
            program = _run("program", case)
            floor = _run("floor", case)
        else:
            floor = _run("floor", case)
            program = _run("program", case)
        measured.append((program, floor))
        print(
            f"  {workload.name} pair {i + 1}: program {program['eval_s']:.2f}s, "
            f"floor {floor['eval_s']:.2f}s",
            file=sys.stderr,
        )
    others = []
    if gc_default:
        others.append(_run("program-gc-default", case))
    if tools:
        others += [_run("render", case), _run("check", case)]
    runs = [{"workload": workload.name, **r} for pair in measured for r in pair]
    runs += [{"workload": workload.name, **r} for r in others]
    return report.summarise(workload.name, workload.label, measured, others), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="every size (2, 20, 200, 1000 tenants; 50x50, 200x200) and 3 pairs; several minutes",
    )
    parser.add_argument(
        "--workloads", help="comma-separated, e.g. t2,t200,t50xc50 (overrides the mode)"
    )
    parser.add_argument(
        "--pairs", type=int, help="program/floor pairs per workload (quick: 2, full: 3)"
    )
    parser.add_argument("--no-tools", action="store_true", help="skip fleet render and fleet check")
    parser.add_argument(
        "--no-gc-default",
        action="store_true",
        help="skip the run with default collector thresholds",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("bench/results"), help="results path without suffix"
    )
    args = parser.parse_args(argv)
    chosen = (
        [workloads.by_name(n) for n in args.workloads.split(",")]
        if args.workloads
        else list(workloads.FULL if args.full else workloads.QUICK)
    )
    pairs = args.pairs or (3 if args.full else 2)
    started = time.perf_counter()
    summaries: list[report.Summary] = []
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as work:
        for workload in chosen:
            print(f"{workload.label} ...", file=sys.stderr)
            summary, measured = bench(
                workload, pairs, not args.no_tools, not args.no_gc_default, Path(work)
            )
            summaries.append(summary)
            runs.extend(measured)
    table = report.markdown(summaries)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(table)
    args.out.with_suffix(".json").write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
                "pairs": pairs,
                "seconds": time.perf_counter() - started,
                "summaries": [s.as_dict() for s in summaries],
                "runs": runs,
            },
            indent=2,
        )
    )
    print(table)
    print(
        f"{len(runs)} runs in {time.perf_counter() - started:.0f}s; "
        f"results in {args.out.with_suffix('.json')} and {args.out.with_suffix('.md')}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
