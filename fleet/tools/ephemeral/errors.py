"""What a failed Automation API call means, in one line a CI log reader can act on."""

from __future__ import annotations

from dataclasses import dataclass

from pulumi import automation as auto

from fleet.exit_codes import ExitCode

_TAIL_LINES = 12


@dataclass(frozen=True)
class Failure:
    code: ExitCode
    message: str


def _stderr_tail(err: auto.CommandError) -> str:
    # The SDK keeps only the formatted CommandResult: "\n code: N\n stdout: ...\n stderr: ...".
    text = str(err)
    _, found, stderr = text.partition("\n stderr: ")
    lines = [line for line in (stderr if found else text).splitlines() if line.strip()]
    return "\n".join(lines[-_TAIL_LINES:]) or "(no error output)"


def describe(err: BaseException, stack: str, action: str) -> Failure:
    """Map the SDK's typed errors (and anything else) to an exit code and a clear message."""
    if isinstance(err, auto.StackAlreadyExistsError):
        return Failure(
            ExitCode.STACK_EXISTS,
            f"{stack}: a stack with this name already exists, so another run uses the same run "
            "id; pass a different --run-id, or remove that run's stacks with `down --run-id`",
        )
    if isinstance(err, auto.ConcurrentUpdateError):
        return Failure(
            ExitCode.LOCKED,
            f"{stack}: {action} refused, another update holds the stack's lock; wait for it, or "
            "if that run was cancelled, `pulumi cancel` (Pulumi Cloud) or delete the stale lock "
            "under .pulumi/locks in the backend (DIY backends), then retry",
        )
    if isinstance(err, auto.StackNotFoundError):
        return Failure(ExitCode.FAILED, f"{stack}: no such stack in this backend")
    if isinstance(err, auto.CommandError):
        return Failure(ExitCode.FAILED, f"{stack}: {action} failed:\n{_stderr_tail(err)}")
    return Failure(ExitCode.FAILED, f"{stack}: {action} failed: {type(err).__name__}: {err}")
