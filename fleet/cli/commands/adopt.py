"""`fleet adopt`: a `pulumi import` file of what a stack declares, and the import with --run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from fleet.cli import options
from fleet.tools.operations import adopt

NAME: Final = "adopt"
HELP: Final = "write a pulumi import file of what a stack declares (and import it with --run)"


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(parser)
    parser.add_argument(
        "--out", type=Path, help="import file to write (default: adopt-<stack>.json)"
    )
    parser.add_argument(
        "--ruleset-id",
        action="append",
        default=[],
        metavar="REPO=ID",
        help="id of an existing repository ruleset to adopt (gh api repos/OWNER/REPO/rulesets)",
    )
    parser.add_argument(
        "--only",
        metavar="KIND:NAME",
        help="tenant:<name> or component:<name>: only what removing it left on the cluster "
        "(its retained namespace), with its component parents, to bring it back under a "
        "running stack",
    )
    parser.add_argument(
        "--run",
        action="store_true",
        help="after writing the file, put the providers in the stack and run pulumi import",
    )
    parser.add_argument(
        "--hand-over-secrets",
        action="store_true",
        help="only give the stack ownership of every key of the adopted Secrets (kubectl), "
        "for imports run by hand; --run does it after importing",
    )
    options.add_project_dir(parser)


run = adopt.run
