"""Config of an ephemeral stack: the base stack's config with the overrides a test fleet needs.

The base stack file (e.g. Pulumi.staging.yaml) is read as written, so structured values keep their
types. Its secure values are dropped (they are encrypted with the base stack's key); the credentials
its `gitAuth` mode needs (the tokens, or a GitHub App's private key) come from the environment
instead and reach the program through the workspace's environment, never a `pulumi` command line or
a stack file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from fleet.program.config.sources import (
    APP_KEYS,
    APP_PRIVATE_KEY,
    SECRET_ENV,
    TOKENS,
    TokenSource,
    environment_credentials,
    required_credentials,
)
from fleet.program.conventions import PROJECT
from fleet.tools.offline import mock, stack_check


class OverrideError(ValueError):
    """The base stack or the environment cannot yield a valid ephemeral stack; lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ClusterTarget:
    """How an ephemeral stack reaches its test cluster (context wins inside the kubeconfig)."""

    context: str | None = None
    kubeconfig: str | None = None

    @property
    def label(self) -> str:
        return " in ".join(p for p in (self.context, self.kubeconfig) if p) or "?"


@dataclass(frozen=True)
class Tokens:
    """Credential values (secret: tokens or the App's key) and expiry dates (plain), keyed by their
    config key without project."""

    secret: Mapping[str, str] = field(repr=False)
    plain: Mapping[str, str]


@dataclass(frozen=True)
class StackConfig:
    """Everything one ephemeral stack is configured with.

    `plain` is its config (keys fully qualified, `d1-fleet:...`); `environment` holds the token
    variables (FLEET_*_TOKEN) the program reads when its config has no token.
    """

    plain: Mapping[str, Any]
    environment: Mapping[str, str] = field(repr=False)


def qualified(key: str) -> str:
    return f"{PROJECT}:{key}"


def load_base(project_dir: Path, base_stack: str) -> dict[str, Any]:
    """The `config:` mapping of Pulumi.<base_stack>.yaml, exactly as written."""
    path = project_dir / f"Pulumi.{base_stack}.yaml"
    if not path.is_file():
        raise OverrideError([f"base stack {base_stack!r}: {path} does not exist"])
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise OverrideError([f"base stack {base_stack!r}: 'config' in {path} is not a mapping"])
    if config.get(qualified("environment")) == "production":
        raise OverrideError(
            [
                f"base stack {base_stack!r} is a production stack: its operator, FluxInstance and "
                "flux-system are protected, so a copy could not be destroyed; use a staging base"
            ]
        )
    return config


def read_credentials(env: Mapping[str, str], base: Mapping[str, Any]) -> Tokens:
    """What the base stack needs from the environment (`sources.required_credentials`): the
    tokens, or the App keys, and image automation's push token when the base stack runs it.

    An App-mode copy gets no platform token (the program refuses it) and takes the App's private
    key from FLEET_GITHUB_APP_PRIVATE_KEY, and the applications repository's credential from
    FLEET_GITHUB_APPS_PRIVATE_KEY (when the base stack names a second App) or FLEET_APPS_TOKEN;
    the optional enterprise token serves both modes. Raises OverrideError listing every problem.
    """
    values = mock.project_values(base)
    needed = required_credentials(values)
    problems: list[str] = []
    try:
        wanted = tuple(s for s in TOKENS if s.key in environment_credentials(values))
        others = read_tokens(env, wanted, needed)
    except OverrideError as err:
        problems += err.problems
        others = Tokens(secret={}, plain={})
    keys = {k.key: k.env for k in APP_KEYS if k.key in needed}
    found: dict[str, str] = {}
    for name, variable in keys.items():
        key = env.get(variable, "")
        if not key.strip():
            problems.append(
                f"{variable} must be set: the base stack uses gitAuth githubApp "
                f"(its {'private key' if name == APP_PRIVATE_KEY else 'second App key'} is a "
                "secret of the base stack and is not copied)"
            )
        found[name] = key
    if problems:
        raise OverrideError(problems)
    return Tokens(secret={**others.secret, **found}, plain=dict(others.plain))


def read_tokens(
    env: Mapping[str, str],
    sources: tuple[TokenSource, ...] = TOKENS,
    required: frozenset[str] = frozenset({"platformToken", "appsToken"}),
) -> Tokens:
    """Tokens and expiry dates from the environment, each checked by the program's own format
    rules (`stack_check.value_problem`); the `required` ones must be there. Raises OverrideError
    listing every problem."""
    problems: list[str] = []
    secret: dict[str, str] = {}
    plain: dict[str, str] = {}
    for source in sources:
        value, expires = env.get(source.env, ""), env.get(source.expires_env, "")
        if not value and not expires:
            if source.key in required:
                problems.append(f"{source.env} and {source.expires_env} must be set")
            continue
        if reason := stack_check.value_problem(source.key, value):
            problems.append(f"{source.env}: {reason}")
        try:
            date.fromisoformat(expires)
        except ValueError:
            problems.append(f"{source.expires_env}: {expires!r} is not a date YYYY-MM-DD")
        secret[source.key] = value
        plain[source.expires_key] = expires
    if problems:
        raise OverrideError(problems)
    return Tokens(secret=secret, plain=plain)


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def dropped_secrets(base: Mapping[str, Any], tokens: Tokens) -> list[str]:
    """Secure base keys that the environment does not replace (the copy runs without them)."""
    replaced = {qualified(k) for k in tokens.secret}
    return sorted(k for k, v in base.items() if _is_secure(v) and k not in replaced)


def derive(
    base: Mapping[str, Any], *, stack_name: str, target: ClusterTarget, tokens: Tokens
) -> StackConfig:
    """The ephemeral stack's config: base values, then its own cluster, name and credentials.

    It never owns the org-wide GitHub objects: those belong to exactly one long-lived stack.
    """
    plain = {k: v for k, v in base.items() if not _is_secure(v)}
    for key in ("kubeContext", "kubeconfig"):
        plain.pop(qualified(key), None)
    if target.context:
        plain[qualified("kubeContext")] = target.context
    if target.kubeconfig:
        plain[qualified("kubeconfig")] = str(Path(target.kubeconfig).expanduser().resolve())
    plain[qualified("clusterName")] = stack_name
    plain[qualified("githubAccessOwner")] = False
    plain.update({qualified(k): v for k, v in tokens.plain.items()})
    return StackConfig(
        plain=plain, environment={SECRET_ENV[k]: v for k, v in tokens.secret.items()}
    )


def targets(contexts: list[str], kubeconfigs: list[str]) -> list[ClusterTarget]:
    """One target per test cluster from repeated --kube-context / --kubeconfig options.

    Contexts alone; contexts sharing one kubeconfig; pairs of equal count; or kubeconfigs alone
    (each with its current context).
    """
    if not contexts and not kubeconfigs:
        raise OverrideError(["give each test cluster with --kube-context and/or --kubeconfig"])
    if not contexts:
        return [ClusterTarget(kubeconfig=k) for k in kubeconfigs]
    if len(kubeconfigs) > 1 and len(kubeconfigs) != len(contexts):
        raise OverrideError(
            [
                f"{len(contexts)} --kube-context but {len(kubeconfigs)} --kubeconfig: give one "
                "kubeconfig for all contexts or one per context"
            ]
        )
    if len(kubeconfigs) == 1:
        return [ClusterTarget(context=c, kubeconfig=kubeconfigs[0]) for c in contexts]
    if kubeconfigs:
        return [ClusterTarget(c, k) for c, k in zip(contexts, kubeconfigs, strict=True)]
    return [ClusterTarget(context=c) for c in contexts]
