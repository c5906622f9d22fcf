"""Load and check the current stack's configuration, once, before anything is registered."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pulumi
import yaml

from fleet.program import conventions as c
from fleet.program import settings as s
from fleet.program import tokens


def load(
    today: date | None = None, project_dir: Path | None = None
) -> tuple[s.Settings, tokens.ExpiryReport]:
    """Validated settings and token expiry for the running stack.

    Raises `ConfigError` listing every problem (expired tokens and fleet-wide limits included);
    warns through the engine about tokens close to expiry so they show in `pulumi preview`.
    `project_dir` holds the fleet's stack files (default: the working directory, where Pulumi runs
    the program).
    """
    config = pulumi.Config(c.PROJECT)
    settings = s.parse(s.read(config.get, config.get_object))
    report = tokens.check(settings, today or date.today())
    stack = pulumi.get_stack()
    problems = [f"{c.PROJECT}:{problem}" for problem in report.expired]
    problems += s.fleet_problems(stack, settings, other_stacks(project_dir or Path.cwd(), stack))
    if problems:
        raise s.ConfigError(problems)
    for warning in report.warnings:
        pulumi.log.warn(f"{c.PROJECT}:{warning}")
    return settings, report


def other_stacks(project_dir: Path, stack: str) -> dict[str, Mapping[str, Any]]:
    """The plain values of every other `Pulumi.<stack>.yaml` of the project, by short key."""
    prefix = f"{c.PROJECT}:"
    found: dict[str, Mapping[str, Any]] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if name == stack:
            continue
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        found[name] = {
            key.removeprefix(prefix): value
            for key, value in config.items()
            if key.startswith(prefix) and not (isinstance(value, dict) and "secure" in value)
        }
    return found
