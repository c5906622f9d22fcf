"""What several commands print the same way."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def print_warnings(stack: str, warnings: Sequence[str]) -> None:
    """The program's warnings (a token or App key close to expiry), as `pulumi preview` shows them."""
    for warning in warnings:
        print(f"{stack}: warning: {warning}", file=sys.stderr)
