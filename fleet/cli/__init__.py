"""The `fleet` command line (also `python -m fleet`): first run, up, preview, offline render,
conformance check, diff, the review gate, the fleet's status and the ephemeral test fleets.

One table of commands: each is a module of `fleet.cli.commands` with its `NAME`, `HELP`,
`arguments(parser)` and `run(args)`; `COMMANDS` lists them in the order `--help` shows them.
`ephemeral` is a nested group of the same parser. Options several commands share (`-s/--stack`,
`--project-dir`) are declared once, in `fleet.cli.options`.

A subcommand that works on one stack adds `options.add_stack` (`STACK` or `-s/--stack`; `main`
sets `args.stack`); one that passes unknown options on to `pulumi` sets `passthrough=True`.

Exit codes (`fleet.exit_codes.ExitCode`): 0 success (or no differences); 1 the stacks differ
(`diff`), objects do not conform (`check`), a stack needs action (`status`) or a risky change to
production is not acknowledged (`review`); for `init`, `up` and `preview`, the Pulumi CLI's exit
code once it runs; 2 a failed preflight check or usage errors: unknown stack, invalid stack config,
unsafe output folder, missing schema folder, a folder without Pulumi.yaml; `ephemeral` adds its own
(docs/ephemeral-fleets.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from fleet.cli import options
from fleet.cli.commands import (
    adopt,
    check,
    diff,
    ephemeral,
    init,
    preview,
    pulumi_yaml,
    render,
    review,
    stacks,
    status,
    up,
    verify_chart,
)
from fleet.exit_codes import ExitCode
from fleet.tools.offline import cli_config
from fleet.tools.offline import render as rendering

__all__ = ["COMMANDS", "Command", "ExitCode", "main", "parser"]

Run = Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Run


# The command table, in the order `fleet --help` lists the commands.
TABLE: Final = (
    render,
    diff,
    check,
    pulumi_yaml,
    stacks,
    up,
    adopt,
    verify_chart,
    preview,
    init,
    ephemeral,
    status,
    review,
)
COMMANDS: dict[str, Command] = {
    module.NAME: Command(module.NAME, module.HELP, module.arguments, module.run) for module in TABLE
}

PASSTHROUGH: Final = "passthrough"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="fleet", description=__doc__.split("\n\n")[0])
    sub = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS.values():
        cmd.arguments(sub.add_parser(cmd.name, help=cmd.help, description=cmd.help))
    return root


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    root = parser()
    passthrough: list[str] = []
    if argv[:1] and argv[0] in COMMANDS and _passes_through(argv[0]):
        ours, passthrough = options.split_passthrough(argv[1:])
        argv = [argv[0], *ours]
    args = root.parse_args(argv)
    if getattr(args, PASSTHROUGH, False):
        args.pulumi_args = passthrough
    if hasattr(args, "stack_positional"):
        options.check_stack(root, args)
        args.stack = options.stack_of(args)
    try:
        return COMMANDS[args.command].run(args)
    except rendering.RenderError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    except yaml.YAMLError:
        print(f"error: {_broken_yaml(args)}", file=sys.stderr)
        return ExitCode.USAGE


def _passes_through(name: str) -> bool:
    """Whether subcommand `name` hands the arguments it does not know to `pulumi`."""
    probe = argparse.ArgumentParser(add_help=False)
    COMMANDS[name].arguments(probe)
    return bool(probe.get_default(PASSTHROUGH))


def _broken_yaml(args: argparse.Namespace) -> str:
    """Which project file does not parse, and where: the fix is in that file."""
    folder: Path = getattr(args, "project_dir", options.PROJECT_DIR)
    for path in sorted(folder.glob("Pulumi*.yaml")):
        try:
            cli_config.load_yaml(path.read_text())
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(error, "problem", None) or "invalid YAML"
            return f"{path} is not valid YAML{where}: {problem}; fix the file and run again"
    return f"a YAML file in {folder} is not valid YAML; fix it and run again"
