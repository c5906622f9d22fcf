"""`fleet stacks`: the cluster stacks, production ones apart, as the workflows fan out over them."""

from __future__ import annotations

import argparse
import json
from typing import Final

from fleet.cli import options
from fleet.exit_codes import ExitCode
from fleet.tools.offline import stacks

NAME: Final = "stacks"
HELP: Final = "list the cluster stacks (Pulumi.<stack>.yaml), production ones apart"


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="one JSON object: all, production, staging"
    )
    options.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
    listing = stacks.listing(args.project_dir)
    if args.json:
        print(json.dumps(listing, separators=(",", ":")))
    else:
        production = set(listing["production"])
        for name in listing["all"]:
            print(f"{name}\t{'production' if name in production else 'staging'}")
    return ExitCode.OK
