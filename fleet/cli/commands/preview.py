"""`fleet preview`: preflight checks, then `pulumi preview --diff` of one stack with the policy
pack, and the `fleet review` summary of its changes."""

from __future__ import annotations

from typing import Final

from fleet.cli.commands import up

NAME: Final = "preview"
HELP: Final = (
    "check prerequisites and the stack's config, then pulumi preview --diff with the policy pack"
)

# The same options as `up`, and the same run: the subcommand's name picks the CLI verb.
arguments = up.arguments
run = up.run
