"""Command line of the ephemeral fleet: `fleet ephemeral up|verify|down|gc` (also
`python -m fleet.tools.ephemeral`).

Arguments, environment and exit codes are documented in docs/ephemeral-fleets.md; keep them in step.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pulumi import automation as auto

from fleet.program.config import keys
from fleet.tools import cli_args, stack_check
from fleet.tools.ephemeral import naming
from fleet.tools.ephemeral.backend import (
    PreflightError,
    StackFactory,
    automation_factory,
    backend_url,
    find_project,
    preflight,
)
from fleet.tools.ephemeral.console import Console
from fleet.tools.ephemeral.errors import describe
from fleet.tools.ephemeral.exit_codes import ExitCode, worst
from fleet.tools.ephemeral.overrides import (
    ClusterTarget,
    OverrideError,
    Tokens,
    dropped_secrets,
    load_base,
    qualified,
    read_credentials,
    targets,
)
from fleet.tools.ephemeral.runner import Fleet, StackResult, in_plan_order, outcome, plan
from fleet.tools.ephemeral.verify import ReadyCheck, kubectl_missing, kubectl_ready

FactoryBuilder = Callable[[Path, str, Mapping[str, str]], StackFactory]


def real_factory(project_dir: Path, url: str, env: Mapping[str, str]) -> StackFactory:
    preflight(env, url)
    return automation_factory(project_dir, url)


@dataclass
class World:
    """What the command touches outside itself; tests replace parts of it."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    build_factory: FactoryBuilder = real_factory
    ready: ReadyCheck = kubectl_ready
    kubectl_missing: Callable[[], str | None] = kubectl_missing
    console: Console = field(default_factory=Console)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


