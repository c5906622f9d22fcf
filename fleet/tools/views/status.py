"""`python -m fleet status`: the whole fleet at a glance, read from every cluster stack's state.

Reading is `status_read`, showing is `status_render`; this module is the command between them: which
stacks, which reader, progress on a terminal, and the exit code.

Exit codes: 0 no stack needs action; 1 at least one does (a credential expired or inside the
program's warning window, an App key due for rotation, a failed last update, drift or a failed
drift check, Flux not Ready at the last record, never deployed, state unreadable); 2 usage errors
(unknown stack, no Pulumi CLI, no such drift folder).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from fleet.engine import cli
from fleet.tools.offline import stacks
from fleet.tools.views import status_render
from fleet.tools.views.status_read import CliReader, collect, declared


@dataclass
class TtyProgress:
    """`reading stack state [3/20] staging` on one rewritten line, cleared at the end."""

    stream: TextIO
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, done: int, total: int, stack: str) -> None:
        with self._lock:
            self.stream.write(f"\r\033[Kreading stack state [{done}/{total}] {stack}")
            if done == total:
                self.stream.write("\r\033[K")
            self.stream.flush()


def use_colour(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour on a terminal only, and never with NO_COLOR set (https://no-color.org)."""
    return stream.isatty() and not env.get("NO_COLOR")


def run(
    args: argparse.Namespace,
    env: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    today: date | None = None,
) -> int:
    """Read every stack's state with the Pulumi CLI, print the report, exit 1 if any needs action."""
    run_env = dict(os.environ if env is None else env)
    out = out or sys.stdout
    err = err or sys.stderr
    project_dir: Path = args.project_dir
    known = stacks.listing(project_dir)["all"]
    names: list[str] = [*args.stacks, *getattr(args, "stack_list", [])] or known
    unknown = [name for name in names if name not in known]
    if unknown:
        print(
            f"error: no stack file for {', '.join(unknown)}; known stacks: {', '.join(known)}",
            file=err,
        )
        return 2
    if args.drift is not None and not args.drift.is_dir():
        print(f"error: --drift {args.drift}: not a folder", file=err)
        return 2
    pulumi = cli.find(run_env)
    if pulumi is None:
        print(f"error: {cli.NOT_ON_PATH}", file=err)
        return 2
    run_env.setdefault("PULUMI_SKIP_UPDATE_CHECK", "true")
    # Days count in UTC, as the program counts them and the history records times.
    now = datetime.now(UTC)
    # The CLI runs in the project folder and so finds the backend `fleet up` uses
    # (PULUMI_BACKEND_URL, else Pulumi.yaml's backend.url: `fleet.engine.backend`).
    statuses = collect(
        names,
        CliReader(pulumi, project_dir, run_env),
        {name: declared(project_dir, name) for name in names},
        today or now.date(),
        drift_dir=args.drift,
        jobs=args.jobs,
        progress=TtyProgress(err) if err.isatty() else None,
    )
    if args.json:
        out.write(status_render.as_json(statuses, now) + "\n")
    elif args.markdown:
        out.write(status_render.as_markdown(statuses, now))
    else:
        out.write(status_render.as_table(statuses, colour=use_colour(out, run_env)))
    return 1 if any(s.problems for s in statuses) else 0
