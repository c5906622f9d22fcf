"""`fleet review`: the previews of the fleet as one Markdown summary, and the gate on them."""

from __future__ import annotations

import argparse
from typing import Final

from fleet.cli import options
from fleet.tools.views import review

NAME: Final = "review"
HELP: Final = (
    "summarise pulumi preview --json of one or more stacks as Markdown; exit 1 on an "
    "unacknowledged risky change to production"
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "previews",
        nargs="+",
        metavar="PREVIEW.json",
        help="`pulumi preview --json` output; - reads stdin",
    )
    parser.add_argument(
        "--acknowledge",
        action="store_true",
        help=f"risky changes on production are intended (the workflow sets it from the label {review.ACK_LABEL})",
    )
    parser.add_argument(
        "--production",
        action="append",
        default=[],
        metavar="STACK",
        help="treat STACK as production whatever its stack file says (repeatable)",
    )
    options.add_project_dir(parser)


run = review.run
