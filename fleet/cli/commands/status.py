"""`fleet status`: every stack's versions, credentials, last update and drift, from its state."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from fleet.cli import options
from fleet.tools.views import status

NAME: Final = "status"
HELP: Final = "every stack's versions, credentials, last update and drift, from its state"


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack_list(parser, "default: every cluster stack")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON document, for scripts")
    output.add_argument(
        "--markdown", action="store_true", help="a Markdown report (the drift workflow's issue)"
    )
    parser.add_argument(
        "--drift",
        type=Path,
        metavar="DIR",
        help="folder of `pulumi preview --refresh --json` outputs, one <stack>.json per stack",
    )
    parser.add_argument(
        "--jobs", type=options.positive, default=8, help="stacks read at once (default: 8)"
    )
    options.add_project_dir(parser)


run = status.run
