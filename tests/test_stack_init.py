"""`fleet init`: the stack is created, credentials stored encrypted from the environment or a
hidden prompt, on the CLI's stdin, never argv (`pulumi config set --secret KEY` without a value
reads stdin when it is not a terminal: pulumi/pulumi `pkg/cmd/pulumi/config/config.go`,
`configSetCmd.Run`). Checked against a recording stand-in CLI.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet.tools.operations import init
from tests import fake_pulumi
from tests.helpers import APP_KEY, APPS_APP_KEY, app_stack_file

TOKENS = fake_pulumi.token_env()
PUSH_TOKEN = TOKENS["FLEET_APPS_PUSH_TOKEN"]


def prompts(answers: dict[str, str], asked: list[tuple[str, bool]]) -> init.Ask:
    def ask(prompt: str, hidden: bool) -> str:
        asked.append((prompt, hidden))
        return next(v for k, v in answers.items() if prompt.startswith(k))

    return ask


def test_init_stores_prompted_tokens_on_stdin_with_hidden_input(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli)
    asked: list[tuple[str, bool]] = []
    answers = {
        "platformToken expires": "2099-03-31",
        "appsToken expires": "2099-04-30",
        "appsPushToken expires": "2099-05-31",
        "platformToken": f"  {fake_pulumi.PLATFORM_TOKEN}\n",
        "appsToken": fake_pulumi.APPS_TOKEN,
        # staging runs image automation, which pushes with its own token.
        "appsPushToken": PUSH_TOKEN,
    }
    ask = prompts(answers, asked)
    assert init.initialise("staging", env, project, ask) == 0
    calls = cli.calls()
    assert calls[0].argv == ["stack", "select", "--create", "staging"]
    secret = {c.argv[3]: c.stdin for c in calls if "--secret" in c.argv}
    assert secret == {
        "platformToken": fake_pulumi.PLATFORM_TOKEN,
        "appsToken": fake_pulumi.APPS_TOKEN,
        "appsPushToken": PUSH_TOKEN,
    }
    for call in calls:
        assert all(t not in " ".join(call.argv) for t in secret.values()), call.argv
        assert call.cwd == project
    plain = [
        c.argv[3:5] for c in calls if c.argv[:2] == ["config", "set"] and "--secret" not in c.argv
    ]
    # Dates under keys named like tokens: stored as plain text on purpose, or the CLI may refuse.
    assert all(
        c.argv[2] == "--plaintext"
        for c in calls
        if c.argv[:2] == ["config", "set"] and "--secret" not in c.argv
    )
    assert plain == [
        ["platformTokenExpires", "2099-03-31"],
        ["appsTokenExpires", "2099-04-30"],
        ["appsPushTokenExpires", "2099-05-31"],
    ]
    hidden = {prompt.split(" ")[0]: h for prompt, h in asked if "expires" not in prompt}
    assert hidden == {"platformToken": True, "appsToken": True, "appsPushToken": True}


def test_init_takes_exported_values_without_asking(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli, **TOKENS)
    assert init.initialise("staging", env, project, ask=None) == 0
    assert [c.argv[3] for c in cli.calls() if "--secret" in c.argv] == [
        "platformToken",
        "appsToken",
        "appsPushToken",
    ]
    # What the CLI wrote is what the next run reads: encrypted tokens, plain dates.
    text = (project / "Pulumi.staging.yaml").read_text()
    assert fake_pulumi.PLATFORM_TOKEN not in text
    assert "platformTokenExpires: '2099-01-31'" in text


def test_init_refuses_a_classic_token_and_a_bad_date_before_touching_the_stack(
    tmp_path: Path,
) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    classic = "ghp_" + "c" * 36
    env = fake_pulumi.user_env(
        tmp_path,
        cli,
        **{**TOKENS, "FLEET_PLATFORM_TOKEN": classic, "FLEET_APPS_TOKEN_EXPIRES": "31.12.2099"},
    )
    with pytest.raises(init.InitError) as caught:
        init.initialise("staging", env, project, ask=None)
    message = str(caught.value)
    assert "d1-fleet:platformToken: a classic personal access token" in message
    assert "d1-fleet:appsTokenExpires:" in message
    assert classic not in message
    assert cli.calls() == [], "nothing created or stored"


def test_init_without_a_terminal_or_variables_says_what_to_do(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli)
    with pytest.raises(init.InitError) as caught:
        init.initialise("staging", env, project, ask=None)
    assert (
        "d1-fleet:platformToken: not given; export FLEET_PLATFORM_TOKEN, or run "
        "`fleet init -s staging` in a terminal" in str(caught.value)
    )


def test_init_keep_in_env_creates_the_stack_and_stores_nothing(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli, **TOKENS)
    assert init.initialise("staging", env, project, None, keep_in_env=True) == 0
    assert [c.argv for c in cli.calls()] == [["stack", "select", "--create", "staging"]]
    with pytest.raises(init.InitError, match="export FLEET_APPS_TOKEN "):
        init.initialise("staging", {**env, "FLEET_APPS_TOKEN": ""}, project, None, keep_in_env=True)


def test_init_for_a_github_app_stack_stores_the_key_from_a_file(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    (project / "Pulumi.staging.yaml").write_text(app_stack_file("staging", githubAppKeyCreated=""))
    key = tmp_path / "app.pem"
    key.write_text(APP_KEY)
    apps_key = tmp_path / "apps-app.pem"
    apps_key.write_text(APPS_APP_KEY)
    env = fake_pulumi.user_env(tmp_path, cli)
    answers = {"path of the App": str(key), "date the App": "2026-03-01"}
    # The second App, which reads d1-apps for the tenants (its creation date is in the file),
    # and image automation's push token (a token in every mode).
    answers["path of the apps App"] = str(apps_key)
    answers["appsPushToken expires"] = "2099-05-31"
    answers["appsPushToken"] = PUSH_TOKEN
    ask = prompts(answers, [])
    assert init.initialise("staging", env, project, ask) == 0
    stored = [c for c in cli.calls() if "--secret" in c.argv]
    assert [c.argv[3] for c in stored] == [
        "githubAppPrivateKey",
        "githubAppsPrivateKey",
        "appsPushToken",
    ]
    assert [c.stdin for c in stored] == [key.read_text(), apps_key.read_text(), PUSH_TOKEN]
    assert ["--plaintext", "githubAppKeyCreated", "2026-03-01"] in [
        c.argv[2:5] for c in cli.calls()
    ]


def test_init_needs_the_passphrase_and_names_it(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli, **TOKENS)
    del env["PULUMI_CONFIG_PASSPHRASE"]
    with pytest.raises(init.InitError, match="choose a passphrase"):
        init.initialise("staging", env, project, None)


def test_hidden_prompts_use_getpass_and_dates_use_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt: f"hidden:{prompt}")
    monkeypatch.setattr("builtins.input", lambda prompt: f"echoed:{prompt}")
    assert init.terminal_ask("platformToken", True) == "hidden:platformToken: "
    assert init.terminal_ask("expires", False) == "echoed:expires: "


def test_init_replace_stores_new_tokens_with_their_new_dates(tmp_path: Path) -> None:
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    env = fake_pulumi.user_env(tmp_path, cli, **TOKENS)
    assert init.initialise("staging", env, project, None) == 0
    first = len(cli.calls())
    rotated = {**env, "FLEET_APPS_TOKEN_EXPIRES": "2100-06-30"}
    assert init.initialise("staging", rotated, project, None) == 0
    rerun = [c.argv[:2] for c in cli.calls()[first:]]
    assert rerun == [["stack", "select"]], "a rerun keeps what is stored"
    before = len(cli.calls())
    assert init.initialise("staging", rotated, project, None, replace=True) == 0
    plain = [c.argv[3:5] for c in cli.calls()[before:] if "--secret" not in c.argv][1:]
    assert ["appsTokenExpires", "2100-06-30"] in plain


def test_init_for_an_app_stack_without_a_second_app_asks_for_the_apps_token(
    tmp_path: Path,
) -> None:
    """App mode reads d1-apps with a second App or with appsToken: without the second App's id
    the apps token is what init needs, and the platform token never."""
    cli = fake_pulumi.install(tmp_path)
    project = fake_pulumi.checkout(tmp_path)
    text = app_stack_file(
        "staging", githubAppsAppId="", githubAppsInstallationId="", githubAppsKeyCreated=""
    )
    (project / "Pulumi.staging.yaml").write_text(text)
    env = fake_pulumi.user_env(tmp_path, cli, FLEET_GITHUB_APP_PRIVATE_KEY=APP_KEY)
    with pytest.raises(init.InitError) as caught:
        init.initialise("staging", env, project, None)
    assert "d1-fleet:appsToken: not given; export FLEET_APPS_TOKEN" in str(caught.value)
    assert "platformToken" not in str(caught.value)
    assert "githubAppsPrivateKey" not in str(caught.value)
