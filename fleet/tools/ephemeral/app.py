"""What `fleet ephemeral up|verify|down|gc|lifecycle` does (its arguments are in
`fleet.cli.commands.ephemeral`), with the world it touches replaceable in tests.

Arguments, environment and exit codes are documented in docs/ephemeral-fleets.md; keep them in step.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pulumi import automation as auto

from fleet.exit_codes import ExitCode, worst
from fleet.program.config import keys
from fleet.tools.ephemeral import lifecycle, naming
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
from fleet.tools.offline import stack_check

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


def run(args: argparse.Namespace, world: World | None = None) -> int:
    """One step (`args.step`: up, verify, down, gc or lifecycle); errors become exit codes."""
    world = world or World()
    console = world.console
    if args.step == "lifecycle":
        return lifecycle.main(
            args.stack_option or args.stack_positional, args.project_dir, world.env
        )
    try:
        return int(_dispatch(args, world))
    except (OverrideError, ValueError) as err:
        console.error(str(err))
        return ExitCode.USAGE
    except PreflightError as err:
        console.error(str(err))
        return ExitCode.TOOL_MISSING if err.tool_missing else ExitCode.USAGE
    except auto.CommandError as err:
        failure = describe(err, "backend", args.step)
        console.error(failure.message)
        return failure.code


def _dispatch(args: argparse.Namespace, world: World) -> ExitCode:
    project_dir = args.project_dir or find_project(Path(__file__).resolve().parent)
    prefix = naming.check_prefix(args.prefix)
    console = world.console
    if args.step == "gc":
        fleet = _fleet(world, project_dir, 1)
        stale = fleet.stale(prefix, args.max_age, world.now())
        if args.dry_run:
            console.info("would remove: " + (", ".join(stale) or "nothing"))
            return ExitCode.OK
        return _report(console, "gc", fleet.teardown(stale))

    run_id = naming.resolve_run_id(
        args.run_id, world.env, generate=args.step == "up", now=world.now
    )
    console.info(f"run id: {run_id}")
    ready = None if getattr(args, "no_cluster_check", True) else world.ready
    if args.step == "up":
        return _up(args, world, project_dir=project_dir, prefix=prefix, run_id=run_id, ready=ready)

    fleet = _fleet(world, project_dir, getattr(args, "parallel", 1))
    names = fleet.find_run(prefix, run_id)
    if args.step == "down":
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
