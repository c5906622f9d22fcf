"""GitHub App credential mode through the real `__main__.py`: secrets, sources, GitHub, switching."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fleet.program.config import errors, keys, parse
from fleet.tools.offline import cli_config, conformance, import_plan, mock, render, schemas
from fleet.tools.offline.conformance import Schemas
from fleet.tools.offline.mock import Recording
from fleet.tools.operations import deploy
from policy import guardrails as g
from tests.helpers import (
    APP_ID,
    APP_KEY,
    APPS_APP_ID,
    APPS_APP_KEY,
    APPS_INSTALLATION_ID,
    APPS_TOKEN,
    GIT,
    INSTALLATION_ID,
    INSTALLATION_REPO,
    INSTANCE,
    PLATFORM_TOKEN,
    ROOT,
    RULESET,
    SECRET,
    TOKEN_KEYS,
    app_config,
    app_run,
    app_stack_file,
    fleet_dir,
    git_secrets,
    kubernetes_urns,
    run_in,
    stack_run,
)
from tests.policy_helpers import resources, violations


@pytest.fixture(scope="module")
def app_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stack file of the fleet in App mode (the running stack's own file is not read)."""
    base = tmp_path_factory.mktemp("app-fleet")
    return fleet_dir(base, {stack: app_stack_file(stack) for stack in mock.known_stacks(ROOT)})


@pytest.fixture(scope="module")
def staging_app() -> Recording:
    return app_run("staging")


@pytest.fixture(scope="module")
def prod_eu_app(app_fleet: Path) -> Recording:
    # The whole fleet uses the App: the owner declares no bot team, so no bot account either.
    return run_in(app_fleet, "prod-eu", {"botPushAccess": "rulesetBypass", "botUsername": ""})


def test_app_mode_declares_the_same_kubernetes_objects_as_token_mode(
    staging: Recording, prod_eu: Recording, staging_app: Recording, prod_eu_app: Recording
) -> None:
    assert kubernetes_urns(staging_app) == kubernetes_urns(staging)
    assert kubernetes_urns(prod_eu_app) == kubernetes_urns(prod_eu)


def test_app_mode_secrets_carry_the_app_keys_only(staging_app: Recording) -> None:
    # That the key stays secret is proven in test_secrecy (pulumi_kubernetes marks any Secret's
    # data secret itself, so a recorded Secret cannot show it).
    secrets = git_secrets(staging_app)
    # flux-system, flux-apps, and the copies in backend and frontend (apps-update holds
    # image automation's push token instead).
    assert len(secrets) == 4
    for secret in secrets:
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        platform = secret.inputs["metadata"]["name"] == "flux-system"
        # Only flux-system holds the App that reaches d1-infra; flux-apps and every tenant copy
        # hold the second App, installed on d1-apps alone.
        assert data == {
            "githubAppID": str(APP_ID if platform else APPS_APP_ID),
            "githubAppInstallationID": str(INSTALLATION_ID if platform else APPS_INSTALLATION_ID),
            "githubAppPrivateKey": APP_KEY if platform else APPS_APP_KEY,
        }, secret.name
        assert secret.inputs["type"] == "Opaque", secret.name


def test_app_mode_with_an_apps_token_gives_tenants_the_token() -> None:
    without_apps_app = {k: v for k, v in app_config().items() if k not in keys.APPS_APP_KEYS}
    run = stack_run(
        "staging",
        without_apps_app,
        drop=("platformToken", "platformTokenExpires", "mergeTeams"),
    )
    for secret in git_secrets(run):
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        if secret.inputs["metadata"]["name"] == "flux-system":
            assert data["githubAppPrivateKey"] == APP_KEY
        else:
            assert data == {"username": "git", "password": APPS_TOKEN, "token": APPS_TOKEN}
    providers = {
        (r.inputs["metadata"]["namespace"], r.inputs["spec"].get("provider"))
        for r in run.of_type(GIT)
    }
    assert providers == {
        ("flux-system", "github"),
        ("backend", None),
        ("frontend", None),
        ("apps-update", None),
    }


