"""Load and check the current stack's configuration, once, before anything is registered."""

from __future__ import annotations

from datetime import date

import pulumi

from fleet.program import conventions as c
from fleet.program import git_auth, tokens
from fleet.program import settings as s


def load(today: date | None = None) -> tuple[s.Settings, tokens.ExpiryReport]:
    """Validated settings and token expiry for the running stack.

    Raises `ConfigError` listing every problem (expired tokens included); warns through the engine
    about tokens close to expiry, and an App key due for rotation, so they show in `pulumi preview`.
    The App's private key comes from secret config or, failing that, from FLEET_GITHUB_APP_PRIVATE_KEY.
    """
    config = pulumi.Config(c.PROJECT)
    raw = s.read(config.get, config.get_object)
    # Kept as a SecretStr from here on, and a Pulumi secret wherever the program passes it.
    from_env = git_auth.private_key_from_env()
    if "githubAppPrivateKey" not in raw and from_env is not None:
        raw["githubAppPrivateKey"] = from_env
    settings = s.parse(raw)
    report = tokens.check(settings, today or date.today())
    if report.expired:
        raise s.ConfigError([f"{c.PROJECT}:{problem}" for problem in report.expired])
    for warning in report.warnings:
        pulumi.log.warn(f"{c.PROJECT}:{warning}")
    return settings, report
