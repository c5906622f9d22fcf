"""Load and check the current stack's configuration, once, before anything is registered."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date

import pulumi

from fleet.program import conventions as c
from fleet.program import settings as s
from fleet.program import tokens


def load(
    today: date | None = None, env: Mapping[str, str] | None = None
) -> tuple[s.Settings, tokens.ExpiryReport]:
    """Validated settings and token expiry for the running stack.

    Tokens and their expiry dates come from secret config, else from FLEET_*_TOKEN(_EXPIRES) in
    the environment the CLI runs the program with.

    Raises `ConfigError` listing every problem (expired tokens included); warns through the engine
    about tokens close to expiry so they show in `pulumi preview`.
    """
    config = pulumi.Config(c.PROJECT)
    raw = s.read(config.get, config.get_object)
    settings = s.parse(tokens.from_environment(raw, os.environ if env is None else env))
    report = tokens.check(settings, today or date.today())
    if report.expired:
        raise s.ConfigError([f"{c.PROJECT}:{problem}" for problem in report.expired])
    for warning in report.warnings:
        pulumi.log.warn(f"{c.PROJECT}:{warning}")
    return settings, report
