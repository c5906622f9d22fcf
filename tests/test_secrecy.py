"""Credentials stay Pulumi secrets because the program makes them so, not because the SDK does.

pulumi_kubernetes' `Secret` marks its whole `data` and `stringData` secret itself, so a recorded
Secret proves nothing about the program. Here that marking is switched off while the real
`__main__.py` runs: each credential value must then arrive secret on its own, and no credential may
appear in any other input or in a stack output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from fleet.program import credentials
from fleet.tools.offline import mock
from fleet.tools.offline.mock import Recording
from tests.helpers import (
    APP_ID,
    APP_KEY,
    APPS_APP_ID,
    APPS_APP_KEY,
    APPS_PUSH_TOKEN,
    APPS_TOKEN,
    ENTERPRISE_TOKEN,
    PLATFORM_TOKEN,
    app_run,
    git_secrets,
    run_component,
    stack_run,
)

SECRET = "kubernetes:core/v1:Secret"
# A line of the App key's body: present in any copy of the key, secret or not.
KEY_LINE = APP_KEY.splitlines()[1]


class _PlainOutput:
    """`pulumi.Output` as the SDK's Secret sees it here: `secret` leaves the value as given."""

    @staticmethod
    def secret(value: Any) -> Any:
        return value


class _WithoutSecretMarking:
    """The `pulumi` module, except that `Output.secret` marks nothing."""

    Output = _PlainOutput

    def __getattr__(self, name: str) -> Any:
        return getattr(pulumi, name)


@contextmanager
def sdk_secret_marking_off() -> Iterator[None]:
    module = sys.modules[k8s.core.v1.Secret.__module__]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "pulumi", _WithoutSecretMarking())
        yield


def string_data(secret: mock.Registration) -> tuple[dict[str, Any], bool]:
    """A Secret's stringData, and whether it arrived secret.

    The SDK serializes a map holding a secret value as one secret map, so with its own marking off
    the map is secret exactly when the program made one of its values secret.
    """
    data, was_secret = mock.unwrap_secret(secret.inputs["stringData"])
    assert isinstance(data, dict), secret.name
    return data, was_secret


def test_without_the_sdk_marking_plain_secret_data_is_recorded_plain() -> None:
    # The control: what the tests below see when a program forgets to mark a value secret.
    def build() -> None:
        k8s.core.v1.Secret("plain", string_data={"token": "visible"})
        k8s.core.v1.Secret("marked", string_data={"token": pulumi.Output.secret("hidden")})

    with sdk_secret_marking_off():
        run = run_component(build)
    assert string_data(run.get(SECRET, "plain")) == ({"token": "visible"}, False)
    assert string_data(run.get(SECRET, "marked")) == ({"token": "hidden"}, True)
    assert string_data(run_component(build).get(SECRET, "plain")) == ({"token": "visible"}, True)


def elsewhere(run: Recording) -> str:
    """Every recorded input but the Secrets' data, and every stack output, as text."""
    parts = []
    for r in run.resources:
        inputs = {k: v for k, v in r.inputs.items() if not (r.type == SECRET and k == "stringData")}
        parts.append(json.dumps(inputs, default=str))
    parts.append(json.dumps(run.outputs, default=str))
    return "\n".join(parts)


def test_secret_data_marks_each_credential_value_secret() -> None:
    def build() -> None:
        app = credentials.secret_data(
            credentials.GitHubApp(app_id=APP_ID, private_key=APP_KEY, installation_id=7)
        )
        tokens = credentials.secret_data(PLATFORM_TOKEN)
        for key, value in {**app, **{f"token-{k}": v for k, v in tokens.items()}}.items():
            pulumi.export(key, value)

    run = run_component(build)
    assert run.outputs["githubAppPrivateKey"] == APP_KEY
    assert run.secret_outputs == {"githubAppPrivateKey", "token-password", "token-token"}


@pytest.mark.parametrize("source", ["config", "environment"])
def test_app_key_reaches_every_git_secret_as_a_secret(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if source == "environment":
        monkeypatch.setenv("FLEET_GITHUB_APP_PRIVATE_KEY", APP_KEY)
        monkeypatch.setenv("FLEET_GITHUB_APPS_PRIVATE_KEY", APPS_APP_KEY)
    config = source == "config"
    with sdk_secret_marking_off():
        run = app_run(
            "staging",
            githubAppPrivateKey=APP_KEY if config else "",
            githubAppsPrivateKey=APPS_APP_KEY if config else "",
        )
    secrets = git_secrets(run)
    # flux-system, flux-apps and its copies in backend and frontend (apps-update pushes with
    # appsPushToken, checked in test_tokens_reach_every_git_secret_as_secrets).
    assert len(secrets) == 4
    for secret in secrets:
        data, was_secret = string_data(secret)
        # The key is the only value the program marks (secret_data above): the map is secret
        # because of it.
        assert was_secret, secret.name
        platform = secret.inputs["metadata"]["name"] == "flux-system"
        assert data["githubAppPrivateKey"] == (APP_KEY if platform else APPS_APP_KEY), secret.name
        assert data["githubAppID"] == str(APP_ID if platform else APPS_APP_ID), secret.name
    assert KEY_LINE not in elsewhere(run)
    assert APPS_APP_KEY.splitlines()[1] not in elsewhere(run)


def test_tokens_reach_every_git_secret_as_secrets() -> None:
    with sdk_secret_marking_off():
        run = stack_run(
            "staging", {"enterpriseToken": ENTERPRISE_TOKEN, "enterpriseTokenExpires": "2099-01-01"}
        )
    pushing = [r for r in run.of_type(SECRET) if r.inputs["metadata"]["namespace"] == "apps-update"]
    assert pushing, "staging runs image automation"
    for secret in [*git_secrets(run), *pushing]:
        data, was_secret = string_data(secret)
        token = PLATFORM_TOKEN if secret.inputs["metadata"]["name"] == "flux-system" else APPS_TOKEN
        if secret.inputs["metadata"]["namespace"] == "apps-update":
            token = APPS_PUSH_TOKEN
        assert was_secret, secret.name
        assert data["password"] == data["token"] == token, secret.name
    enterprise = run.get(SECRET, "cluster-credentials-enterprise")
    config, was_secret = string_data(enterprise)
    assert was_secret
    assert ENTERPRISE_TOKEN in config[".dockerconfigjson"]
    text = elsewhere(run)
    for token in (PLATFORM_TOKEN, APPS_TOKEN, ENTERPRISE_TOKEN, APPS_PUSH_TOKEN):
        assert token not in text
