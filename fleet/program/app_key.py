"""Age tracking for the GitHub App's private key.

An App key never expires, so nothing forces its rotation; a leaked key stays valid until someone
deletes it. The stack records when the key was created and, past the configured age, warns in every
preview until the key is rotated: the token expiry check's counterpart for App mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fleet.program.settings import Settings


@dataclass(frozen=True)
class KeyAge:
    """How old the App's private key is, against the age at which policy wants it rotated."""

    created: date
    max_age_days: int
    age_days: int

    @classmethod
    def of(cls, created: date, max_age_days: int, today: date) -> KeyAge:
        return cls(created, max_age_days, (today - created).days)

    @property
    def days_left(self) -> int:
        """Days before the key is due for rotation (negative once it is overdue)."""
        return self.max_age_days - self.age_days

    @property
    def problems(self) -> list[str]:
        if self.age_days >= 0:
            return []
        return [
            f"githubAppKeyCreated: {self.created.isoformat()} is in the future; "
            "allowed: the date the key was generated on (YYYY-MM-DD), today or earlier"
        ]

    @property
    def warnings(self) -> list[str]:
        if self.days_left > 0 or self.age_days < 0:
            return []
        return [
            f"githubAppKeyCreated: the GitHub App private key is {self.age_days} day(s) old, "
            f"due for rotation after githubAppKeyMaxAgeDays ({self.max_age_days}); generate a new "
            "key, set it and githubAppKeyCreated (see 'Rotating the App key' in the README)"
        ]


def check(settings: Settings, today: date) -> KeyAge | None:
    """The key's age relative to `today`, in App mode."""
    created = settings.github_app_key_created
    if not settings.github_app or created is None:
        return None
    return KeyAge.of(created, settings.github_app_key_max_age_days, today)
