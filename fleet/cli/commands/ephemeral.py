"""`fleet ephemeral`: throwaway copies of a stack on test clusters, a nested group of the parser.

Steps: `up`, `verify`, `down`, `gc`, and `lifecycle` (the e2e scenario on a run's first stack).
Arguments, environment and exit codes are documented in docs/ephemeral-fleets.md; keep them in step.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import timedelta
from typing import Final

from fleet.cli import options
from fleet.tools.ephemeral import app, naming

NAME: Final = "ephemeral"
HELP: Final = (
    "create, verify and remove throwaway copies of a stack on test clusters (up|verify|down|gc)"
)


def _age(text: str) -> timedelta:
    try:
        return naming.parse_age(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    options.add_project_dir(common)
    common.add_argument(
        "--prefix", default=naming.DEFAULT_PREFIX, help="stack name prefix (default: eph)"
    )
    run_ = argparse.ArgumentParser(add_help=False)
    run_.add_argument("--run-id", help="run id (default: FLEET_RUN_ID, else GitHub's run)")
    checks = argparse.ArgumentParser(add_help=False)
    checks.add_argument(
        "--no-cluster-check",
        action="store_true",
        help="check stack outputs only, not the FluxInstance through kubectl",
    )
    checks.add_argument(
        "--ready-timeout", type=options.positive, default=300, help="seconds to wait for Ready"
    )
    checks.add_argument("--parallel", type=options.positive, default=4, help="stacks at a time")

    steps = parser.add_subparsers(
        dest="step", required=True, help="up, verify, down, gc or lifecycle (each has --help)"
    )
    up = steps.add_parser(
        "up", parents=[common, run_, checks], help="create, run and verify one stack per cluster"
    )
    up.add_argument("--base-stack", default="staging", help="stack whose config is copied")
    up.add_argument("--kube-context", action="append", default=[], help="a test cluster's context")
    up.add_argument("--kubeconfig", action="append", default=[], help="kubeconfig file(s)")
    up.add_argument("--destroy", action="store_true", help="always tear down at the end")
    up.add_argument("--no-verify", action="store_true", help="skip the verify step")
    steps.add_parser("verify", parents=[common, run_, checks], help="check a run's stacks")
    steps.add_parser("down", parents=[common, run_], help="destroy and remove a run's stacks")
    gc = steps.add_parser("gc", parents=[common], help="remove stale ephemeral stacks")
    gc.add_argument("--max-age", type=_age, default=timedelta(hours=6), help="e.g. 90m, 6h, 2d")
    gc.add_argument("--dry-run", action="store_true", help="list stale stacks, remove nothing")
    lifecycle = steps.add_parser(
        "lifecycle",
        parents=[common],
        help="the e2e scenario on a stack (default: the run's first): rotation, tenants, adopt",
    )
    options.add_stack(lifecycle, required=False)


def run(args: argparse.Namespace) -> int:
    return app.run(args)


def main(
    argv: Sequence[str] | None = None,
    world: app.World | None = None,
    prog: str = "python -m fleet.tools.ephemeral",
) -> int:
    """The group alone, as `python -m fleet.tools.ephemeral` and the tests run it."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Ephemeral test fleets of the d1 fleet."
    )
    arguments(parser)
    return app.run(parser.parse_args(argv), world)
