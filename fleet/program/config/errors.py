"""The one error a stack's configuration raises."""

from __future__ import annotations

HEADER = "invalid stack configuration ("
ITEM = "  - "


class ConfigError(Exception):
    """Invalid stack configuration: every problem, each naming its key, bad value and what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"{ITEM}{p}" for p in problems)
        super().__init__(f"{HEADER}{len(problems)} problem(s)):\n{lines}")


def problems_in(message: str) -> list[str]:
    """The problems a ConfigError's message lists (the program re-raises it as the SDK's
    `RunError` with this text, so tools running it read them back); [] for any other message."""
    if not message.startswith(HEADER):
        return []
    return [line.removeprefix(ITEM) for line in message.splitlines()[1:] if line.startswith(ITEM)]
