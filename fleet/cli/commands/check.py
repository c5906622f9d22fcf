"""`fleet check`: stacks' objects against the pinned upstream schemas; a problem is exit 1, a stack
that cannot be rendered (unknown, or config the CLI or the program refuses) exit 2."""

from __future__ import annotations

import argparse
import sys
from typing import Final

from fleet.cli import options
from fleet.cli.report import print_warnings
from fleet.exit_codes import ExitCode
from fleet.tools.offline import render, stacks

NAME: Final = "check"
HELP: Final = (
    "validate stacks' objects against Kubernetes' schemas and the Flux CRDs ($FLEET_SCHEMAS_DIR)"
)


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack_list(parser)
    options.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
    # The validators are development requirements; render and diff need only the runtime ones.
    from fleet.tools.offline import conformance  # noqa: PLC0415

    try:
        schemas = conformance.Schemas.load()
    except conformance.SchemasMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return ExitCode.USAGE
    failed = unusable = False
    chosen = [*args.stacks, *args.stack_list] or stacks.listing(args.project_dir)["all"]
    for stack in chosen:
        try:
            result = render.render_stack(args.project_dir, stack)
        except render.RenderError as error:
            print(f"{stack}: {error}")
            unusable = True
            continue
        print_warnings(stack, result.summary["warnings"])
        try:
            problems = conformance.check(result, schemas)
        except conformance.SchemasMissingError as error:
            print(f"error: {stack}: {error}", file=sys.stderr)
            return ExitCode.USAGE
        for problem in problems:
            print(f"{stack}: {problem}")
        print(
            f"{stack}: {len(result.objects)} objects, {len(result.releases)} Helm release(s): "
            + (f"{len(problems)} problem(s)" if problems else "conform")
        )
        failed = failed or bool(problems)
    if unusable:
        return ExitCode.USAGE
    return ExitCode.FAILED if failed else ExitCode.OK
