"""Rules of GitHub App mode: the two Apps, their installation, key ages, the sync it authenticates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final
from urllib.parse import urlsplit

from fleet.program import conventions as c
from fleet.program.config import expiry
from fleet.program.config.formats import flux_minor
from fleet.program.config.keys import (
    APP_INSTALLATION_KEYS,
    APPS_APP_KEYS,
    APPS_TOKEN_KEYS,
    field_name,
)
from fleet.program.config.rules.base import Problem, Rules, Values
from fleet.program.conventions import GitAuth
from fleet.program.github_access.plan import PushAccess

RULES: Final = Rules()

_APPS_CREDENTIAL_KEYS: Final = (*APPS_APP_KEYS, *APPS_TOKEN_KEYS)

# Flux 2.6 authenticates as a GitHub App on every API the stack uses (clone, push, commit status);
# Flux 2.8 finds an installation by its owner.
APP_MIN_FLUX_MINOR: Final = 6
APP_OWNER_MIN_FLUX_MINOR: Final = 8

# Secrets the stack writes itself: tokens in token mode, a registry login.
_STACK_SECRETS: Final = (c.PLATFORM_SECRET, c.APPS_SECRET, c.ENTERPRISE_SECRET)


@RULES.reads("git_auth", "apps_repository", *(field_name(key) for key in _APPS_CREDENTIAL_KEYS))
def _apps_credential(v: Values) -> Iterator[Problem]:
    # Tenant namespaces hold a copy of the applications repository's credential, and their
    # administrators (ClusterRole admin) read Secrets: in App mode it cannot be the App whose key
    # mints tokens for the platform repository and bypasses its rules.
    if v["git_auth"] is not GitAuth.GITHUB_APP:
        return
    app = [key for key in APPS_APP_KEYS if v[field_name(key)] is not None]
    token = [key for key in APPS_TOKEN_KEYS if v[field_name(key)] is not None]
    repo = v["apps_repository"]
    if not app and not token:
        yield (
            "githubAppsAppId",
            "missing with gitAuth githubApp: tenant namespaces need a credential that reaches "
            f"{repo} only, and the GitHub App's key never leaves flux-system; allowed: a second "
            f"GitHub App installed on {repo} alone (githubAppsAppId, githubAppsInstallationId, "
            "githubAppsPrivateKey, githubAppsKeyCreated), or a fine-grained token for "
            f"{repo} (appsToken, appsTokenExpires)",
        )
        return
    if app and token:
        yield (
            "appsToken",
            "set either the second App (githubApps*) or appsToken for the applications "
            "repository, not both",
        )
        return
    given, group = (app, APPS_APP_KEYS) if app else (token, APPS_TOKEN_KEYS)
    for key in group:
        if key not in given:
            yield (key, f"missing required key with {given[0]} (gitAuth githubApp)")


@RULES.reads("git_auth", "github_app_id", "github_apps_app_id")
def _apps_app_is_another_app(v: Values) -> Iterator[Problem]:
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and v["github_apps_app_id"] is not None
        and v["github_apps_app_id"] == v["github_app_id"]
    ):
        yield (
            "githubAppsAppId",
            "is githubAppId: the applications repository's App must be a second App, installed "
            "on that repository alone, so the first App's key never reaches tenant namespaces",
        )


@RULES.reads("git_auth", "github_apps_key_created")
def _apps_key_created(v: Values) -> Iterator[Problem]:
    created = v["github_apps_key_created"]
    if v["git_auth"] is GitAuth.GITHUB_APP and created is not None and created > v.today:
        yield (
            "githubAppsKeyCreated",
            f"{created.isoformat()} is in the future; allowed: the date the key was generated "
            "on (YYYY-MM-DD), today or earlier",
        )


@RULES.reads("git_auth", "github_app_installation_id", "github_app_installation_owner")
def _one_installation(v: Values) -> Iterator[Problem]:
    given = [key for key in APP_INSTALLATION_KEYS if v[field_name(key)] is not None]
    if v["git_auth"] is GitAuth.GITHUB_APP and len(given) != 1:
        yield (
            "githubAppInstallationId",
            "set exactly one of githubAppInstallationId or githubAppInstallationOwner"
            + (" (both are set)" if given else ""),
        )


@RULES.reads("git_auth", "flux_version")
def _app_needs_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if v["git_auth"] is GitAuth.GITHUB_APP and minor is not None and minor < APP_MIN_FLUX_MINOR:
        yield (
            "fluxVersion",
            f"{v['flux_version']!r} is too old for gitAuth githubApp, which needs Flux "
            f"2.{APP_MIN_FLUX_MINOR} or later (App auth on every Flux API); allowed: fluxVersion "
            f"2.{APP_MIN_FLUX_MINOR}.x or later, or gitAuth token",
        )


@RULES.reads("git_auth", "github_app_installation_owner", "flux_version")
def _installation_owner_needs_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and v["github_app_installation_owner"] is not None
        and minor is not None
        and minor < APP_OWNER_MIN_FLUX_MINOR
    ):
        yield (
            "githubAppInstallationOwner",
            f"needs Flux 2.{APP_OWNER_MIN_FLUX_MINOR} or later, but fluxVersion is "
            f"{v['flux_version']!r}; set githubAppInstallationId instead",
        )


@RULES.reads("git_auth", "github_app_installation_owner", "github_owner")
def _installation_owner_owns_the_repositories(v: Values) -> Iterator[Problem]:
    # Flux looks the installation up by this account and reads githubOwner's repositories with
    # it: another account's installation cannot reach them. GitHub logins ignore case.
    owner = v["github_app_installation_owner"]
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and owner is not None
        and owner.lower() != v["github_owner"].lower()
    ):
        yield (
            "githubAppInstallationOwner",
            f"{owner!r} is not githubOwner {v['github_owner']!r}, the account that owns the "
            "repositories Flux reads; allowed: githubOwner's login, where the App is installed",
        )


@RULES.reads("git_auth", "github_access_owner", "github_app_installation_owner")
def _owner_stack_needs_installation_id(v: Values) -> Iterator[Problem]:
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and v["github_access_owner"]
        and v["github_app_installation_owner"] is not None
    ):
        yield (
            "githubAppInstallationOwner",
            "the githubAccessOwner stack grants the installation its repositories by id; "
            "set githubAppInstallationId instead",
        )


@RULES.reads("git_auth", "bot_push_access")
def _app_refuses_branch_protection(v: Values) -> Iterator[Problem]:
    if v["git_auth"] is GitAuth.GITHUB_APP and v["bot_push_access"] is PushAccess.BRANCH_PROTECTION:
        yield (
            "botPushAccess",
            "branchProtection names a team; with gitAuth githubApp use rulesetBypass or none",
        )


@RULES.reads("git_auth", "sync_kind", "sync_provider", "sync_pull_secret")
def _app_sync(v: Values) -> Iterator[Problem]:
    if v["git_auth"] is not GitAuth.GITHUB_APP or v["sync_kind"] != "GitRepository":
        return
    if v["sync_provider"] not in (None, "github"):
        yield ("syncProvider", "with gitAuth githubApp a GitRepository sync uses provider github")
    if v["sync_pull_secret"] is None:
        yield (
            "syncPullSecret",
            "required with gitAuth githubApp: the secret holding the App's data, e.g. flux-system",
        )


@RULES.reads("git_auth", "sync_kind", "sync_url")
def _app_sync_url(v: Values) -> Iterator[Problem]:
    url = v["sync_url"]
    if v["git_auth"] is not GitAuth.GITHUB_APP or v["sync_kind"] != "GitRepository" or not url:
        return
    if urlsplit(url).scheme != "https":
        yield (
            "syncUrl",
            f"{url!r}: with gitAuth githubApp Flux authenticates over HTTPS with an installation "
            "token; allowed: an https:// URL such as https://github.com/org/fleet.git",
        )


@RULES.reads("git_auth", "sync_kind", "sync_provider", "sync_pull_secret")
def _token_sync_provider(v: Values) -> Iterator[Problem]:
    # source-controller reads App data from the pull secret when the provider is github and
    # fails without it; in token mode the stack's own secrets hold tokens.
    if v["git_auth"] is GitAuth.GITHUB_APP or v["sync_kind"] != "GitRepository":
        return
    if v["sync_provider"] == "github" and v["sync_pull_secret"] in (None, *_STACK_SECRETS):
        yield (
            "syncProvider",
            "github needs a syncPullSecret holding GitHub App data, and with gitAuth token "
            f"{', '.join(_STACK_SECRETS)} hold tokens; allowed: no syncProvider (or generic), "
            "a syncPullSecret created with the App's data, or gitAuth githubApp",
        )


@RULES.reads("git_auth", "github_app_key_max_age_days")
def _app_key_age_needs_app(v: Values) -> Iterator[Problem]:
    # Pulumi.yaml declares the default, so only a value other than it shows the user chose one.
    if v["git_auth"] is not GitAuth.GITHUB_APP and v.changed("github_app_key_max_age_days"):
        yield (
            "githubAppKeyMaxAgeDays",
            "only read with gitAuth githubApp; unset it (token and App keys never mix)",
        )


@RULES.reads("git_auth", "github_access_owner", "bot_username", "merge_teams")
def _app_has_no_bot(v: Values) -> Iterator[Problem]:
    if v["git_auth"] is not GitAuth.GITHUB_APP:
        return
    if v["merge_teams"]:
        yield (
            "mergeTeams",
            "not allowed with gitAuth githubApp: it only joins branchProtection's push "
            "allowances, which App mode refuses; unset it",
        )
    # The githubAccessOwner stack keeps the bot team while other stacks use tokens (checked
    # against the fleet's stack files); any other App-mode stack has no bot account.
    if v["bot_username"] is not None and not v["github_access_owner"]:
        yield (
            "botUsername",
            "not allowed with gitAuth githubApp: only the githubAccessOwner stack declares the "
            "bot team; unset it",
        )


@RULES.reads("git_auth", "github_app_key_created")
def _app_key_created(v: Values) -> Iterator[Problem]:
    created = v["github_app_key_created"]
    if v["git_auth"] is GitAuth.GITHUB_APP and created is not None:
        for problem in expiry.KeyAge.of(created, 1, v.today).problems:
            key, _, message = problem.partition(": ")
            yield (key, message)
