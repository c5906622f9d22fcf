"""Rules on tokens and the credential mode: expiry dates, the push token, keys of the other mode."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.program.config import expiry
from fleet.program.config.keys import (
    APP_INSTALLATION_KEYS,
    APP_KEYS,
    APPS_APP_KEYS,
    PLATFORM_TOKEN_KEYS,
    field_name,
    required_keys,
)
from fleet.program.config.rules.base import Problem, Rules, Values
from fleet.program.conventions import GitAuth

RULES: Final = Rules()


@RULES.reads("enterprise_token", "enterprise_token_expires")
def _enterprise_pair(v: Values) -> Iterator[Problem]:
    if (v["enterprise_token"] is None) != (v["enterprise_token_expires"] is None):
        yield ("enterpriseTokenExpires", "enterpriseToken and its expiry date go together")


@RULES.reads("apps_push_token", "apps_push_token_expires", "image_automation")
def _apps_push_token(v: Values) -> Iterator[Problem]:
    if (v["apps_push_token"] is None) != (v["apps_push_token_expires"] is None):
        yield ("appsPushTokenExpires", "appsPushToken and its expiry date go together")
    if v["apps_push_token"] is not None and not v["image_automation"]:
        yield (
            "appsPushToken",
            "only read with imageAutomation: true (it is image automation's push credential); "
            "unset it",
        )
    if v["apps_push_token"] is None and v["image_automation"]:
        yield (
            "appsPushToken",
            "required with imageAutomation: true: image automation pushes with it from "
            "apps-update alone, so the credential every tenant namespace holds stays read-only; "
            "allowed: a fine-grained token with Contents write on the applications repository "
            "alone (FLEET_APPS_PUSH_TOKEN, or fleet init), and appsPushTokenExpires",
        )


@RULES.reads()
def _expired_tokens(v: Values) -> Iterator[Problem]:
    dates = {
        name: v.values.get(f"{field_name(name)}_token_expires")
        for name in ("platform", "apps", "enterprise", "appsPush")
    }
    report = expiry.report(dates, warning_days=0, today=v.today)
    for problem in report.expired:
        key, _, message = problem.partition(": ")
        yield (key, message)


@RULES.reads("git_auth")
def _credentials_for_mode(v: Values) -> Iterator[Problem]:
    # A key that is absent from the values was invalid and is reported already; None is unset.
    mode = v["git_auth"]
    for key in required_keys(mode):
        if field_name(key) in v.values and v[field_name(key)] is None:
            yield (
                key,
                "missing required key"
                + (f" with gitAuth {mode}" if mode is GitAuth.GITHUB_APP else ""),
            )
    # App mode keeps appsToken as one way to read the applications repository (`_apps_credential`).
    other = (
        PLATFORM_TOKEN_KEYS
        if mode is GitAuth.GITHUB_APP
        else (*APP_KEYS, *APP_INSTALLATION_KEYS, *APPS_APP_KEYS)
    )
    for key in other:
        if v.values.get(field_name(key)) is not None:
            yield (key, f"not allowed with gitAuth {mode}; unset it (token and App keys never mix)")
