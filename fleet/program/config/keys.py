"""The config keys: each key's Pulumi type (for Pulumi.yaml), which are secret, which each
credential mode needs.

Every key is a field of `Settings`; this module answers questions about the keys as names, so
`parse`, `rules`, the preflight and `fleet pulumi-yaml` read one list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import UnionType
from typing import Annotated, Any, Final, Union, get_args, get_origin

from fleet.program import conventions as c
from fleet.program.config import sources
from fleet.program.config.model import Settings
from fleet.program.conventions import GitAuth

SECRET_KEYS: Final = frozenset(
    {
        "platformToken",
        "appsToken",
        "enterpriseToken",
        "githubToken",
        "githubAppPrivateKey",
        "githubAppsPrivateKey",
        "appsPushToken",
    }
)
# Credential keys of each `gitAuth` mode; the other mode's keys must stay unset.
TOKEN_KEYS: Final = ("platformToken", "platformTokenExpires", "appsToken", "appsTokenExpires")
APP_KEYS: Final = ("githubAppId", "githubAppPrivateKey", "githubAppKeyCreated")
APP_INSTALLATION_KEYS: Final = ("githubAppInstallationId", "githubAppInstallationOwner")
# App mode's credential for the applications repository: a second App on it alone, or a token.
APPS_APP_KEYS: Final = (
    "githubAppsAppId",
    "githubAppsInstallationId",
    "githubAppsPrivateKey",
    "githubAppsKeyCreated",
)
APPS_TOKEN_KEYS: Final = ("appsToken", "appsTokenExpires")
PLATFORM_TOKEN_KEYS: Final = ("platformToken", "platformTokenExpires")


# Where each secret key may come from instead of secret config.
SECRET_ENV: Final = {**sources.SECRET_ENV, sources.API_TOKEN: sources.API_TOKEN_ENV}


def plain_text_problems(plain: Iterable[str], stack: str, project: str = c.PROJECT) -> list[str]:
    """A problem for each secret key set in plain text in the stack's config (value never shown).

    A committed stack file is read by everyone with the repository, and an App key never
    expires: the value must be encrypted by `pulumi config set --secret`, or come from the
    environment, never be written as text.
    """
    return [
        f"{project}:{key}: set in plain text in the stack's config; a secret never goes into a "
        f"stack file: remove it, then run `pulumi config set --secret {key} --stack {stack}` "
        f"(it reads the value from stdin and stores it encrypted) or export {SECRET_ENV[key]}"
        for key in sorted(set(plain) & SECRET_KEYS)
    ]


def required_keys(git_auth: str) -> tuple[str, ...]:
    """The credential keys a stack with this `gitAuth` must set."""
    return APP_KEYS if git_auth == GitAuth.GITHUB_APP else TOKEN_KEYS


def field_name(key: str) -> str:
    """The settings field of a camelCase key (platformTokenExpires -> platform_token_expires)."""
    return re.sub(r"[A-Z]", lambda m: f"_{m.group().lower()}", key)


def config_keys() -> dict[str, str]:
    """Every config key the program reads, with its Pulumi config type (for Pulumi.yaml)."""
    return {
        field.alias or name: _declared_type(field.annotation, field.default)
        for name, field in Settings.model_fields.items()
    }


def _declared_type(annotation: Any, default: Any) -> str:
    # The CLI checks a default against its key's type, and "" (not set) is no integer: an optional
    # number without a default of its own (an App id) is declared as text; `parse` reads it as one.
    kind = _pulumi_type(annotation)
    return "string" if kind == "integer" and default is None else kind


def _pulumi_type(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        (annotation,) = (arg for arg in get_args(annotation) if arg is not type(None))
        return _pulumi_type(annotation)
    if origin is Annotated:
        return _pulumi_type(get_args(annotation)[0])
    if origin is tuple:
        return "array"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    return "string"


def unset_when_empty() -> frozenset[str]:
    """Optional keys without a value of their own: Pulumi.yaml declares them with default ""."""
    return frozenset(
        field.alias or name
        for name, field in Settings.model_fields.items()
        if not field.is_required() and field.default is None
    )
