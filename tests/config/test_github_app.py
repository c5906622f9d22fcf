"""GitHub App mode and the owner stack's GitHub access: what a stack's configuration may combine.

Each test reads the problems the program lists for a stack's configuration, checked on a given day.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from fleet.program import conventions as c
from tests.helpers import APPS_TOKEN, TOKEN_KEYS, app_config, config_problems

TODAY = date.today()
OWNER = "controlplaneio-fluxcd"  # githubOwner of both stacks
APP_DROP = (*TOKEN_KEYS, "mergeTeams")
SYNC = {
    "syncKind": "GitRepository",
    "syncUrl": "https://github.com/acme/d1-fleet.git",
    "syncRef": "refs/heads/main",
    "syncPath": "clusters/staging",
}
NO_APPS_APP = {
    "githubAppsAppId": "",
    "githubAppsInstallationId": "",
    "githubAppsPrivateKey": "",
    "githubAppsKeyCreated": "",
}


def app_problems(stack: str = "staging", /, **changes: str) -> list[str]:
    """The problems of `stack` switched to the App, with `changes` ("" unsets a key)."""
    return app_problems_on(date.today(), stack, **changes)


def app_problems_on(today: date, stack: str = "staging", /, **changes: str) -> list[str]:
    """`app_problems` checked on `today`."""
    drop = tuple(key for key in APP_DROP if key not in changes)
    return config_problems(stack, {**app_config(), **changes}, drop, today=today)


def test_an_app_stack_is_accepted() -> None:
    assert app_problems() == []
    assert app_problems("prod-eu", botPushAccess="rulesetBypass") == []


def test_app_mode_without_a_credential_for_the_applications_repository_is_refused() -> None:
    assert app_problems(**NO_APPS_APP) == [
        "d1-fleet:githubAppsAppId: missing with gitAuth githubApp: tenant namespaces need a "
        "credential that reaches d1-apps only, and the GitHub App's key never leaves "
        "flux-system; allowed: a second GitHub App installed on d1-apps alone (githubAppsAppId, "
        "githubAppsInstallationId, githubAppsPrivateKey, githubAppsKeyCreated), or a "
        "fine-grained token for d1-apps (appsToken, appsTokenExpires)"
    ]
    (other,) = app_problems(**NO_APPS_APP, appsRepository="tenant-apps")
    assert "reaches tenant-apps only" in other


def test_app_mode_reads_the_applications_repository_with_a_token_alone() -> None:
    token = {"appsToken": APPS_TOKEN, "appsTokenExpires": "2099-01-01"}
    assert app_problems(**NO_APPS_APP, **token) == []
    assert app_problems(**NO_APPS_APP, appsToken=APPS_TOKEN) == [
        "d1-fleet:appsTokenExpires: missing required key with appsToken (gitAuth githubApp)"
    ]


def test_app_mode_with_both_the_second_app_and_a_token_is_refused() -> None:
    problems = app_problems(appsToken=APPS_TOKEN, appsTokenExpires="2099-01-01")
    assert problems == [
        "d1-fleet:appsToken: set either the second App (githubApps*) or appsToken for the "
        "applications repository, not both"
    ]


def test_a_partial_second_app_names_each_missing_key_after_the_first_given() -> None:
    problems = app_problems(githubAppsAppId="", githubAppsPrivateKey="")
    assert problems == [
        "d1-fleet:githubAppsAppId: missing required key with githubAppsInstallationId "
        "(gitAuth githubApp)",
        "d1-fleet:githubAppsPrivateKey: missing required key with githubAppsInstallationId "
        "(gitAuth githubApp)",
    ]


def test_the_second_app_is_another_app() -> None:
    problems = app_problems(githubAppsAppId=app_config()["githubAppId"])
    assert problems == [
        "d1-fleet:githubAppsAppId: is githubAppId: the applications repository's App must be a "
        "second App, installed on that repository alone, so the first App's key never reaches "
        "tenant namespaces"
    ]


@pytest.mark.parametrize("key", ["githubAppKeyCreated", "githubAppsKeyCreated"])
def test_a_key_created_today_is_accepted_and_tomorrow_refused(key: str) -> None:
    assert app_problems_on(TODAY, **{key: TODAY.isoformat()}) == []
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert app_problems_on(TODAY, **{key: tomorrow}) == [
        f"d1-fleet:{key}: {tomorrow} is in the future; allowed: the date the key was generated "
        "on (YYYY-MM-DD), today or earlier"
    ]


def test_exactly_one_installation_is_named() -> None:
    assert app_problems(githubAppInstallationId="") == [
        "d1-fleet:githubAppInstallationId: set exactly one of githubAppInstallationId or "
        "githubAppInstallationOwner"
    ]
    assert app_problems(githubAppInstallationOwner=OWNER, fluxVersion="2.8.x") == [
        "d1-fleet:githubAppInstallationId: set exactly one of githubAppInstallationId or "
        "githubAppInstallationOwner (both are set)"
    ]
    assert (
        app_problems(
            githubAppInstallationId="", githubAppInstallationOwner=OWNER, fluxVersion="2.8.x"
        )
        == []
    )


@pytest.mark.parametrize("owner", [OWNER, OWNER.upper(), "ControlPlaneIO-FluxCD"])
def test_the_installation_owner_is_githubowner_in_any_case(owner: str) -> None:
    chosen = {"githubAppInstallationOwner": owner, "fluxVersion": "2.8.x"}
    assert app_problems(githubAppInstallationId="", **chosen) == []


@pytest.mark.parametrize("owner", ["controlplaneio", f"{OWNER}-bot", "other"])
def test_an_installation_of_another_account_is_refused(owner: str) -> None:
    chosen = {"githubAppInstallationOwner": owner, "fluxVersion": "2.8.x"}
    assert app_problems(githubAppInstallationId="", **chosen) == [
        f"d1-fleet:githubAppInstallationOwner: {owner!r} is not githubOwner {OWNER!r}, the account "
        "that owns the repositories Flux reads; allowed: githubOwner's login, where the App is "
        "installed"
    ]


def test_the_installation_owner_needs_flux_2_8() -> None:
    owner = {"githubAppInstallationId": "", "githubAppInstallationOwner": OWNER}
    assert app_problems(fluxVersion="2.8.x", **owner) == []
    assert app_problems(fluxVersion="2.7.x", **owner) == [
        "d1-fleet:githubAppInstallationOwner: needs Flux 2.8 or later, but fluxVersion is "
        "'2.7.x'; set githubAppInstallationId instead"
    ]
    assert app_problems(fluxVersion="2.7.x") == []


_WITHOUT_WATCHER = json.dumps([n for n in c.DEFAULT_COMPONENTS if n != "source-watcher"])


@pytest.mark.usefixtures("older_flux_lines")
def test_app_mode_needs_flux_2_6() -> None:
    older = {"botPushAccess": "rulesetBypass", "fluxComponents": _WITHOUT_WATCHER}
    assert app_problems("prod-eu", fluxVersion="2.6.x", **older) == []
    assert app_problems("prod-eu", fluxVersion="2.5.x", **older) == [
        "d1-fleet:fluxVersion: '2.5.x' is too old for gitAuth githubApp, which needs Flux 2.6 "
        "or later (App auth on every Flux API); allowed: fluxVersion 2.6.x or later, or gitAuth "
        "token"
    ]
    token_mode = {"fluxVersion": "2.5.x", "fluxComponents": _WITHOUT_WATCHER}
    assert config_problems("prod-eu", token_mode) == []


def test_the_owner_stack_grants_its_installation_by_id() -> None:
    owner = {"githubAppInstallationId": "", "githubAppInstallationOwner": OWNER}
    assert app_problems(githubAccessOwner="true", fluxVersion="2.8.x", **owner) == [
        "d1-fleet:githubAppInstallationOwner: the githubAccessOwner stack grants the installation "
        "its repositories by id; set githubAppInstallationId instead"
    ]
    assert app_problems(githubAccessOwner="true") == []


def test_branch_protection_is_refused_in_app_mode() -> None:
    assert app_problems(botPushAccess="branchProtection") == [
        "d1-fleet:botPushAccess: branchProtection names a team; with gitAuth githubApp use "
        "rulesetBypass or none"
    ]
    assert app_problems(botPushAccess="rulesetBypass") == []


def test_an_app_git_sync_uses_provider_github_and_a_pull_secret() -> None:
    secret = {"syncPullSecret": "flux-system"}
    assert app_problems(**SYNC, syncProvider="github", **secret) == []
    assert app_problems(**SYNC, **secret) == []
    assert app_problems(**SYNC, syncProvider="generic", **secret) == [
        "d1-fleet:syncProvider: with gitAuth githubApp a GitRepository sync uses provider github"
    ]
    assert app_problems(**SYNC, syncProvider="github") == [
        "d1-fleet:syncPullSecret: required with gitAuth githubApp: the secret holding the App's "
        "data, e.g. flux-system"
    ]


def test_an_app_oci_sync_needs_no_pull_secret() -> None:
    oci = {**SYNC, "syncKind": "OCIRepository", "syncUrl": "oci://ghcr.io/acme/fleet"}
    assert app_problems(**{**oci, "syncRef": "latest"}) == []


@pytest.mark.parametrize(
    "url", ["ssh://git@github.com/acme/d1-fleet.git", "http://github.com/acme/d1-fleet.git"]
)
def test_an_app_git_sync_goes_over_https(url: str) -> None:
    problems = app_problems(**{**SYNC, "syncUrl": url}, syncPullSecret="flux-system")
    assert problems == [
        f"d1-fleet:syncUrl: {url!r}: with gitAuth githubApp Flux authenticates over HTTPS with "
        "an installation token; allowed: an https:// URL such as "
        "https://github.com/org/fleet.git"
    ]
    assert config_problems("prod-eu", {**SYNC, "syncUrl": url}) == []


@pytest.mark.parametrize("secret", ["", c.PLATFORM_SECRET, c.APPS_SECRET, c.ENTERPRISE_SECRET])
def test_provider_github_in_token_mode_needs_a_secret_with_app_data(secret: str) -> None:
    problems = config_problems(
        "prod-eu", {**SYNC, "syncProvider": "github", "syncPullSecret": secret}
    )
    assert problems == [
        "d1-fleet:syncProvider: github needs a syncPullSecret holding GitHub App data, and with "
        f"gitAuth token {c.PLATFORM_SECRET}, {c.APPS_SECRET}, {c.ENTERPRISE_SECRET} hold tokens; "
        "allowed: no syncProvider (or generic), a syncPullSecret created with the App's data, "
        "or gitAuth githubApp"
    ]


def test_provider_github_in_token_mode_with_an_app_secret_is_accepted() -> None:
    sync = {**SYNC, "syncProvider": "github", "syncPullSecret": "github-app"}
    assert config_problems("prod-eu", sync) == []
    assert config_problems("prod-eu", {**SYNC, "syncProvider": "generic"}) == []


def test_the_key_age_limit_is_read_in_app_mode_only() -> None:
    assert config_problems("prod-eu", {"githubAppKeyMaxAgeDays": "90"}) == []
    assert config_problems("prod-eu", {"githubAppKeyMaxAgeDays": "60"}) == [
        "d1-fleet:githubAppKeyMaxAgeDays: only read with gitAuth githubApp; unset it (token and "
        "App keys never mix)"
    ]
    assert app_problems(githubAppKeyMaxAgeDays="60") == []


def test_app_mode_has_no_merge_teams_and_no_bot_outside_the_owner_stack() -> None:
    problems = config_problems("staging", app_config(mergeTeams='["admins"]'), TOKEN_KEYS)
    assert problems == [
        "d1-fleet:mergeTeams: not allowed with gitAuth githubApp: it only joins "
        "branchProtection's push allowances, which App mode refuses; unset it"
    ]
    assert app_problems(botUsername="fleet-bot") == [
        "d1-fleet:botUsername: not allowed with gitAuth githubApp: only the githubAccessOwner "
        "stack declares the bot team; unset it"
    ]
    assert app_problems(botUsername="fleet-bot", githubAccessOwner="true") == []


# Token mode: the owner stack's bot and its push rule.


def test_the_token_mode_owner_stack_needs_its_bot() -> None:
    assert config_problems("prod-eu", {"githubAccessOwner": "true", "botUsername": ""}) == [
        "d1-fleet:botUsername: required when githubAccessOwner is true"
    ]
    owner = {"githubAccessOwner": "true", "botUsername": "fleet-bot"}
    assert config_problems("prod-eu", owner) == []
    assert app_problems(githubAccessOwner="true") == []


def test_branch_protection_needs_merge_teams_in_token_mode() -> None:
    protect = {"botPushAccess": "branchProtection", "mergeTeams": "[]"}
    assert config_problems("prod-eu", protect) == [
        "d1-fleet:mergeTeams: required with botPushAccess branchProtection: only the listed "
        "teams and the bot may push (merging a pull request is a push)"
    ]
    assert config_problems("prod-eu", {**protect, "mergeTeams": '["admins"]'}) == []
    assert config_problems("prod-eu", {"botPushAccess": "rulesetBypass", "mergeTeams": "[]"}) == []