def test_app_mode_without_an_apps_credential_is_refused() -> None:
    with pytest.raises(mock.ProgramError) as info:
        app_run(
            "staging",
            githubAppsAppId="",
            githubAppsInstallationId="",
            githubAppsPrivateKey="",
            githubAppsKeyCreated="",
        )
    message = str(info.value)
    assert "d1-fleet:githubAppsAppId: missing with gitAuth githubApp" in message
    assert "appsToken" in message
    assert APP_KEY.splitlines()[1] not in message


def test_installation_owner_replaces_the_installation_id_with_flux_2_8() -> None:
    run = app_run(
        "staging",
        {"fluxVersion": "2.8.x"},
        githubAppInstallationId="",
        githubAppInstallationOwner="controlplaneio-fluxcd",
    )
    (secret,) = [s for s in git_secrets(run) if s.inputs["metadata"]["name"] == "flux-system"]
    data, _ = mock.unwrap_secret(secret.inputs["stringData"])
    assert set(data) == {"githubAppID", "githubAppInstallationOwner", "githubAppPrivateKey"}
    assert data["githubAppInstallationOwner"] == "controlplaneio-fluxcd", secret.name


def test_every_git_repository_sets_provider_github_in_app_mode_only(
    staging: Recording, staging_app: Recording
) -> None:
    app_sources = staging_app.of_type(GIT)
    assert {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]) for r in app_sources
    } == {
        ("flux-system", "flux-infra"),
        ("backend", "flux-apps"),
        ("frontend", "flux-apps"),
        ("apps-update", "flux-apps"),
    }
    for r in app_sources:
        # apps-update reads and pushes with appsPushToken, a token: no App provider there.
        pushes = r.inputs["metadata"]["namespace"] == "apps-update"
        assert r.inputs["spec"].get("provider") == (None if pushes else "github"), r.name
    for r in staging.of_type(GIT):
        assert "provider" not in r.inputs["spec"], r.name


SYNC = {
    "syncKind": "GitRepository",
    "syncUrl": "https://github.com/controlplaneio-fluxcd/d1-fleet.git",
    "syncRef": "refs/heads/main",
    "syncPath": "clusters/staging",
    "syncPullSecret": "flux-system",
}


def test_flux_instance_sync_uses_provider_github_in_app_mode_only() -> None:
    def sync(run: Recording) -> dict[str, Any]:
        (instance,) = run.of_type(INSTANCE)
        return dict(instance.inputs["spec"]["sync"])

    assert sync(app_run("staging", SYNC))["provider"] == "github"
    assert "provider" not in sync(stack_run("staging", SYNC))
    oci = {
        **SYNC,
        "syncKind": "OCIRepository",
        "syncUrl": "oci://ghcr.io/acme/fleet",
        "syncRef": "latest",
    }
    assert "provider" not in sync(app_run("staging", oci))


def test_owner_stack_grants_the_app_instead_of_the_bot_team(prod_eu_app: Recording) -> None:
    github = Counter(r.type for r in prod_eu_app.resources if r.type.startswith("github:"))
    # The App reaches and bypasses d1-infra only; the second App gets d1-apps and no bypass.
    assert github == {INSTALLATION_REPO: 2, RULESET: 1}
    assert sorted(
        (r.inputs["installationId"], r.inputs["repository"])
        for r in prod_eu_app.of_type(INSTALLATION_REPO)
    ) == [(str(APPS_INSTALLATION_ID), "d1-apps"), (str(INSTALLATION_ID), "d1-infra")]
    for ruleset in prod_eu_app.of_type(RULESET):
        assert ruleset.inputs["bypassActors"] == [
            {"actorType": "Integration", "actorId": APP_ID, "bypassMode": "always"}
        ], ruleset.name
        assert ruleset.inputs["conditions"]["refName"]["includes"] == ["refs/heads/main"]
        assert ruleset.inputs["name"] == "flux-github-app-push"
    # The App's push bypass replaces the team's; nothing of the team is left.
    assert not [r for r in prod_eu_app.resources if r.type.startswith("github:index/team")]


def test_owner_stack_grants_the_fleet_repository_when_the_instance_syncs_from_it(
    app_fleet: Path,
) -> None:
    run = run_in(app_fleet, "prod-eu", {**SYNC, "botPushAccess": "none", "botUsername": ""})
    repos = sorted(r.inputs["repository"] for r in run.of_type(INSTALLATION_REPO))
    assert repos == ["d1-apps", "d1-fleet", "d1-infra"]
    assert not run.of_type(RULESET)


