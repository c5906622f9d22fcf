"""Where secret values may come from besides secret config: the environment-variable table.

The program, the preflight and the ephemeral-fleet tool read this one table, so a variable
documented in docs/first-run.md is the variable every path reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fleet.program.conventions import GitAuth


@dataclass(frozen=True)
class TokenSource:
    """One token's config keys and the environment variables that supply it (whether a stack
    needs it: `required_credentials`)."""

    key: str
    env: str

    @property
    def expires_key(self) -> str:
        return f"{self.key}Expires"

    @property
    def expires_env(self) -> str:
        return f"{self.env}_EXPIRES"


TOKENS: Final = (
    TokenSource("platformToken", "FLEET_PLATFORM_TOKEN"),
    TokenSource("appsToken", "FLEET_APPS_TOKEN"),
    TokenSource("enterpriseToken", "FLEET_ENTERPRISE_TOKEN"),
    # Image automation's push credential for the applications repository (apps-update only).
    TokenSource("appsPushToken", "FLEET_APPS_PUSH_TOKEN"),
)
# The App's private key, which may come from the environment like the tokens (gitAuth githubApp
# only). In App mode the applications repository is read with a second App (its key from
# FLEET_GITHUB_APPS_PRIVATE_KEY) or with appsToken; the platform token is never read.
APP_PRIVATE_KEY: Final = "githubAppPrivateKey"
APP_PRIVATE_KEY_ENV: Final = "FLEET_GITHUB_APP_PRIVATE_KEY"
APPS_APP_ID: Final = "githubAppsAppId"
APPS_PRIVATE_KEY: Final = "githubAppsPrivateKey"
APPS_PRIVATE_KEY_ENV: Final = "FLEET_GITHUB_APPS_PRIVATE_KEY"


@dataclass(frozen=True)
class KeySource:
    """One GitHub App private key: its config key, the variable that supplies it, the key that
    records the day it was made (its rotation is counted from it), and whose key it is."""

    key: str
    env: str
    created_key: str
    whose: str


# The App keys, in the order the tools ask for them (whether a stack needs each:
# `required_credentials`).
APP_KEYS: Final = (
    KeySource(APP_PRIVATE_KEY, APP_PRIVATE_KEY_ENV, "githubAppKeyCreated", "the App's"),
    KeySource(APPS_PRIVATE_KEY, APPS_PRIVATE_KEY_ENV, "githubAppsKeyCreated", "the apps App's"),
)
# Every secret value an environment variable may supply, by config key: the one table of secret
# sources the program, the preflight, `fleet init` and the ephemeral tool read.
SECRET_ENV: Final = {
    **{source.key: source.env for source in TOKENS},
    **{source.key: source.env for source in APP_KEYS},
}
# The GitHub API token of the stacks that declare GitHub objects, when githubToken is unset.
API_TOKEN: Final = "githubToken"
API_TOKEN_ENV: Final = "GITHUB_TOKEN"


def required_credentials(values: Mapping[str, Any]) -> frozenset[str]:
    """The secret keys a stack must get from secret config or the environment, by its plain
    values (short keys): its mode's Git credentials, and image automation's push token.

    Tokens: the platform and apps tokens. App mode: the App's key, and for d1-apps the second
    App's key or the apps token. Image automation pushes with `appsPushToken` from apps-update
    alone, so the credential tenant namespaces hold stays read-only.
    """
    if values.get("gitAuth") == GitAuth.GITHUB_APP:
        apps_app = values.get(APPS_APP_ID) not in (None, "")
        found = {APP_PRIVATE_KEY, APPS_PRIVATE_KEY if apps_app else "appsToken"}
    else:
        found = {"platformToken", "appsToken"}
    if str(values.get("imageAutomation", "")).lower() == "true":
        found.add("appsPushToken")
    return frozenset(found)


def environment_credentials(values: Mapping[str, Any]) -> frozenset[str]:
    """The secret keys a stack takes from FLEET_* when its config lacks them: the required ones
    and the optional enterprise token. One CI environment serves every stack, so a stack never
    takes a credential it would refuse (another mode's, a push token without image automation)."""
    return required_credentials(values) | {"enterpriseToken"}


def from_environment(raw: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """`raw` config with each credential and expiry date it lacks taken from the environment.

    Config wins; an empty value (Pulumi.yaml's "not set" default) counts as unset. Only the chosen
    `gitAuth` mode's credentials are taken (tokens, or the App's private key and the applications
    repository's second App key or token), since one CI environment may hold both kinds for
    different stacks. Values read here never touch argv or a
    stack file; the settings hold them as `SecretStr` and the resources as Pulumi secrets, like
    values from secret config.
    """
    merged = dict(raw)
    taken = environment_credentials(merged)
    pairs = [
        (key, variable, source.key in taken)
        for source in TOKENS
        for key, variable in ((source.key, source.env), (source.expires_key, source.expires_env))
    ]
    pairs.append((APP_PRIVATE_KEY, APP_PRIVATE_KEY_ENV, APP_PRIVATE_KEY in taken))
    pairs.append((APPS_PRIVATE_KEY, APPS_PRIVATE_KEY_ENV, APPS_PRIVATE_KEY in taken))
    for key, variable, wanted in pairs:
        if merged.get(key) in (None, ""):
            merged.pop(key, None)
            if wanted and env.get(variable):
                merged[key] = env[variable]
    return merged


def api_token(configured: str | None, env: Mapping[str, str]) -> tuple[str | None, str]:
    """The GitHub API token and where it came from: `githubToken` first, then GITHUB_TOKEN."""
    if configured is not None:
        return configured, API_TOKEN
    return env.get(API_TOKEN_ENV) or None, f"from {API_TOKEN_ENV}"
