"""Expiry tracking for the fine-grained GitHub tokens the clusters use.

No GitHub API can create or renew a fine-grained PAT, so rotation is manual; the program can only
make it hard to miss. Each token is configured with its expiry date: inside the warning window a
preview warns, after expiry it refuses to run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from fleet.program import app_key

if TYPE_CHECKING:
    from fleet.program.settings import Settings


@dataclass(frozen=True)
class TokenSource:
    """One token's config keys and the environment variables that supply it."""

    key: str
    env: str
    required: bool

    @property
    def expires_key(self) -> str:
        return f"{self.key}Expires"

    @property
    def expires_env(self) -> str:
        return f"{self.env}_EXPIRES"


TOKENS = (
    TokenSource("platformToken", "FLEET_PLATFORM_TOKEN", required=True),
    TokenSource("appsToken", "FLEET_APPS_TOKEN", required=True),
    TokenSource("enterpriseToken", "FLEET_ENTERPRISE_TOKEN", required=False),
)
# The Git tokens a GitHub App replaces (gitAuth githubApp), and the App's private key, which may
# come from the environment like them (gitAuth githubApp only).
GIT_TOKENS = ("platformToken", "appsToken")
APP_PRIVATE_KEY = "githubAppPrivateKey"
APP_PRIVATE_KEY_ENV = "FLEET_GITHUB_APP_PRIVATE_KEY"


def from_environment(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """`raw` config with each credential and expiry date it lacks taken from the environment.

    Config wins; an empty value (Pulumi.yaml's "not set" default) counts as unset. Only the chosen
    `gitAuth` mode's credentials are taken (tokens, or the App's private key), since one CI
    environment may hold both kinds for different stacks. Values read here never touch argv or a
    stack file; the settings hold them as `SecretStr` and the resources as Pulumi secrets, like
    values from secret config.
    """
    merged = dict(raw)
    app = merged.get("gitAuth") == "githubApp"
    pairs = [
        (key, variable, not (app and source.key in GIT_TOKENS))
        for source in TOKENS
        for key, variable in ((source.key, source.env), (source.expires_key, source.expires_env))
    ]
    pairs.append((APP_PRIVATE_KEY, APP_PRIVATE_KEY_ENV, app))
    for key, variable, wanted in pairs:
        if merged.get(key) in (None, ""):
            merged.pop(key, None)
            if wanted and env.get(variable):
                merged[key] = env[variable]
    return merged


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
    app_key: app_key.KeyAge | None = None

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
            f"then set it and {t.key}Expires (see 'Rotating a token' in the README)"
            for t in self.tokens
            if t.days_left < 0
        ]

    @property
    def warnings(self) -> list[str]:
        key_warnings = self.app_key.warnings if self.app_key is not None else []
        return key_warnings + [
            f"{t.key}: the {t.name} token expires in {t.days_left} day(s), on {t.expires.isoformat()}; "
            "rotate it before then"
            for t in self.tokens
            if 0 <= t.days_left <= self.warning_days
        ]


def check(settings: Settings, today: date) -> ExpiryReport:
    """Days left for every configured token, relative to `today`."""
    dates = {
        "platform": settings.platform_token_expires,
        "apps": settings.apps_token_expires,
        "enterprise": settings.enterprise_token_expires,
    }
    found = report(dates, settings.token_warning_days, today)
    return ExpiryReport(found.tokens, found.warning_days, app_key.check(settings, today))


def report(dates: Mapping[str, date | None], warning_days: int, today: date) -> ExpiryReport:
    """Days left for each token by name (platform, apps, enterprise) that has an expiry date."""
    return ExpiryReport(
        tokens=tuple(
            TokenStatus(name, f"{name}Token", expires, (expires - today).days)
            for name, expires in dates.items()
            if expires is not None
        ),
        warning_days=warning_days,
    )