def test_other_stacks_declare_no_github_objects_in_app_mode(staging_app: Recording) -> None:
    assert not [r for r in staging_app.resources if r.type.startswith("github:")]


def test_app_key_age_is_an_output_and_warned_about_once_due() -> None:
    fresh = app_run("staging", key_age_days=10)
    assert fresh.outputs["githubAppKeyDaysLeft"] == 80
    # Only image automation's push token (a token in every mode).
    assert set(fresh.outputs["tokenDaysLeft"]) == {"appsPush"}
    assert not [w for w in fresh.warnings if "githubAppKeyCreated" in w]
    assert not fresh.secret_outputs
    due = app_run("staging", key_age_days=120, githubAppKeyMaxAgeDays="100")
    assert due.outputs["githubAppKeyDaysLeft"] == -20
    (warning,) = [w for w in due.warnings if "githubAppKeyCreated" in w]
    assert "120 day(s) old" in warning
    assert APP_KEY.splitlines()[1] not in warning


def test_token_mode_exports_no_app_key_age(staging: Recording) -> None:
    assert "githubAppKeyDaysLeft" not in staging.outputs


def test_app_private_key_from_the_environment_is_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Kept secret: test_secrecy.
    monkeypatch.setenv("FLEET_GITHUB_APP_PRIVATE_KEY", APP_KEY)
    monkeypatch.setenv("FLEET_GITHUB_APPS_PRIVATE_KEY", APPS_APP_KEY)
    run = app_run("staging", githubAppPrivateKey="", githubAppsPrivateKey="")
    for secret in git_secrets(run):
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        platform = secret.inputs["metadata"]["name"] == "flux-system"
        assert data["githubAppPrivateKey"] == (APP_KEY if platform else APPS_APP_KEY), secret.name


def _changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> set[str]:
    """Dotted paths whose values differ between two input documents."""
    if isinstance(old, dict) and isinstance(new, dict):
        changed: set[str] = set()
        for key in set(old) | set(new):
            where = f"{path}.{key}" if path else key
            if key not in old or key not in new:
                changed.add(where)
            else:
                changed |= _changes(old[key], new[key], where)
        return changed
    return set() if old == new else {path}


def _plain(inputs: dict[str, Any]) -> dict[str, Any]:
    return {k: mock.unwrap_secret(v)[0] for k, v in inputs.items()}


def _replacement_causes(kind: str, changed: set[str], provider: dict[str, Any]) -> set[str]:
    """Changed paths pulumi-kubernetes replaces an object for (provider/pkg/provider/diff.go)."""
    force_new = {"metadata.name", "metadata.namespace", "apiVersion", "kind"}
    if kind == SECRET:
        force_new.add("type")
        if provider.get("enableSecretMutable") not in (True, "true"):
            force_new |= {"data", "stringData"}
    return {p for p in changed if any(p == f or p.startswith(f"{f}.") for f in force_new)}


@pytest.mark.parametrize("stack", ["staging", "prod-eu"])
def test_switching_modes_updates_secrets_and_sources_in_place_both_ways(stack: str) -> None:
    push = {"botPushAccess": "rulesetBypass"}
    tokens = stack_run(stack, push)
    app = app_run(stack, push)
    (provider,) = app.of_type("pulumi:providers:kubernetes")
    assert kubernetes_urns(tokens) == kubernetes_urns(app)
    for before, after in ((tokens, app), (app, tokens)):
        allowed = {SECRET: {"stringData"}, GIT: {"spec.provider"}}
        for old in before.kubernetes_objects():
            new = after.by_urn(old.urn)
            changed = _changes(_plain(old.inputs), _plain(new.inputs))
            changed = {p if not p.startswith("stringData.") else "stringData" for p in changed}
            assert changed <= allowed.get(old.type, set()), old.name
            assert not _replacement_causes(old.type, changed, provider.inputs), old.name
        for secret in git_secrets(after):
            data, _ = mock.unwrap_secret(secret.inputs["stringData"])
            stale = {"username", "password", "token"} if after is app else {"githubAppID"}
            assert not stale & set(data), secret.name
        changed_kinds = {
            r.type
            for r in before.kubernetes_objects()
            if _changes(_plain(r.inputs), _plain(after.by_urn(r.urn).inputs))
        }
        assert changed_kinds == {SECRET, GIT}


