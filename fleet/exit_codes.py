"""Exit codes of the ephemeral fleet command, so CI can tell failures apart."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # an up, verify or gc step failed for at least one stack
    USAGE = 2  # bad arguments, base stack config or environment (argparse uses 2 as well)
    LEFTOVERS = 3  # teardown could not destroy or remove some stacks; they are named in the output
    STACK_EXISTS = 4  # a stack name is already taken: another run used the same run id
    LOCKED = 5  # another update holds the stack's lock
    TOOL_MISSING = 127  # the pulumi CLI (or kubectl, for cluster checks) is missing or too old


# Most urgent first: leftover stacks cost money and block names, so they win over everything else.
_PRIORITY = (
    ExitCode.TOOL_MISSING,
    ExitCode.LEFTOVERS,
    ExitCode.LOCKED,
    ExitCode.STACK_EXISTS,
    ExitCode.USAGE,
    ExitCode.FAILED,
    ExitCode.OK,
)


def worst(*codes: ExitCode) -> ExitCode:
    """The code to exit with when several steps each ended with their own."""
    return min(codes, key=_PRIORITY.index, default=ExitCode.OK)
