"""`fleet pulumi-yaml`: Pulumi.yaml's config block generated from the settings model, or checked."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from fleet.cli import options
from fleet.exit_codes import ExitCode
from fleet.tools.offline import project_file

NAME: Final = "pulumi-yaml"
HELP: Final = "generate Pulumi.yaml's config block (types and defaults) from the settings model"


def arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when Pulumi.yaml is not current")
    mode.add_argument("--write", action="store_true", help="rewrite Pulumi.yaml's config block")
    options.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
    try:
        if args.write:
            (args.project_dir / "Pulumi.yaml").write_text(project_file.render(args.project_dir))
            print("Pulumi.yaml: config block written from fleet/program/config/model.py")
            return ExitCode.OK
        problems = project_file.check(args.project_dir)
    except project_file.ProjectFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    for problem in problems:
        print(f"Pulumi.yaml: {problem}")
    if problems:
        print("run `python -m fleet pulumi-yaml --write` to regenerate it", file=sys.stderr)
        return ExitCode.FAILED
    print("Pulumi.yaml: config block matches the settings model")
    return ExitCode.OK
