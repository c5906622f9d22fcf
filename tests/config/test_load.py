"""`load`: secret keys refused in plain text by the program itself, and secret config over FLEET_*."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fleet.program.config import keys, model, sources
from fleet.tools.offline import mock, render
from tests.helpers import (
    APP_KEY,
    APPS_APP_KEY,
    APPS_PUSH_TOKEN,
    APPS_TOKEN,
    ENTERPRISE_TOKEN,
    PLATFORM_TOKEN,
    ROOT,
    SECRET_KEYS,
    TOKEN_KEYS,
    app_config,
    git_secrets,
    push_token_for,
    stack_run,
    token_config,
)

GITHUB_TOKEN = "ghp_" + "G" * 36
# A valid value for each secret key, and whether the key belongs to App mode.
VALUES = {
    "platformToken": (PLATFORM_TOKEN, False),
    "appsToken": (APPS_TOKEN, False),
    "enterpriseToken": (ENTERPRISE_TOKEN, False),
    "githubToken": (GITHUB_TOKEN, False),
    "githubAppPrivateKey": (APP_KEY, True),
    "githubAppsPrivateKey": (APPS_APP_KEY, True),
    "appsPushToken": ("github_pat_" + "W" * 82, False),
}


def _config(app: bool) -> dict[str, str]:
    config = mock.stack_config(ROOT, "staging")
    if app:
        config.update({f"d1-fleet:{k}": v for k, v in app_config().items()})
        config.pop("d1-fleet:mergeTeams", None)
    else:
        config.update(token_config())
    config.update(push_token_for(config))
    return config


def test_every_secret_key_has_a_value_here() -> None:
    assert set(VALUES) == keys.SECRET_KEYS


@pytest.mark.parametrize("key", sorted(VALUES))
def test_a_secret_key_in_plain_text_config_is_refused_by_the_program(key: str) -> None:
    """The engine hands the program the stack's encrypted keys (pulumi/pulumi
    pkg/resource/deploy/source_eval.go: `Config.SecureKeys()`), which the Python language host
    passes as PULUMI_CONFIG_SECRET_KEYS (sdk/python/cmd/pulumi-language-python/main.go) and
    pulumi-language-python-exec loads with `set_all_config`, where `is_config_secret` reads them
    (sdk/python/lib/pulumi/runtime/config.py). The mock runtime is given the same list: every
    secret key but `key`, which the stack file holds in plain text."""
    value, app = VALUES[key]
    config = {**_config(app), f"d1-fleet:{key}": value}
    if key in ("enterpriseToken", "appsPushToken"):
        config[f"d1-fleet:{key}Expires"] = "2099-01-01"
    plain = f"d1-fleet:{key}"
    with pytest.raises(mock.ProgramError) as caught:
        mock.run_main(
            ROOT,
            config=config,
            stack_name="staging",
            secret_keys=tuple(k for k in SECRET_KEYS if k != plain),
        )
    text = str(caught.value)
    assert f"{plain}: set in plain text in the stack's config" in text
    assert f"`pulumi config set --secret {key} --stack staging`" in text
    assert f"export {keys.SECRET_ENV[key]}" in text
    assert value not in text
    assert value.splitlines()[0 if not app else 1] not in text
    assert caught.value.recording.resources == []
    # Marked secret, the same value is taken.
    mock.run_main(ROOT, config=config, stack_name="staging", secret_keys=SECRET_KEYS)


def test_secret_values_from_the_environment_stay_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLEET_PLATFORM_TOKEN", PLATFORM_TOKEN)
    monkeypatch.setenv("FLEET_APPS_TOKEN", APPS_TOKEN)
    assert git_secrets(stack_run("staging", drop=("platformToken", "appsToken")))


def test_render_reports_the_programs_refusal_for_a_plain_secret_in_a_stack_file(
    tmp_path: Path,
) -> None:
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    text = (ROOT / "Pulumi.staging.yaml").read_text()
    (tmp_path / "Pulumi.bad.yaml").write_text(f"{text}  d1-fleet:appsToken: {APPS_TOKEN}\n")
    with pytest.raises(render.RenderError) as caught:
        render.render_stack(tmp_path, "bad")
    message = str(caught.value)
    assert keys.plain_text_problems(["appsToken"], "bad")[0] in message
    assert APPS_TOKEN not in message


def test_secret_config_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sources.from_environment`: a FLEET_* variable fills only a key the config lacks."""
    others = {
        "FLEET_PLATFORM_TOKEN": "github_pat_" + "X" * 82,
        "FLEET_APPS_TOKEN": "github_pat_" + "Y" * 82,
        "FLEET_PLATFORM_TOKEN_EXPIRES": "2099-12-31",
        "FLEET_APPS_TOKEN_EXPIRES": "2099-12-31",
        "FLEET_GITHUB_APP_PRIVATE_KEY": APPS_APP_KEY,
        "FLEET_GITHUB_APPS_PRIVATE_KEY": APP_KEY,
        "FLEET_APPS_PUSH_TOKEN": "github_pat_" + "Z" * 82,
        "FLEET_APPS_PUSH_TOKEN_EXPIRES": "2099-12-31",
    }
    for variable, value in others.items():
        monkeypatch.setenv(variable, value)
    for secret in git_secrets(stack_run("staging")):
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        name, namespace = secret.inputs["metadata"]["name"], secret.inputs["metadata"]["namespace"]
        pushes = namespace == "apps-update"
        expected = PLATFORM_TOKEN if name == "flux-system" else APPS_TOKEN
        assert data["password"] == (APPS_PUSH_TOKEN if pushes else expected)
    run = stack_run("staging", app_config(), drop=(*TOKEN_KEYS, "mergeTeams"))
    for secret in git_secrets(run):
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        name, namespace = secret.inputs["metadata"]["name"], secret.inputs["metadata"]["namespace"]
        if namespace == "apps-update":
            assert data["password"] == APPS_PUSH_TOKEN
            continue
        assert data["githubAppPrivateKey"] == (APP_KEY if name == "flux-system" else APPS_APP_KEY)
    # The expiry dates too: config's, not the environment's.
    assert stack_run("staging").outputs["tokenDaysLeft"]["platform"] < 365


