"""`fleet init`: create the stack and store its credentials encrypted in the stack config."""

from __future__ import annotations

import argparse
from typing import Final

from fleet.cli import options
from fleet.tools.operations import init

NAME: Final = "init"
HELP: Final = (
    "create a stack and store its credentials encrypted (from the environment or a hidden prompt)"
)


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(parser)
    route = parser.add_mutually_exclusive_group()
    route.add_argument(
        "--keep-in-env",
        action="store_true",
        help="store nothing: the FLEET_* variables stay the source on every run (checked here)",
    )
    route.add_argument(
        "--replace",
        action="store_true",
        help="store credentials again even when the stack file holds them (token rotation)",
    )
    options.add_project_dir(parser)


run = init.run
