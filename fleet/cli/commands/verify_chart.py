"""`fleet verify-chart`: the cosign signature of the stack's flux-operator chart."""

from __future__ import annotations

import argparse
from typing import Final

from fleet.cli import options
from fleet.tools.operations import chart_signature

NAME: Final = "verify-chart"
HELP: Final = "verify the cosign signature of the stack's flux-operator chart (d1's OIDC identity)"


def arguments(parser: argparse.ArgumentParser) -> None:
    options.add_stack(parser)
    options.add_project_dir(parser)


run = chart_signature.run
