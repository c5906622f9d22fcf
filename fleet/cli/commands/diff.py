"""`fleet diff`: two stacks' renders compared file by file; differing is exit 1, not an error."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from fleet.cli import options
from fleet.exit_codes import ExitCode
from fleet.tools.offline import diff, render

NAME: Final = "diff"
HELP: Final = "show how two stacks' renders differ, file by file"


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack_list(parser, "the stack compared from, then the one compared to")
    options.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
    named = options.stacks_of(args)
    if len(named) != 2:
        print(
            f"error: name two stacks (STACK_A STACK_B, or -s STACK_A -s STACK_B); got {len(named)}",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    a_name, b_name = named
    a = render.render_stack(args.project_dir, a_name).files()
    b = render.render_stack(args.project_dir, b_name).files()
    comparison = diff.compare(a, b, a_label=a_name, b_label=b_name)
    sys.stdout.write(comparison.text)
    return ExitCode.OK if comparison.same else ExitCode.FAILED
