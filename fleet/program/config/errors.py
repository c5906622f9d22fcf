"""The one error a stack's configuration raises."""

from __future__ import annotations


class ConfigError(Exception):
    """Invalid stack configuration: every problem, each naming its key, bad value and what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")