def test_enterprise_token_comes_from_its_variable_in_every_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FLEET_ENTERPRISE_TOKEN is the one optional credential `from_environment` takes: a stack
    without `enterpriseToken` gets the registry Secret and its days left from the variables."""
    monkeypatch.setenv("FLEET_ENTERPRISE_TOKEN", ENTERPRISE_TOKEN)
    monkeypatch.setenv("FLEET_ENTERPRISE_TOKEN_EXPIRES", "2099-12-31")
    for run in (stack_run("staging"), stack_run("staging", app_config(), drop=TOKEN_KEYS)):
        secret = run.get("kubernetes:core/v1:Secret", "cluster-credentials-enterprise")
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        assert ENTERPRISE_TOKEN in mock.unwrap_secret(data[".dockerconfigjson"])[0]
        assert "enterprise" in run.outputs["tokenDaysLeft"]
    # Without the variable there is no enterprise credential at all.
    monkeypatch.delenv("FLEET_ENTERPRISE_TOKEN")
    monkeypatch.delenv("FLEET_ENTERPRISE_TOKEN_EXPIRES")
    run = stack_run("staging")
    assert not [r for r in run.resources if r.name == "cluster-credentials-enterprise"]
    assert "enterprise" not in run.outputs["tokenDaysLeft"]


def test_secret_sources_table_names_every_secret_key_and_each_app_keys_date() -> None:
    """One table of where each secret may come from: every secret key but the GitHub API token
    (its own variable) has a FLEET_* variable, and each App key the key recording its creation,
    which the settings model declares."""
    assert set(sources.SECRET_ENV) == set(keys.SECRET_KEYS) - {sources.API_TOKEN}
    assert all(env.startswith("FLEET_") for env in sources.SECRET_ENV.values())
    declared = {f.alias for f in model.Settings.model_fields.values()}
    for source in sources.APP_KEYS:
        assert source.created_key in declared, source
        assert sources.SECRET_ENV[source.key] == source.env
