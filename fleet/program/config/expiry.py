"""Days left on the fleet's credentials: the tokens' expiry dates and the GitHub App key's age.

No GitHub API can create or renew a fine-grained PAT, so rotation is manual; the program can only
make it hard to miss. Each token is configured with its expiry date: inside the warning window a
preview warns, after expiry it refuses to run. An App key never expires, so a leaked key stays
valid until someone deletes it; the stack records when the key was created and, past the
configured age, warns until it is rotated. Date arithmetic only: the settings feed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class KeyAge:
    """How old the App's private key is, against the age at which policy wants it rotated."""

    created: date
    max_age_days: int
    age_days: int
    # The key recording the creation date (the second App's: githubAppsKeyCreated).
    key: str = "githubAppKeyCreated"

    @classmethod
    def of(
        cls, created: date, max_age_days: int, today: date, key: str = "githubAppKeyCreated"
    ) -> KeyAge:
        return cls(created, max_age_days, (today - created).days, key)

    @property
    def days_left(self) -> int:
        """Days before the key is due for rotation (negative once it is overdue)."""
        return self.max_age_days - self.age_days

    @property
    def problems(self) -> list[str]:
        if self.age_days >= 0:
            return []
        return [
            f"{self.key}: {self.created.isoformat()} is in the future; "
            "allowed: the date the key was generated on (YYYY-MM-DD), today or earlier"
        ]

    @property
    def warnings(self) -> list[str]:
        if self.days_left > 0 or self.age_days < 0:
            return []
        return [
            f"{self.key}: the GitHub App private key is {self.age_days} day(s) old, "
            f"due for rotation after githubAppKeyMaxAgeDays ({self.max_age_days}); generate a new "
            f"key, set it and {self.key} (see docs/github-app.md#rotating-the-app-key)"
        ]


@dataclass(frozen=True)
class TokenStatus:
    """Days left before one token expires (negative once it has)."""

    name: str
    key: str
    expires: date
    days_left: int


@dataclass(frozen=True)
class ExpiryReport:
    tokens: tuple[TokenStatus, ...]
    warning_days: int
    # The GitHub App private key's age, in App mode.
    app_key: KeyAge | None = None
    # The second App's key (the applications repository's), when App mode uses one.
    apps_key: KeyAge | None = None

    @property
    def app_key_days_left(self) -> int | None:
        return self.app_key.days_left if self.app_key is not None else None

    @property
    def days_left(self) -> dict[str, int]:
        return {t.name: t.days_left for t in self.tokens}

    @property
    def expired(self) -> list[str]:
        return [
            f"{t.key}: the {t.name} token expired on {t.expires.isoformat()}; create a new token, "
            f"then set it and {t.key}Expires (see docs/first-run.md#rotating-a-token)"
            for t in self.tokens
            if t.days_left < 0
        ]

    @property
    def warnings(self) -> list[str]:
        key_warnings = [
            w for k in (self.app_key, self.apps_key) if k is not None for w in k.warnings
        ]
        return key_warnings + [
            f"{t.key}: the {t.name} token expires in {t.days_left} day(s), on {t.expires.isoformat()}; "
            "rotate it before then"
            for t in self.tokens
            if 0 <= t.days_left <= self.warning_days
        ]


def report(
    dates: Mapping[str, date | None],
    warning_days: int,
    today: date,
    app_key: KeyAge | None = None,
    apps_key: KeyAge | None = None,
) -> ExpiryReport:
    """Days left for each token by name (platform, apps, enterprise) that has an expiry date."""
    return ExpiryReport(
        tokens=tuple(
            TokenStatus(name, f"{name}Token", expires, (expires - today).days)
            for name, expires in dates.items()
            if expires is not None
        ),
        warning_days=warning_days,
        app_key=app_key,
        apps_key=apps_key,
    )