@pytest.mark.parametrize(
    ("changes", "key", "message"),
    [
        ({"githubAppId": "0"}, "githubAppId", "a whole number of at least 1"),
        ({"githubAppId": "-3"}, "githubAppId", "a whole number of at least 1"),
        ({"githubAppId": "abc"}, "githubAppId", "allowed: a whole number"),
        ({"githubAppInstallationId": "0"}, "githubAppInstallationId", "at least 1"),
        ({"githubAppInstallationId": ""}, "githubAppInstallationId", "exactly one of"),
        (
            {"githubAppInstallationOwner": "controlplaneio-fluxcd"},
            "githubAppInstallationId",
            "exactly one of",
        ),
        (
            {"githubAppInstallationId": "", "githubAppInstallationOwner": "acme"},
            "githubAppInstallationOwner",
            "Flux 2.8 or later",
        ),
        ({"githubAppPrivateKey": "ssh-rsa AAAAB3Nza"}, "githubAppPrivateKey", "PEM private key"),
        (
            {"githubAppPrivateKey": APP_KEY.replace("\n", "\\n")},
            "githubAppPrivateKey",
            "line breaks",
        ),
        ({"githubAppPrivateKey": ""}, "githubAppPrivateKey", "missing required key"),
        ({"githubAppKeyCreated": ""}, "githubAppKeyCreated", "missing required key"),
        ({"githubAppKeyCreated": "2099-01-01"}, "githubAppKeyCreated", "in the future"),
        ({"githubAppKeyMaxAgeDays": "0"}, "githubAppKeyMaxAgeDays", "a whole number of at least 1"),
        ({"githubAppKeyCreated": "01/03/2026"}, "githubAppKeyCreated", "YYYY-MM-DD"),
        ({"gitAuth": "app"}, "gitAuth", "'token' or 'githubApp'"),
        ({**SYNC, "syncProvider": "generic"}, "syncProvider", "provider github"),
        ({**SYNC, "syncPullSecret": ""}, "syncPullSecret", "secret holding the App's data"),
        (
            {**SYNC, "syncUrl": "ssh://git@github.com/controlplaneio-fluxcd/d1-fleet.git"},
            "syncUrl",
            "allowed: an https:// URL",
        ),
        ({"botUsername": "flux-bot"}, "botUsername", "only the githubAccessOwner stack"),
        ({"mergeTeams": '["platform-team"]'}, "mergeTeams", "which App mode refuses"),
    ],
)
def test_bad_app_values_register_nothing(changes: dict[str, str], key: str, message: str) -> None:
    with pytest.raises(mock.ProgramError) as caught:
        app_run("staging", {k: v for k, v in changes.items() if v}, **_dropped(changes))
    text = str(caught.value)
    problem = next((line for line in text.splitlines() if f"d1-fleet:{key}:" in line), "")
    assert message in problem, text
    assert APP_KEY.splitlines()[1] not in text
    assert caught.value.recording.resources == []


@pytest.mark.usefixtures("older_flux_lines")
def test_app_mode_refuses_a_flux_line_without_app_auth_on_every_api() -> None:
    # Unreachable while 2.7 is the oldest supported line; kept for a list that grows back.
    with pytest.raises(mock.ProgramError) as caught:
        app_run("staging", {"fluxVersion": "2.5.x"})
    text = str(caught.value)
    assert "d1-fleet:fluxVersion: '2.5.x' is too old for gitAuth githubApp" in text, text
    assert "needs Flux 2.6 or later" in text
    assert caught.value.recording.resources == []
    # Flux 2.6 is enough for the App (without what needs 2.7: source-watcher, image automation).
    controllers = '["source-controller", "kustomize-controller", "helm-controller"]'
    older = {"fluxVersion": "2.6.x", "imageAutomation": "false", "fluxComponents": controllers}
    assert git_secrets(app_run("staging", older))


def _dropped(changes: dict[str, str]) -> dict[str, Any]:
    """Keys app_config must leave out (an empty override means unset)."""
    return {k: "" for k, v in changes.items() if not v}


