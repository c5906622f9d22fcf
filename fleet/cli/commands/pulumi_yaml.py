"""`fleet pulumi-yaml`: Pulumi.yaml's config block generated from the settings model, or checked."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from fleet.cli import options
from fleet.exit_codes import ExitCode
from fleet.tools.offline import project_file

NAME: Final = "pulumi-yaml"
HELP: Final = "generate Pulumi.yaml's config block (types and defaults) from the settings model"
MODEL: Final = "fleet/program/config/model.py"


def arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--check", action="store_true", help="exit 1 when a Pulumi.yaml is not current"
    )
    mode.add_argument(
        "--write",
        action="store_true",
        help="rewrite the config block of Pulumi.yaml and of each example project (examples/*/Pulumi.yaml)",
    )
    options.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
    checkout: Path = args.project_dir
    folders = project_file.projects(checkout)
    try:
        if args.write:
            for folder in folders:
                (folder / "Pulumi.yaml").write_text(project_file.render(folder, checkout))
                print(f"{_name(folder, checkout)}: config block written from {MODEL}")
            return ExitCode.OK
        problems = [
            f"{_name(folder, checkout)}: {problem}"
            for folder in folders
            for problem in project_file.check(folder, checkout)
        ]
    except project_file.ProjectFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    for problem in problems:
        print(problem)
    if problems:
        print("run `python -m fleet pulumi-yaml --write` to regenerate it", file=sys.stderr)
        return ExitCode.FAILED
    print(f"{', '.join(_name(f, checkout) for f in folders)}: config block matches {MODEL}")
    return ExitCode.OK


def _name(folder: Path, checkout: Path) -> str:
    return str((folder / "Pulumi.yaml").relative_to(checkout))
