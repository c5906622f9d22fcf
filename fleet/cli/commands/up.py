"""`fleet up`: preflight checks, then `pulumi up` of one stack with the policy pack."""

from __future__ import annotations

import argparse
from typing import Final

from fleet.cli import options
from fleet.tools.operations import deploy

NAME: Final = "up"
HELP: Final = "check prerequisites and the stack's config, then pulumi up with the policy pack"


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(parser)
    parser.add_argument(
        "pulumi_args",
        nargs=argparse.REMAINDER,
        metavar="PULUMI_ARGS",
        help="any other argument is passed on to pulumi (e.g. --yes, --target URN)",
    )
    options.add_project_dir(parser)
    parser.set_defaults(passthrough=True)


run = deploy.run
