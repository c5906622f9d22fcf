"""The one runner of the Pulumi CLI: where the binary is, the environment and folder it runs in.

`which("pulumi")` is asked once, when a `PulumiCli` is made from an environment; a caller that
knows the binary (the real-engine tests build one) passes its path instead. A failed command is a
`CommandError` carrying the CLI's stderr; a stack the backend does not have is told apart by the
CLI's own message (`NO_STACK`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

Runner = Callable[..., subprocess.CompletedProcess[str]]

INSTALL_HINT: Final = (
    "install it from https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)"
)
NOT_ON_PATH: Final = f"the Pulumi CLI is not on PATH; {INSTALL_HINT}"
# The CLI's message for a stack the backend does not have (pkg/backend/backenderr/backenderr.go,
# StackNotFoundError: "no stack named '<name>' found").
NO_STACK: Final = "no stack named"
# The project's policy pack (`--policy-pack`, a folder relative to the project), applied to every
# preview and update the project runs.
POLICY_PACK: Final = "policy"


class EngineError(Exception):
    """The engine could not be run, or answered in a way its readers cannot read."""


class CliNotFoundError(EngineError):
    """No Pulumi CLI: not on PATH, or the given binary does not exist."""


class CommandError(EngineError):
    """A CLI command exited non-zero; `stderr` is what the CLI said."""

    def __init__(self, args: tuple[str, ...], stderr: str) -> None:
        self.args_run = args
        self.stderr = stderr
        super().__init__(f"pulumi {' '.join(args)} failed: {stderr.strip()}")

    @property
    def no_stack(self) -> bool:
        return NO_STACK in self.stderr

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def find(env: Mapping[str, str]) -> str | None:
    """The Pulumi CLI on `env`'s PATH (the process's own when `env` has none), or None."""
    return shutil.which("pulumi", path=env.get("PATH"))


@dataclass(frozen=True)
class PulumiCli:
    """The Pulumi CLI at `binary`, run in `cwd` with exactly `env` (the backend rule and the
    passphrase arrive through it); `run` is the process runner, replaced in tests."""

    binary: str
    env: Mapping[str, str] = field(repr=False)
    cwd: Path = Path()
    run: Runner = subprocess.run

    @classmethod
    def at(
        cls,
        binary: Path | str | None,
        env: Mapping[str, str],
        cwd: Path = Path(),
        run: Runner = subprocess.run,
    ) -> PulumiCli:
        """The CLI at `binary`, or found on `env`'s PATH when `binary` is None."""
        found = str(binary) if binary is not None else find(env)
        if found is None:
            raise CliNotFoundError(NOT_ON_PATH)
        if binary is not None and not Path(found).is_file():
            raise CliNotFoundError(f"no Pulumi CLI at {found}")
        return cls(found, dict(env), cwd, run)

    def command(self, *args: str) -> list[str]:
        return [self.binary, *args]

    def call(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one command, its output captured; never raises on a non-zero exit."""
        return self.run(
            self.command(*args),
            cwd=self.cwd,
            env=dict(self.env if env is None else env),
            capture_output=True,
            text=True,
            check=False,
        )

    def output(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        """What a command prints; a `CommandError` when it fails."""
        done = self.call(*args, env=env)
        if done.returncode != 0:
            raise CommandError(args, done.stderr)
        return done.stdout

    def passthrough(
        self, *args: str, capture: bool = False, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run one command on the user's terminal: its output shown (captured only when
        `capture`), `stdin` written to it when given."""
        return self.run(
            self.command(*args),
            cwd=self.cwd,
            env=dict(self.env),
            input=stdin,
            check=False,
            stdout=subprocess.PIPE if capture else None,
            text=True,
        )
