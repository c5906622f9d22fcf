"""The one entry point: the current stack's configuration, loaded and checked once, before
anything is registered.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pulumi
from pulumi.runtime import config as runtime_config

from fleet.program import conventions as c
from fleet.program.config import expiry, fleet, kube_access, parse, sources
from fleet.program.config import keys as config_keys
from fleet.program.config.errors import ConfigError
from fleet.program.config.model import Settings
from fleet.program.github_access import plan

# Image automation without its own push credential pushes with the one tenant namespaces hold.


@dataclass(frozen=True)
class Loaded:
    """What the program is built from: the settings, days left on each credential, what the
    owner stack grants for the whole fleet, and the GitHub API token (None: none available)."""

    settings: Settings
    expiry: expiry.ExpiryReport
    fleet: plan.FleetAuth
    github_token: str | None
    # Hub mode: days before each spoke's token is due for renewal, by spoke name.
    spoke_days_left: Mapping[str, int] = field(default_factory=dict)


def project_folder() -> Path:
    """The folder of the stack's Pulumi.yaml, where the fleet's stack files are.

    A project whose `main:` points elsewhere (examples/hub runs the checkout's program) is run
    from the program's folder (pulumi pkg/engine/project.go `getPwdMain`), so the working
    directory is not it; the engine passes the project root to the program instead
    (sdk/python/cmd/pulumi-language-python-exec `--root_directory`). Runs without one, the
    Automation API's inline programs, use the working directory.
    """
    root = pulumi.get_root_directory()
    if root and (Path(root) / "Pulumi.yaml").is_file():
        return Path(root)
    return Path.cwd()


def load(
    today: date | None = None,
    env: Mapping[str, str] | None = None,
    project_dir: Path | None = None,
) -> Loaded:
    """Validated settings, credential expiry and, for the owner stack, the fleet's GitHub needs.

    Tokens and their expiry dates come from secret config, else from FLEET_*_TOKEN(_EXPIRES) in
    `env` (default: the environment the CLI runs the program with); with gitAuth githubApp the
    App's private key likewise comes from FLEET_GITHUB_APP_PRIVATE_KEY, and the GitHub API token
    from githubToken, else GITHUB_TOKEN (`sources`). `project_dir` holds the fleet's stack files
    (default: `project_folder()`), read for fleet-wide rules.
    A secret key set in plain text in the stack's config is refused (environment variables stay
    allowed).

    Raises `ConfigError` listing every problem (unknown keys, expired tokens, fleet-wide limits and
    a kube context that does not exist included); warns through the engine about tokens close to
    expiry, and an App key due for rotation, so they show in `pulumi preview`.
    """
    today = today or date.today()
    env = os.environ if env is None else env
    config = pulumi.Config(c.PROJECT)
    keys = configured_keys()
    raw = parse.read(config.get, keys)
    secret = {key for key in keys if runtime_config.is_config_secret(f"{c.PROJECT}:{key}")}
    # Refused by the program itself, so a bare `pulumi preview` refuses it too: the CLI only
    # insists on encryption for keys Pulumi.yaml declares secret, and these are not declared.
    problems = config_keys.plain_text_problems(
        (key for key in raw if key not in secret), pulumi.get_stack()
    )
    settings: Settings | None = None
    try:
        settings = parse.parse(sources.from_environment(raw, env), today=today, secret=secret)
    except ConfigError as err:
        problems.extend(err.problems)
    if kube_access.ENABLED.get():
        problems.extend(
            f"{c.PROJECT}:{key}: {message}"
            for key, message in kube_access.problems(
                _text(raw.get("kubeconfig")), _text(raw.get("kubeContext")), env
            )
        )
    if settings is not None and kube_access.ENABLED.get():
        # Each spoke is reached through its own context, checked the same way.
        problems.extend(
            f"{c.PROJECT}:spokes: spoke {spoke.name}: {message}"
            for spoke in settings.spoke_list
            for _, message in kube_access.problems(spoke.kubeconfig, spoke.context, env)
        )
    if settings is None:
        raise ConfigError(problems)
    stack = pulumi.get_stack()
    others = fleet.other_stacks(project_dir or project_folder(), stack)
    problems += fleet.problems(stack, settings, others)
    problems += fleet.spoke_problems(stack, settings, others)
    grants = fleet.github_access(settings, others)[0]
    configured = settings.github_token.get_secret_value() if settings.github_token else None
    token, source = sources.api_token(configured, env)
    if settings.github_access_owner:
        # The token the GitHub provider gets, never shown.
        found = plan.api_token_problem(grants, token, source)
        if found:
            problems.append(f"{c.PROJECT}:{found[0]}: {found[1]}")
    if problems:
        raise ConfigError(problems)
    report = settings.credential_expiry(today)
    for warning in report.warnings:
        pulumi.log.warn(f"{c.PROJECT}:{warning}")
    spoke_days_left: dict[str, int] = {}
    for spoke in settings.spoke_list:
        due = spoke.token_due(settings.spoke_token_max_age_days)
        spoke_days_left[spoke.name] = (due - today).days
        if (due - today).days <= settings.token_warning_days:
            pulumi.log.warn(
                f"{c.PROJECT}:spokes: the token of spoke {spoke.name} is due for renewal on "
                f"{due.isoformat()}; set rotated={today.isoformat()} in its entry and run pulumi up"
            )
    return Loaded(settings, report, grants, token, spoke_days_left)


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
