"""Load and check the current stack's configuration, once, before anything is registered."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config

from fleet.program import conventions as c
from fleet.program import fleet_auth, kube_access, tokens
from fleet.program import settings as s


def load(
    today: date | None = None,
    env: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
) -> tuple[s.Settings, tokens.ExpiryReport, fleet_auth.FleetAuth]:
    """Validated settings, token expiry and, for the owner stack, the fleet's GitHub needs.

    Tokens and their expiry dates come from secret config, else from FLEET_*_TOKEN(_EXPIRES) in
    the environment the CLI runs the program with; with gitAuth githubApp the App's private key
    likewise comes from FLEET_GITHUB_APP_PRIVATE_KEY. `project_dir` holds the fleet's stack files
    (default: the working directory, where Pulumi runs the program), read for fleet-wide limits.

    Raises `ConfigError` listing every problem (unknown keys, expired tokens, fleet-wide limits and
    a kube context that does not exist included); warns through the engine about tokens close to
    expiry, and an App key due for rotation, so they show in `pulumi preview`. The fleet's GitHub
    needs (`settings.fleet_github`) come from every stack file's `gitAuth`.
    """
    today = today or date.today()
    env = os.environ if env is None else env
    config = pulumi.Config(c.PROJECT)
    keys = configured_keys()
    raw = s.read(config.get, keys)
    secret = {key for key in keys if runtime_config.is_config_secret(f"{c.PROJECT}:{key}")}
    problems: list[str] = []
    settings: s.Settings | None = None
    try:
        settings = s.parse(
            tokens.from_environment(raw, env),
            today=today,
            secret=secret,
        )
    except s.ConfigError as err:
        problems.extend(err.problems)
    if kube_access.ENABLED.get():
        problems.extend(
            f"{c.PROJECT}:{key}: {message}"
            for key, message in kube_access.problems(
                _text(raw.get("kubeconfig")), _text(raw.get("kubeContext")), os.environ
            )
        )
    fleet: fleet_auth.FleetAuth | None = None
    if settings is not None:
        stack = pulumi.get_stack()
        others = other_stacks(project_dir or Path.cwd(), stack)
        problems += s.fleet_problems(stack, settings, others)
        fleet = s.fleet_github(settings, others)[0]
        problems += _api_token_problems(settings, fleet, env)
    if problems or settings is None or fleet is None:
        raise s.ConfigError(problems)
    report = tokens.check(settings, today)
    for warning in report.warnings:
        pulumi.log.warn(f"{c.PROJECT}:{warning}")
    return settings, report, fleet


def _api_token_problems(
    settings: s.Settings, fleet: fleet_auth.FleetAuth, env: Mapping[str, str]
) -> list[str]:
    # The token the GitHub provider gets (`providers.github_token`), never shown.
    if not settings.github_access_owner:
        return []
    token: str | None = env.get("GITHUB_TOKEN") or None
    source = "from GITHUB_TOKEN"
    if settings.github_token is not None:
        token, source = settings.github_token.get_secret_value(), "githubToken"
    found = fleet_auth.api_token_problem(fleet, token, source)
    return [f"{c.PROJECT}:{found[0]}: {found[1]}"] if found else []


def configured_keys(project: str = c.PROJECT) -> list[str]:
    """Every key the stack sets in the project's namespace, known to the program or not.

    The engine hands a program its config as one JSON object in PULUMI_CONFIG; the Automation API's
    inline programs and the mock runtime set it in the SDK's config map. Both are read.
    """
    prefix = f"{project}:"
    full = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return sorted(key.removeprefix(prefix) for key in full if key.startswith(prefix))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


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