def test_token_and_app_keys_are_never_both_set() -> None:
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", app_config())
    text = str(caught.value)
    for key in ("platformToken", "platformTokenExpires"):
        assert f"d1-fleet:{key}: not allowed with gitAuth githubApp" in text
    # The apps token may read d1-apps in App mode, instead of the second App, not beside it.
    assert "d1-fleet:appsToken: set either the second App (githubApps*) or appsToken" in text
    assert PLATFORM_TOKEN not in text
    assert APPS_TOKEN not in text
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", {"githubAppId": str(APP_ID), "githubAppPrivateKey": APP_KEY})
    text = str(caught.value)
    assert "d1-fleet:githubAppId: not allowed with gitAuth token" in text
    assert "d1-fleet:githubAppPrivateKey: not allowed with gitAuth token" in text
    assert APP_KEY.splitlines()[1] not in text


@pytest.mark.parametrize("pull_secret", ["", "flux-system", "flux-apps"])
def test_token_mode_refuses_sync_provider_github_without_an_app_secret(pull_secret: str) -> None:
    # source-controller wants App data in the pull secret with provider github.
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", {**SYNC, "syncProvider": "github", "syncPullSecret": pull_secret})
    assert "d1-fleet:syncProvider: github needs a syncPullSecret holding GitHub App data" in str(
        caught.value
    )
    assert caught.value.recording.resources == []


def test_token_mode_forwards_sync_provider_github_with_a_secret_of_app_data() -> None:
    run = stack_run(
        "staging", {**SYNC, "syncProvider": "github", "syncPullSecret": "fleet-github-app"}
    )
    (instance,) = run.of_type(INSTANCE)
    sync = instance.inputs["spec"]["sync"]
    assert (sync["provider"], sync["pullSecret"]) == ("github", "fleet-github-app")


def test_token_mode_refuses_an_app_key_age_it_would_ignore() -> None:
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", {"githubAppKeyMaxAgeDays": "60"})
    assert "d1-fleet:githubAppKeyMaxAgeDays: only read with gitAuth githubApp" in str(caught.value)
    # Pulumi.yaml's default reaches every stack and is no choice of the user.
    assert stack_run("staging", {"githubAppKeyMaxAgeDays": "90"}).resources


def test_app_owner_stack_rejects_branch_protection_and_an_installation_owner() -> None:
    with pytest.raises(mock.ProgramError) as caught:
        app_run(
            "prod-eu",
            {"fluxVersion": "2.8.x"},
            githubAppInstallationId="",
            githubAppInstallationOwner="controlplaneio-fluxcd",
        )
    text = str(caught.value)
    assert "d1-fleet:botPushAccess: branchProtection names a team" in text
    assert "d1-fleet:githubAppInstallationOwner: the githubAccessOwner stack grants" in text


def test_settings_missing_credentials_are_reported_with_other_problems() -> None:
    raw = {
        "environment": "qa",
        "clusterName": "staging-1",
        "clusterDomain": "preview1.example.com",
        "gitBranch": "main",
        "kubeContext": "staging",
        "githubOwner": "acme",
        "operatorChartVersion": "0.58.1",
    }
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse(raw)
    keys = [p.split(":")[1] for p in caught.value.problems]
    assert keys == ["environment", *TOKEN_KEYS]
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse({**raw, "gitAuth": "githubApp"})
    keys = [p.split(":")[1] for p in caught.value.problems]
    # Every check runs although environment is invalid: the installation is missing too.
    assert keys == [
        "environment",
        "githubAppId",
        "githubAppPrivateKey",
        "githubAppKeyCreated",
        "githubAppsAppId",
        "githubAppInstallationId",
    ]


def test_app_mode_stack_conforms_to_the_upstream_schemas() -> None:
    schemas = Schemas.load()
    overrides = {f"d1-fleet:{k}": v for k, v in app_config().items() if k not in keys.SECRET_KEYS}
    for stack in ("staging", "prod-eu"):
        extra = (
            {"d1-fleet:botPushAccess": "rulesetBypass", "d1-fleet:mergeTeams": "[]"}
            if stack == "prod-eu"
            else {}
        )
        result = render.render_stack(ROOT, stack, {**overrides, **extra})
        # staging runs image automation, which pushes with its own token.
        push = (
            ["d1-fleet:appsPushToken", "d1-fleet:appsPushTokenExpires"]
            if stack == "staging"
            else []
        )
        assert result.summary["placeholderConfig"] == [
            *push,
            "d1-fleet:githubAppPrivateKey",
            "d1-fleet:githubAppsPrivateKey",
        ]
        sources = [o for o in result.objects if o.ref.kind == "GitRepository"]
        assert sources
        assert all(
            o.plain["spec"]["provider"] == "github"
            for o in sources
            if o.plain["metadata"]["namespace"] != "apps-update"
        )
        assert "\n".join(map(str, conformance.check(result, schemas))) == ""