def _age(text: str) -> timedelta:
    try:
        return naming.parse_age(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def build_parser(prog: str = "python -m fleet.tools.ephemeral") -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--project-dir", type=Path, help="folder holding Pulumi.yaml (default: this project)"
    )
    common.add_argument(
        "--prefix", default=naming.DEFAULT_PREFIX, help="stack name prefix (default: eph)"
    )
    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("--run-id", help="run id (default: FLEET_RUN_ID, else GitHub's run)")
    checks = argparse.ArgumentParser(add_help=False)
    checks.add_argument(
        "--no-cluster-check",
        action="store_true",
        help="check stack outputs only, not the FluxInstance through kubectl",
    )
    checks.add_argument(
        "--ready-timeout", type=cli_args.positive, default=300, help="seconds to wait for Ready"
    )
    checks.add_argument("--parallel", type=cli_args.positive, default=4, help="stacks at a time")

    parser = argparse.ArgumentParser(
        prog=prog, description="Ephemeral test fleets of the d1 fleet."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser(
        "up", parents=[common, run, checks], help="create, run and verify one stack per cluster"
    )
    up.add_argument("--base-stack", default="staging", help="stack whose config is copied")
    up.add_argument("--kube-context", action="append", default=[], help="a test cluster's context")
    up.add_argument("--kubeconfig", action="append", default=[], help="kubeconfig file(s)")
    up.add_argument("--destroy", action="store_true", help="always tear down at the end")
    up.add_argument("--no-verify", action="store_true", help="skip the verify step")
    commands.add_parser("verify", parents=[common, run, checks], help="check a run's stacks")
    commands.add_parser("down", parents=[common, run], help="destroy and remove a run's stacks")
    gc = commands.add_parser("gc", parents=[common], help="remove stale ephemeral stacks")
    gc.add_argument("--max-age", type=_age, default=timedelta(hours=6), help="e.g. 90m, 6h, 2d")
    gc.add_argument("--dry-run", action="store_true", help="list stale stacks, remove nothing")
    return parser


def main(
    argv: Sequence[str] | None = None,
    world: World | None = None,
    prog: str = "python -m fleet.tools.ephemeral",
) -> int:
    world = world or World()
    args = build_parser(prog).parse_args(argv)
    console = world.console
    try:
        return int(_dispatch(args, world))
    except (OverrideError, ValueError) as err:
        console.error(str(err))
        return ExitCode.USAGE
    except PreflightError as err:
        console.error(str(err))
        return ExitCode.TOOL_MISSING if err.tool_missing else ExitCode.USAGE
    except auto.CommandError as err:
        failure = describe(err, "backend", args.command)
        console.error(failure.message)
        return failure.code


def _dispatch(args: argparse.Namespace, world: World) -> ExitCode:
    project_dir = args.project_dir or find_project(Path(__file__).resolve().parent)
    prefix = naming.check_prefix(args.prefix)
    console = world.console
    if args.command == "gc":
        fleet = _fleet(world, project_dir, 1)
        stale = fleet.stale(prefix, args.max_age, world.now())
        if args.dry_run:
            console.info("would remove: " + (", ".join(stale) or "nothing"))
            return ExitCode.OK
        return _report(console, "gc", fleet.teardown(stale))

    run_id = naming.resolve_run_id(
        args.run_id, world.env, generate=args.command == "up", now=world.now
    )
    console.info(f"run id: {run_id}")
    ready = None if getattr(args, "no_cluster_check", True) else world.ready
    if args.command == "up":
        return _up(args, world, project_dir=project_dir, prefix=prefix, run_id=run_id, ready=ready)

    fleet = _fleet(world, project_dir, getattr(args, "parallel", 1))
    names = fleet.find_run(prefix, run_id)
    if args.command == "down":
        if not names:
            console.info(f"run {run_id}: no stacks to remove")
        return _report(console, "down", fleet.teardown(names))
    if not names:
        console.error(f"run {run_id}: no stacks found")
        return ExitCode.FAILED
    if ready is not None and (missing := world.kubectl_missing()):
        raise PreflightError(missing, tool_missing=True)
    return _report(console, "verify", fleet.verify(names, ready, args.ready_timeout))


def _up(
    args: argparse.Namespace,
    world: World,
    *,
    project_dir: Path,
    prefix: str,
    run_id: str,
    ready: ReadyCheck | None,
) -> ExitCode:
    console = world.console
    base = load_base(project_dir, args.base_stack)
    # Every problem of one run at once: the environment, the options, the tools, the program's.
    problems: list[str] = []
    tools_missing: list[str] = []
    tokens = Tokens(secret={}, plain={})
    clusters: list[ClusterTarget] = []
    try:
        tokens = read_credentials(world.env, base)
    except OverrideError as err:
        problems += err.problems
    try:
        clusters = targets(args.kube_context, args.kubeconfig)
    except OverrideError as err:
        problems += err.problems
    verify = not args.no_verify
    if verify and ready is not None and (missing := world.kubectl_missing()):
        tools_missing.append(missing)
    fleet: Fleet | None = None
    try:
        fleet = _fleet(world, project_dir, args.parallel)
    except PreflightError as err:
        (tools_missing if err.tool_missing else problems).append(str(err))
    planned = []
    if not problems and clusters:
        planned = plan(
            base,
            prefix=prefix,
            run_id=run_id,
            base_stack=args.base_stack,
            targets=clusters,
            tokens=tokens,
            created=world.now(),
        )
        first = planned[0]
        secrets = {qualified(k): v for k, v in tokens.secret.items()}
        findings = stack_check.check_config(
            project_dir,
            first.name,
            {**first.config.plain, **secrets},
            frozenset(qualified(k) for k in keys.SECRET_KEYS),
        )
        problems += [f"a copy of {args.base_stack}: {p}" for p in findings.problems]
        for warning in findings.warnings:
            console.info(f"warning: {warning}")
    if tools_missing:
        raise PreflightError("\n".join([*tools_missing, *problems]), tool_missing=True)
    if problems:
        raise OverrideError(problems)
    assert fleet is not None
    for key in dropped_secrets(base, tokens):
        console.info(f"note: {key} is a secret of {args.base_stack}; the ephemeral stacks lack it")

    codes = [ExitCode.OK]
    created: list[str] = []
    try:
        results = fleet.up(planned, created)
        codes.append(_report(console, "up", results))
        passed = [r.name for r in results if r.ok]
        if verify and passed:
            codes.append(
                _report(console, "verify", fleet.verify(passed, ready, args.ready_timeout))
            )
    finally:
        if args.destroy:
            teardown = fleet.teardown(in_plan_order(planned, created))
            codes.append(_report(console, "teardown", teardown))
        elif created:
            console.info(f"stacks kept; remove them with: fleet ephemeral down --run-id {run_id}")
    return worst(*codes)


def _fleet(world: World, project_dir: Path, parallel: int) -> Fleet:
    url = backend_url(world.env, project_dir)
    world.console.info(f"backend: {_redacted(url)}")
    return Fleet(world.build_factory(project_dir, url, world.env), world.console, parallel)


def _redacted(url: str) -> str:
    """The backend URL without credentials (postgres:// URLs may carry a password)."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.hostname or ""))


def _report(console: Console, step: str, results: Sequence[StackResult]) -> ExitCode:
    for result in results:
        console.info(f"{step}: {result.name}: {'ok' if result.ok else 'FAILED'}")
    failed = [r.name for r in results if not r.ok]
    if failed and step in ("teardown", "down", "gc"):
        console.error(f"{step}: could not remove {', '.join(failed)}; remove them by hand")
    elif failed:
        console.error(f"{step}: failed for {', '.join(failed)}")
    return outcome(results)
