"""Tokens and the credential mode: expiry days, the push token, keys of the other mode.

Each test reads the problems the program lists for a stack's configuration, checked on a given day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.helpers import (
    APPS_PUSH_TOKEN,
    ENTERPRISE_TOKEN,
    TOKEN_KEYS,
    app_config,
    config_problems,
)

DAY = date.today() + timedelta(days=60)  # the other tokens stay valid for 120 days
PUSH = {"appsPushToken": APPS_PUSH_TOKEN, "appsPushTokenExpires": "2099-01-01"}
ENTERPRISE = {"enterpriseToken": ENTERPRISE_TOKEN, "enterpriseTokenExpires": "2099-01-01"}


def test_an_enterprise_token_and_its_expiry_go_together() -> None:
    pair = "d1-fleet:enterpriseTokenExpires: enterpriseToken and its expiry date go together"
    token_only = config_problems("prod-eu", {"enterpriseToken": ENTERPRISE_TOKEN})
    assert token_only == [pair]
    assert config_problems("prod-eu", {"enterpriseTokenExpires": "2099-01-01"}) == [pair]
    assert config_problems("prod-eu", ENTERPRISE) == []


def test_the_push_token_and_its_expiry_go_together() -> None:
    pair = "d1-fleet:appsPushTokenExpires: appsPushToken and its expiry date go together"
    no_date = config_problems("staging", {"appsPushToken": APPS_PUSH_TOKEN})
    assert no_date == [pair]
    no_token = config_problems(
        "staging", {"appsPushTokenExpires": "2099-01-01"}, drop=("appsPushToken",)
    )
    assert pair in no_token, no_token


def test_the_push_token_without_image_automation_is_refused() -> None:
    assert config_problems("prod-eu", PUSH) == [
        "d1-fleet:appsPushToken: only read with imageAutomation: true (it is image automation's "
        "push credential); unset it"
    ]
    assert config_problems("prod-eu") == []


def test_image_automation_without_its_push_token_is_refused() -> None:
    assert config_problems("staging", drop=("appsPushToken", "appsPushTokenExpires")) == [
        "d1-fleet:appsPushToken: required with imageAutomation: true: image automation pushes "
        "with it from apps-update alone, so the credential every tenant namespace holds stays "
        "read-only; allowed: a fine-grained token with Contents write on the applications "
        "repository alone (FLEET_APPS_PUSH_TOKEN, or fleet init), and appsPushTokenExpires"
    ]
    assert config_problems("staging", PUSH) == []


@pytest.mark.parametrize(
    ("name", "key", "extra"),
    [
        ("platform", "platformToken", {}),
        ("apps", "appsToken", {}),
        ("enterprise", "enterpriseToken", ENTERPRISE),
        ("appsPush", "appsPushToken", PUSH),
    ],
)
def test_a_token_is_accepted_on_its_expiry_day_and_refused_the_day_after(
    name: str, key: str, extra: dict[str, str]
) -> None:
    stack = "staging" if key == "appsPushToken" else "prod-eu"
    overrides = {**extra, f"{key}Expires": DAY.isoformat()}
    assert config_problems(stack, overrides, today=DAY) == []
    after = config_problems(stack, overrides, today=DAY + timedelta(days=1))
    assert after == [
        f"d1-fleet:{key}: the {name} token expired on {DAY.isoformat()}; create a new token, "
        f"then set it and {key}Expires (see docs/first-run.md#rotating-a-token)"
    ]


def test_every_expired_token_is_listed() -> None:
    expires = {f"{key}Expires": DAY.isoformat() for key in ("platformToken", "appsToken")}
    problems = config_problems("prod-eu", expires, today=DAY + timedelta(days=30))
    assert [p.split(":")[1] for p in problems] == ["platformToken", "appsToken"], problems


def test_a_missing_token_key_is_named_without_the_mode_in_token_mode() -> None:
    assert config_problems("prod-eu", drop=("platformToken",)) == [
        "d1-fleet:platformToken: missing required key"
    ]
    problems = config_problems("prod-eu", drop=("appsToken", "appsTokenExpires"))
    assert problems == [
        "d1-fleet:appsToken: missing required key",
        "d1-fleet:appsTokenExpires: missing required key",
    ]


def test_a_missing_app_key_is_named_with_the_mode() -> None:
    config = app_config(githubAppKeyCreated="")
    assert config_problems("staging", config, (*TOKEN_KEYS, "mergeTeams")) == [
        "d1-fleet:githubAppKeyCreated: missing required key with gitAuth githubApp"
    ]


def test_an_invalid_credential_key_is_reported_once_not_also_as_missing() -> None:
    problems = config_problems("prod-eu", {"platformTokenExpires": "soon"})
    assert [p.split(":")[1] for p in problems] == ["platformTokenExpires"], problems
    assert "is invalid" in problems[0]
    config = app_config(githubAppKeyCreated="yesterday")
    problems = config_problems("staging", config, (*TOKEN_KEYS, "mergeTeams"))
    assert [p.split(":")[1] for p in problems] == ["githubAppKeyCreated"], problems


@pytest.mark.parametrize("key", ["githubAppId", "githubAppInstallationId", "githubAppsAppId"])
def test_app_keys_are_refused_in_token_mode(key: str) -> None:
    problems = config_problems("prod-eu", {key: "123"})
    assert problems == [
        f"d1-fleet:{key}: not allowed with gitAuth token; unset it (token and App keys never mix)"
    ]


def test_the_platform_token_is_refused_in_app_mode_and_the_apps_token_is_not() -> None:
    config = app_config()
    drop = ("appsToken", "appsTokenExpires", "mergeTeams")
    assert config_problems("staging", config, drop) == [
        "d1-fleet:platformToken: not allowed with gitAuth githubApp; unset it (token and App keys "
        "never mix)",
        "d1-fleet:platformTokenExpires: not allowed with gitAuth githubApp; unset it (token and "
        "App keys never mix)",
    ]
    apps_token = app_config(githubAppsAppId="", githubAppsInstallationId="")
    apps_token.update(githubAppsPrivateKey="", githubAppsKeyCreated="")
    problems = config_problems("staging", apps_token, ("platformToken", "platformTokenExpires"))
    assert problems == [], problems


def test_a_future_app_key_date_in_token_mode_is_refused_only_as_a_key_of_the_other_mode() -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    assert config_problems("prod-eu", {"githubAppKeyCreated": tomorrow}) == [
        "d1-fleet:githubAppKeyCreated: not allowed with gitAuth token; unset it (token and App "
        "keys never mix)"
    ]