def _preflight_project(tmp_path: Path, staging_file: str) -> tuple[Path, dict[str, str]]:
    """A project with `staging_file` as Pulumi.staging.yaml, and an environment with a kube
    context for it and a passphrase, but no CLI."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (project / "Pulumi.staging.yaml").write_text(staging_file)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("contexts:\n  - name: staging\n")
    env = {
        "PATH": "/nonexistent",
        "KUBECONFIG": str(kubeconfig),
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "HOME": str(tmp_path),
    }
    return project, env


def test_deploy_preflight_in_app_mode_needs_the_key_not_the_tokens(tmp_path: Path) -> None:
    project, env = _preflight_project(
        tmp_path, (ROOT / "Pulumi.staging.yaml").read_text() + "  d1-fleet:gitAuth: githubApp\n"
    )
    env["FLEET_PLATFORM_TOKEN"] = PLATFORM_TOKEN
    with pytest.raises(deploy.PreflightError) as caught:
        deploy.preflight("staging", env, project)
    text = str(caught.value)
    assert "d1-fleet:githubAppPrivateKey: no App private key" in text
    assert "FLEET_GITHUB_APP_PRIVATE_KEY" in text
    assert "platformToken" not in text
    with pytest.raises(deploy.PreflightError) as caught:
        deploy.preflight("staging", {**env, "FLEET_GITHUB_APP_PRIVATE_KEY": APP_KEY}, project)
    assert "githubAppPrivateKey" not in str(caught.value)


def test_deploy_preflight_needs_the_second_app_key_when_the_stack_names_one(
    tmp_path: Path,
) -> None:
    project, env = _preflight_project(tmp_path, app_stack_file("staging"))
    env.update(FLEET_GITHUB_APP_PRIVATE_KEY=APP_KEY, FLEET_APPS_TOKEN=APPS_TOKEN)
    with pytest.raises(deploy.PreflightError) as caught:
        deploy.preflight("staging", env, project)
    text = str(caught.value)
    assert "d1-fleet:githubAppsPrivateKey: no App private key" in text
    assert "export FLEET_GITHUB_APPS_PRIVATE_KEY" in text
    # The second App reads d1-apps: no apps token is asked for.
    assert "appsToken" not in text
    with pytest.raises(deploy.PreflightError) as caught:
        deploy.preflight("staging", {**env, "FLEET_GITHUB_APPS_PRIVATE_KEY": APPS_APP_KEY}, project)
    assert "githubAppsPrivateKey" not in str(caught.value)


def test_adopt_imports_the_app_objects_by_their_github_ids(prod_eu_app: Recording) -> None:
    plan = import_plan.plan(
        prod_eu_app, "prod-eu", import_plan.parse_ruleset_ids(["d1-infra=11", "d1-apps=12"])
    )
    github = {
        e["name"]: e["id"] for e in plan.document["resources"] if e["type"].startswith("github:")
    }
    assert github == {
        "cluster-github-app-access-d1-infra": f"{INSTALLATION_ID}:d1-infra",
        "cluster-github-app-access-apps-d1-apps": f"{APPS_INSTALLATION_ID}:d1-apps",
        "cluster-github-app-access-d1-infra-ruleset": "d1-infra:11",
    }
    assert not [line for line in plan.skipped if line.startswith("github:")]
    assert APP_KEY.splitlines()[1] not in plan.text()


def test_app_ruleset_waits_for_the_installation_grant(prod_eu_app: Recording) -> None:
    grants = {r.inputs["repository"]: r.urn for r in prod_eu_app.of_type(INSTALLATION_REPO)}
    for ruleset in prod_eu_app.of_type(RULESET):
        assert grants[ruleset.inputs["repository"]] in ruleset.dependencies, ruleset.name


def test_an_app_mode_stack_file_passes_the_cli_merge_rules() -> None:
    # The App's ids are written as YAML numbers; Pulumi.yaml declares them as text with the
    # "not set" default (an integer key could not default to ""), which the CLI accepts.
    schema = json.loads((schemas.schemas_dir() / "pulumi" / "project.json").read_text())
    project = cli_config.load_project(
        cli_config.load_yaml((ROOT / "Pulumi.yaml").read_text()), schema
    )
    text = (ROOT / "Pulumi.staging.yaml").read_text() + (
        f"  d1-fleet:gitAuth: githubApp\n  d1-fleet:githubAppId: {APP_ID}\n"
        f"  d1-fleet:githubAppInstallationId: {INSTALLATION_ID}\n"
        "  d1-fleet:githubAppKeyCreated: 2026-03-01\n  d1-fleet:githubAppKeyMaxAgeDays: 60\n"
    )
    config = cli_config.load_yaml(text)["config"]
    secret = frozenset(f"d1-fleet:{key}" for key in keys.SECRET_KEYS)
    merged, problems = cli_config.merge(project, "staging", config, secret_keys=secret)
    assert problems == []
    assert merged["d1-fleet:githubAppId"].text == str(APP_ID)
    # A private key in plain text is refused in the CLI's words, without showing it.
    planted = {**config, "d1-fleet:githubAppPrivateKey": APP_KEY}
    _, problems = cli_config.merge(project, "staging", planted, secret_keys=secret)
    assert problems == [
        "Stack 'staging' with configuration key 'd1-fleet:githubAppPrivateKey' must be "
        "encrypted as it's secret"
    ]


def test_each_mode_takes_only_its_own_credentials_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One CI environment may hold the tokens and the App key for different stacks.
    monkeypatch.setenv("FLEET_GITHUB_APP_PRIVATE_KEY", APP_KEY)
    monkeypatch.setenv("FLEET_PLATFORM_TOKEN", PLATFORM_TOKEN)
    monkeypatch.setenv("FLEET_APPS_TOKEN", APPS_TOKEN)
    tokens = stack_run("staging", drop=("platformToken", "appsToken"))
    for secret in git_secrets(tokens):
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        assert set(data) == {"username", "password", "token"}, secret.name
    monkeypatch.setenv("FLEET_GITHUB_APPS_PRIVATE_KEY", APPS_APP_KEY)
    app = app_run("staging", githubAppPrivateKey="", githubAppsPrivateKey="")
    for secret in git_secrets(app):
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        platform = secret.inputs["metadata"]["name"] == "flux-system"
        assert data["githubAppPrivateKey"] == (APP_KEY if platform else APPS_APP_KEY), secret.name
        assert not {"username", "password", "token"} & set(data), secret.name


@pytest.mark.parametrize("stack", ["staging", "prod-eu"])
def test_app_mode_stacks_pass_the_whole_policy_pack(stack: str) -> None:
    # The App's ids travel inside the secret's data, which stays one Pulumi secret.
    run = app_run(stack, {"botPushAccess": "rulesetBypass", "receivers": "true"})
    found = resources(run)
    assert list(violations(found)) == []
    unsecret = [
        dataclasses.replace(r, props={**r.props, "stringData": g.reveal(r.props["stringData"])})
        if r.type == g.SECRET
        else r
        for r in found
    ]
    assert {v.split(" ")[0] for v in violations(unsecret)} == {"secrets-stay-secret"}


@pytest.mark.parametrize(("stack", "owner"), [("staging", False), ("prod-eu", True)])
def test_app_mode_loads_the_github_sdk_only_for_the_owner_stack(stack: str, owner: bool) -> None:
    program = (
        "import json, sys\nfrom pathlib import Path\nfrom fleet.tools.offline import render\n"
        "overrides = json.loads(sys.argv[3])\n"
        "result = render.render_stack(Path(sys.argv[1]), sys.argv[2], overrides)\n"
        "print(json.dumps([len(result.summary['github']), 'pulumi_github' in sys.modules]))\n"
    )
    overrides = {f"d1-fleet:{k}": v for k, v in app_config().items() if k not in keys.SECRET_KEYS}
    overrides["d1-fleet:botPushAccess"] = "rulesetBypass"
    overrides["d1-fleet:mergeTeams"] = "[]"
    done = subprocess.run(
        [sys.executable, "-c", program, str(ROOT), stack, json.dumps(overrides)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    github_objects, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert bool(github_objects) is owner
    assert loaded is owner
