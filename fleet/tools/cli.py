"""The `fleet` command line (also `python -m fleet`): first run, up, preview, offline render,
conformance check, diff, the review gate, the fleet's status and the ephemeral test fleets.

Subcommands live in a registry: a new one (`up`, `preview`, ...) is a function decorated with
`@command(...)` in any module imported here, and gets its own `--help` and exit code for free.

A subcommand that works on one stack adds `cli_args.add_stack` (`STACK` or `-s/--stack`; `main`
sets `args.stack`); one that passes unknown options on to `pulumi` sets `passthrough=True`.

Exit codes: 0 success (or no differences); 1 the stacks differ (`diff`), objects do not conform
(`check`), a stack needs action (`status`) or a risky change to production is not acknowledged
(`review`); for `init`, `up` and `preview`, the Pulumi CLI's exit code once it runs; 2 a failed
preflight check or usage errors: unknown stack, invalid stack config, unsafe output folder,
missing schema folder, a folder without Pulumi.yaml.
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

import yaml

from fleet.tools import (
    adopt,
    chart_signature,
    cli_args,
    deploy,
    diff,
    project_file,
    render,
    review,
    stack_init,
    stacks,
    status,
)

PROJECT_DIR: Final = cli_args.PROJECT_DIR


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


add_project_dir = cli_args.add_project_dir


def print_warnings(stack: str, warnings: Sequence[str]) -> None:
    """The program's warnings (a token or App key close to expiry), as `pulumi preview` shows them."""
    for warning in warnings:
        print(f"{stack}: warning: {warning}", file=sys.stderr)


def _render_arguments(parser: argparse.ArgumentParser) -> None:
    cli_args.add_stack(parser)
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
    print_warnings(args.stack, result.summary["warnings"])
    print(f"{args.stack}: wrote {len(written)} files to {out} (desired state, not a preview)")
    placeholders = result.summary["placeholderConfig"]
    if placeholders:
        print(
            f"{args.stack}: placeholder values for {', '.join(placeholders)} (secrets are not rendered)"
        )
    return ExitCode.OK


def _diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="STACK_A", help="the stack compared from")
    parser.add_argument("b", metavar="STACK_B", help="the stack compared to")
    add_project_dir(parser)


@command("diff", "show how two stacks' renders differ, file by file", _diff_arguments)
def _diff(args: argparse.Namespace) -> int:
    a = render.render_stack(args.project_dir, args.a).files()
    b = render.render_stack(args.project_dir, args.b).files()
    comparison = diff.compare(a, b, a_label=args.a, b_label=args.b)
    sys.stdout.write(comparison.text)
    return ExitCode.OK if comparison.same else ExitCode.FAILED


def _check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "stacks", nargs="*", metavar="STACK", help="stacks to check (default: every cluster stack)"
    )
    parser.add_argument(
        "-s",
        "--stack",
        dest="stack_list",
        action="append",
        default=[],
        metavar="STACK",
        help="a stack to check (repeatable)",
    )
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
    chosen = [*args.stacks, *args.stack_list] or stacks.listing(args.project_dir)["all"]
    for stack in chosen:
        try:
            result = render.render_stack(args.project_dir, stack)
        except render.RenderError as error:
            print(f"{stack}: {error}")
            failed = True
            continue
        print_warnings(stack, result.summary["warnings"])
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


command(
    "up",
    "check prerequisites and the stack's config, then pulumi up with the policy pack",
    deploy.arguments,
)(deploy.run)
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
command(
    "preview",
    "check prerequisites and the stack's config, then pulumi preview --diff with the policy pack",
    deploy.arguments,
)(deploy.run)


command("init", stack_init.HELP, stack_init.arguments)(stack_init.run)


def _ephemeral_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "rest",
        nargs=argparse.REMAINDER,
        metavar="up|verify|down|gc ...",
        help="`fleet ephemeral --help` lists the subcommands and their options",
    )


@command(
    "ephemeral",
    "create, verify and remove throwaway copies of a stack on test clusters (up|verify|down|gc)",
    _ephemeral_arguments,
)
def _ephemeral(args: argparse.Namespace) -> int:
    from fleet.tools.ephemeral import cli as ephemeral  # noqa: PLC0415 (Automation API import)

    return ephemeral.main(args.rest, prog="fleet ephemeral")


PASSTHROUGH: Final = "passthrough"


def _passes_through(root: argparse.ArgumentParser, name: str) -> bool:
    """Whether subcommand `name` hands the arguments it does not know to `pulumi`."""
    sub = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    return bool(sub.choices[name].get_default(PASSTHROUGH))


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
    root = argparse.ArgumentParser(prog="fleet", description=__doc__.split("\n\n")[0])
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS.values():
        cmd.arguments(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ephemeral"]:
        # Every option, --help included, belongs to the ephemeral tool's own parser.
        return _ephemeral(argparse.Namespace(rest=argv[1:]))
    root = parser()
    passthrough: list[str] = []
    if argv[:1] and argv[0] in COMMANDS and _passes_through(root, argv[0]):
        ours, passthrough = cli_args.split_passthrough(argv[1:])
        argv = [argv[0], *ours]
    args = root.parse_args(argv)
    if getattr(args, PASSTHROUGH, False):
        args.pulumi_args = passthrough
    if hasattr(args, "stack_positional"):
        cli_args.check_stack(root, args)
        args.stack = cli_args.stack_of(args)
    try:
        return COMMANDS[args.command].run(args)
    except render.RenderError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    except yaml.YAMLError:
        print(f"error: {_broken_yaml(args)}", file=sys.stderr)
        return ExitCode.USAGE


def _broken_yaml(args: argparse.Namespace) -> str:
    """Which project file does not parse, and where: the fix is in that file."""
    folder: Path = getattr(args, "project_dir", PROJECT_DIR)
    for path in sorted(folder.glob("Pulumi*.yaml")):
        try:
            yaml.safe_load(path.read_text())
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(error, "problem", None) or "invalid YAML"
            return f"{path} is not valid YAML{where}: {problem}; fix the file and run again"
    return f"a YAML file in {folder} is not valid YAML; fix it and run again"
