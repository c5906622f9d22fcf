"""The `python -m fleet` command line: up, preview, offline render, conformance check, diff, review.

Subcommands live in a registry: a new one (`up`, `preview`, ...) is a function decorated with
`@command(...)` in any module imported here, and gets its own `--help` and exit code for free.

Exit codes: 0 success (or no differences); 1 the stacks differ (`diff`), objects do not conform
(`check`), a stack needs action (`status`) or a risky change to production is not
acknowledged (`review`); for `up` and `preview`, the Pulumi CLI's exit code; 2 a failed preflight check or usage errors: unknown stack, invalid stack config, unsafe output folder, missing
schema folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Final

from fleet.tools import (
    adopt,
    chart_signature,
    deploy,
    diff,
    project_file,
    render,
    review,
    stacks,
    status,
)

PROJECT_DIR: Final = Path(__file__).resolve().parents[2]


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # stacks differ, or objects do not conform
    USAGE = 2  # bad arguments, unknown stack, invalid config, missing schemas (argparse uses 2)


Run = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Run


COMMANDS: dict[str, Command] = {}


def command(
    name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Run], Run]:
    """Register `run` as subcommand `name`; `arguments` adds its options to its parser."""

    def register(run: Run) -> Run:
        if name in COMMANDS:
            raise ValueError(f"subcommand {name!r} is registered twice")
        COMMANDS[name] = Command(name, help, arguments, run)
        return run

    return register


def add_project_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="folder with __main__.py and the Pulumi.<stack>.yaml files (default: this checkout)",
    )


def _render_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name: renders Pulumi.<stack>.yaml")
    parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default: render/<stack>); an earlier render there is replaced",
    )
    add_project_dir(parser)


@command(
    "render", "write the Kubernetes manifests and a summary one stack declares", _render_arguments
)
def _render(args: argparse.Namespace) -> int:
    result = render.render_stack(args.project_dir, args.stack)
    out: Path = args.out or Path("render") / args.stack
    written = render.write(result, out)
    print(f"{args.stack}: wrote {len(written)} files to {out} (desired state, not a preview)")
    placeholders = result.summary["placeholderConfig"]
    if placeholders:
        print(
            f"{args.stack}: placeholder values for {', '.join(placeholders)} (secrets are not rendered)"
        )
    return ExitCode.OK


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="STACK_A")
    parser.add_argument("b", metavar="STACK_B")
    add_project_dir(parser)


@command("diff", "show how two stacks' renders differ, file by file", _diff_arguments)
def _diff(args: argparse.Namespace) -> int:
    a = render.render_stack(args.project_dir, args.a).files()
    b = render.render_stack(args.project_dir, args.b).files()
    comparison = diff.compare(a, b, a_label=args.a, b_label=args.b)
    sys.stdout.write(comparison.text)
    return ExitCode.OK if comparison.same else ExitCode.FAILED


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stacks", nargs="+", metavar="STACK")
    add_project_dir(parser)


@command(
    "check",
    "validate stacks' objects against Kubernetes' schemas and the Flux CRDs ($FLEET_SCHEMAS_DIR)",
    _check_arguments,
)
def _check(args: argparse.Namespace) -> int:
    # The validators are development requirements; render and diff need only the runtime ones.
    from fleet.tools import conformance  # noqa: PLC0415

    try:
        schemas = conformance.Schemas.load()
    except conformance.SchemasMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    failed = False
    for stack in args.stacks:
        result = render.render_stack(args.project_dir, stack)
        try:
            problems = conformance.check(result, schemas)
        except conformance.SchemasMissingError as error:
            print(f"error: {stack}: {error}", file=sys.stderr)
            return ExitCode.USAGE
        for problem in problems:
            print(f"{stack}: {problem}")
        print(
            f"{stack}: {len(result.objects)} objects, {len(result.releases)} Helm release(s): "
            + (f"{len(problems)} problem(s)" if problems else "conform")
        )
        failed = failed or bool(problems)
    return ExitCode.FAILED if failed else ExitCode.OK


def _pulumi_yaml_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when Pulumi.yaml is not current")
    mode.add_argument("--write", action="store_true", help="rewrite Pulumi.yaml's config block")
    add_project_dir(parser)


@command(
    "pulumi-yaml",
    "generate Pulumi.yaml's config block (types and defaults) from the settings model",
    _pulumi_yaml_arguments,
)
def _pulumi_yaml(args: argparse.Namespace) -> int:
    try:
        if args.write:
            (args.project_dir / "Pulumi.yaml").write_text(project_file.render(args.project_dir))
            print("Pulumi.yaml: config block written from fleet/program/config/model.py")
            return ExitCode.OK
        problems = project_file.check(args.project_dir)
    except project_file.ProjectFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    for problem in problems:
        print(f"Pulumi.yaml: {problem}")
    if problems:
        print("run `python -m fleet pulumi-yaml --write` to regenerate it", file=sys.stderr)
        return ExitCode.FAILED
    print("Pulumi.yaml: config block matches the settings model")
    return ExitCode.OK


def _stacks_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="one JSON object: all, production, staging"
    )
    add_project_dir(parser)


@command(
    "stacks",
    "list the cluster stacks (Pulumi.<stack>.yaml), production ones apart",
    _stacks_arguments,
)
def _stacks(args: argparse.Namespace) -> int:
    listing = stacks.listing(args.project_dir)
    if args.json:
        print(json.dumps(listing, separators=(",", ":")))
    else:
        production = set(listing["production"])
        for name in listing["all"]:
            print(f"{name}\t{'production' if name in production else 'staging'}")
    return ExitCode.OK


command("up", "check prerequisites, then pulumi up one cluster stack", deploy.arguments)(deploy.run)
command(
    "adopt",
    "write a pulumi import file of what a stack declares (and import it with --run)",
    adopt.arguments,
)(adopt.run)
command(
    "verify-chart",
    "verify the cosign signature of the stack's flux-operator chart (d1's OIDC identity)",
    chart_signature.arguments,
)(chart_signature.run)
command("preview", "check prerequisites, then pulumi preview --diff one stack", deploy.arguments)(
    deploy.run
)
command(
    "status",
    "every stack's versions, credentials, last update and drift, from its state",
    status.arguments,
)(status.run)
command(
    "review",
    "summarise pulumi preview --json of one or more stacks as Markdown; exit 1 on an "
    "unacknowledged risky change to production",
    review.arguments,
)(review.run)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m fleet", description=__doc__.split("\n\n")[0])
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS.values():
        cmd.arguments(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except render.RenderError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
