"""What every rule module shares: the valid settings a check reads, a topic's table of checks.

Each check declares the settings it reads and runs whenever those were valid, even when other keys
were not, so one run lists every problem. A problem names the key the user set (a value left at its
default is never blamed), and every check over a user list is linear and iterative: a stack with
thousands of tenants or a long dependency chain gets an answer, not a stall or a RecursionError.
Rules compare the settings' enums, never their string values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

Problem = tuple[str, str]  # (camelCase key, message)
Check = Callable[["Values"], Iterable[Problem]]
Rule = tuple[tuple[str, ...], Check]  # (settings it reads, check)

# Controllers that serve the kinds a stack declares (the topics' controller checks share them).
SOURCE_CONTROLLER: Final = "source-controller"
KUSTOMIZE_CONTROLLER: Final = "kustomize-controller"
RESERVED_NAMESPACES: Final = ("flux-system", "default")


@dataclass(frozen=True)
class Values:
    """Settings that passed their own validation, by field name, defaults filled in.

    A key that was missing or invalid is absent, so checks that read it are skipped rather than
    reporting a consequence of a problem already listed. A list with some invalid entries holds
    its valid ones, so its own checks (duplicates, reserved names, cycles) still run.
    """

    values: Mapping[str, Any]
    defaults: Mapping[str, Any]
    today: date

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def has(self, *names: str) -> bool:
        return all(name in self.values for name in names)

    def changed(self, name: str) -> bool:
        """Whether the key holds something other than its default (so the user chose it)."""
        return name in self.values and self.values[name] != self.defaults.get(name)


class Rules:
    """One topic's checks in the order they are declared, which is the order they report in."""

    def __init__(self) -> None:
        self.checks: list[Rule] = []

    def reads(self, *names: str) -> Callable[[Check], Check]:
        """Register the check, run only when all of `names` passed their own validation."""

        def register(check: Check) -> Check:
            self.checks.append((names, check))
            return check

        return register


def duplicates(items: Iterable[str]) -> list[str]:
    """Items listed more than once, in order of first appearance."""
    counts = Counter(items)
    return [item for item, n in counts.items() if n > 1]


def inert(v: Values, keys: Mapping[str, str], reason: str) -> Iterator[Problem]:
    """A problem for each of `keys` the user set although nothing reads it (`reason` says why)."""
    for name, key in keys.items():
        if v.changed(name):
            yield (key, f"has no effect {reason}, or remove the key")
