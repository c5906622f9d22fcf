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
    parser.add_argument("a", metavar="STACK_A", help="the stack compared from")
    parser.add_argument("b", metavar="STACK_B", help="the stack compared to")
    options.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
    a = render.render_stack(args.project_dir, args.a).files()
    b = render.render_stack(args.project_dir, args.b).files()
    comparison = diff.compare(a, b, a_label=args.a, b_label=args.b)
    sys.stdout.write(comparison.text)
    return ExitCode.OK if comparison.same else ExitCode.FAILED
