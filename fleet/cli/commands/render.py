"""`fleet render`: the manifests one stack declares, written offline (no CLI, cluster or credentials)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from fleet.cli import options
from fleet.cli.report import print_warnings
from fleet.exit_codes import ExitCode
from fleet.tools.offline import render

NAME: Final = "render"
HELP: Final = "write the Kubernetes manifests and a summary one stack declares"


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(parser)
    parser.add_argument(
        "--out",
        type=Path,
        help="output folder (default: render/<stack>); an earlier render there is replaced",
    )
    options.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
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
