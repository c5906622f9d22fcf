"""Fleets whose stacks use different `gitAuth` modes: the owner stack keeps each stack's GitHub access.

Each test writes the fleet's stack files into a folder and runs the real `__main__.py` there, as
Pulumi does (the program reads the other stacks' files from its working directory).
"""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from fleet.tools.offline import mock
from fleet.tools.offline.mock import Recording
from tests.helpers import (
    APP_ID,
    APPS_INSTALLATION_ID,
    INSTALLATION_ID,
    INSTALLATION_REPO,
    ROOT,
    RULESET,
    app_run,
    app_stack_file,
    fleet_dir,
    git_secrets,
    stack_run,
)

TEAM = "github:index/team:Team"
MEMBERSHIP = "github:index/teamMembership:TeamMembership"
TEAM_REPO = "github:index/teamRepository:TeamRepository"
PROTECTION = "github:index/branchProtection:BranchProtection"
RULESET_BYPASS = {"botPushAccess": "rulesetBypass"}
CLASSIC = "ghp_" + "C" * 36
FINE_GRAINED = "github_pat_" + "F" * 82


def owner_run(project: Path, overrides: dict[str, str], *, app: bool, **kwargs: Any) -> Recording:
    """prod-eu (the owner) in token or App mode, with the other stack files read from `project`."""
    if app:
        return app_run("prod-eu", overrides, project_dir=project, **kwargs)
    return stack_run("prod-eu", overrides, project_dir=project)


def problems(project: Path, overrides: dict[str, str], *, app: bool, **kwargs: Any) -> str:
    with pytest.raises(mock.ProgramError) as caught:
        owner_run(project, overrides, app=app, **kwargs)
    assert caught.value.recording.resources == []
    return str(caught.value)


def github(run: Recording) -> Counter[str]:
    return Counter(r.type for r in run.resources if r.type.startswith("github:"))


def bypass(run: Recording) -> dict[str, list[tuple[str, object]]]:
    return {
        r.inputs["name"]: [(a["actorType"], a["actorId"]) for a in r.inputs["bypassActors"]]
        for r in run.of_type(RULESET)
    }


@pytest.fixture
def staging_on_app(tmp_path: Path) -> Path:
    """The fleet once staging switched to the App and prod-eu (the owner) did not yet."""
    return fleet_dir(tmp_path, {"staging": app_stack_file("staging")})


def test_token_owner_grants_the_app_of_a_stack_that_switched(staging_on_app: Path) -> None:
    run = owner_run(staging_on_app, RULESET_BYPASS, app=False)
    # The bot team for prod-eu's own tokens, and staging's App installation.
    assert github(run) == {TEAM: 1, MEMBERSHIP: 1, TEAM_REPO: 2, RULESET: 2, INSTALLATION_REPO: 2}
    assert sorted(
        (r.inputs["installationId"], r.inputs["repository"]) for r in run.of_type(INSTALLATION_REPO)
    ) == [(str(APPS_INSTALLATION_ID), "d1-apps"), (str(INSTALLATION_ID), "d1-infra")]
    # One ruleset per repository, which both the team and the App bypass.
    assert len(run.of_type(RULESET)) == 2
    for ruleset in run.of_type(RULESET):
        actors = [(a["actorType"], a["actorId"]) for a in ruleset.inputs["bypassActors"]]
        assert ruleset.inputs["name"] == "flux-bot-push", ruleset.name
        assert [kind for kind, _ in actors] == ["Team", "Integration"], ruleset.name
        assert actors[1][1] == APP_ID, ruleset.name
    for secret in git_secrets(run):
        data, _ = mock.unwrap_secret(secret.inputs["stringData"])
        assert set(data) == {"username", "password", "token"}, secret.name


def test_app_owner_keeps_the_bot_team_while_a_stack_uses_tokens() -> None:
    # The committed staging file uses tokens.
    project = ROOT
    run = owner_run(project, {**RULESET_BYPASS, "mergeTeams": "[]"}, app=True)
    assert github(run) == {TEAM: 1, MEMBERSHIP: 1, TEAM_REPO: 2, RULESET: 2, INSTALLATION_REPO: 2}
    assert set(bypass(run)) == {"flux-bot-push"}
    (membership,) = run.of_type(MEMBERSHIP)
    assert membership.inputs["username"] == "controlplaneio-fluxcd-bot"
    # The owner's own secrets switch only once the App's grants exist.
    credentials = run.get("fleet:flux:GitCredentials", "cluster-credentials")
    grants = {r.urn for r in run.of_type(INSTALLATION_REPO)}
    assert grants <= set(credentials.dependencies)
    text = problems(project, {**RULESET_BYPASS, "mergeTeams": "[]", "botUsername": ""}, app=True)
    assert (
        "d1-fleet:botUsername: required while stack(s) staging use gitAuth token: the owner "
        "stack keeps the bot team for them"
    ) in text


def test_switching_owner_first_keeps_every_stack_s_access_and_replaces_nothing(
    tmp_path: Path,
) -> None:
    """tokens -> owner on the App -> every stack on the App, and back, one stack at a time."""
    committed = ROOT
    all_app = fleet_dir(tmp_path, {"staging": app_stack_file("staging")})
    push = {**RULESET_BYPASS, "mergeTeams": "[]"}
    states = [
        owner_run(committed, push, app=False),
        owner_run(committed, push, app=True),
        owner_run(all_app, {**push, "botUsername": ""}, app=True),
    ]
    # What each state's stacks need: (team, installation) per state.
    assert [(bool(r.of_type(TEAM)), bool(r.of_type(INSTALLATION_REPO))) for r in states] == [
        (True, False),
        (True, True),
        (False, True),
    ]
    for before, after in itertools.pairwise(states):
        for a, b in ((before, after), (after, before)):
            kept = {r.urn for r in a.resources} & {r.urn for r in b.resources}
            for urn in kept:
                old, new = a.by_urn(urn), b.by_urn(urn)
                if old.type in (TEAM, MEMBERSHIP, TEAM_REPO, INSTALLATION_REPO):
                    # Every input of these objects forces a replacement in pulumi-github.
                    assert old.inputs == new.inputs, old.name


def test_branch_protection_cannot_let_a_pushing_app_stack_push(staging_on_app: Path) -> None:
    # The committed prod-eu uses branchProtection; staging runs image automation.
    text = problems(staging_on_app, {}, app=False)
    assert "d1-fleet:botPushAccess: branchProtection names teams, and stack(s) staging push" in text
    no_push = fleet_dir(
        staging_on_app, {"staging": app_stack_file("staging", imageAutomation="false")}
    )
    run = owner_run(no_push, {}, app=False)
    assert run.of_type(PROTECTION)
    assert run.of_type(INSTALLATION_REPO)


def test_all_app_fleet_keeps_the_bot_team_until_bot_username_is_removed(tmp_path: Path) -> None:
    # Production stacks deploy one by one behind approvals: a cluster switching in the same change
    # may still run on tokens when the owner deploys, so the team stays until the user drops it.
    project = fleet_dir(tmp_path, {"staging": app_stack_file("staging")})
    push = {**RULESET_BYPASS, "mergeTeams": "[]"}
    kept = owner_run(project, push, app=True)
    assert kept.of_type(TEAM)
    assert kept.of_type(INSTALLATION_REPO)
    dropped = owner_run(project, {**push, "botUsername": ""}, app=True)
    assert not dropped.of_type(TEAM)
    assert dropped.of_type(INSTALLATION_REPO)


def test_the_owner_grants_the_fleet_repository_another_stack_syncs_from(tmp_path: Path) -> None:
    sync = {
        "syncKind": "GitRepository",
        "syncUrl": "https://github.com/controlplaneio-fluxcd/d1-fleet.git",
        "syncRef": "refs/heads/main",
        "syncPath": "clusters/staging",
        "syncPullSecret": "flux-system",
    }
    project = fleet_dir(tmp_path, {"staging": app_stack_file("staging", **sync)})
    run = owner_run(project, {**RULESET_BYPASS, "mergeTeams": "[]"}, app=False)
    granted = {r.inputs["repository"] for r in run.of_type(INSTALLATION_REPO)}
    assert granted == {"d1-infra", "d1-apps", "d1-fleet"}
    pulls = {r.inputs["repository"] for r in run.of_type(TEAM_REPO)}
    assert "d1-fleet" in pulls


def test_one_app_installation_per_fleet(tmp_path: Path) -> None:
    other = fleet_dir(
        tmp_path, {"staging": app_stack_file("staging", githubAppInstallationId="555")}
    )
    overrides = {**RULESET_BYPASS, "mergeTeams": "[]", "botUsername": ""}
    text = problems(other, overrides, app=True)
    assert "d1-fleet:githubAccessOwner: the fleet's stacks use different GitHub App" in text
    assert "staging: App 123456, installation 555" in text
    assert f"this stack: App 123456, installation {INSTALLATION_ID}" in text


@pytest.mark.parametrize(("app_id", "accepted"), [(APP_ID, True), (999, False)])
def test_an_installation_found_by_owner_needs_its_id_somewhere_in_the_fleet(
    tmp_path: Path, app_id: int, accepted: bool
) -> None:
    by_owner = app_stack_file(
        "staging",
        githubAppId=str(app_id),
        githubAppInstallationId="",
        githubAppInstallationOwner="controlplaneio-fluxcd",
        fluxVersion="2.8.x",
    )
    project = fleet_dir(tmp_path, {"staging": by_owner})
    overrides = {**RULESET_BYPASS, "mergeTeams": "[]", "botUsername": ""}
    if accepted:
        # prod-eu gives the App's installation id; staging's Flux finds the same installation.
        assert owner_run(project, overrides, app=True).of_type(INSTALLATION_REPO)
    else:
        text = problems(project, overrides, app=True)
        assert "stack 'staging' finds its App installation by owner" in text
        assert "githubAppInstallationId in Pulumi.staging.yaml" in text


def test_a_stack_file_with_invalid_auth_values_is_named(tmp_path: Path) -> None:
    project = fleet_dir(tmp_path, {"staging": app_stack_file("staging", githubAppId="zero")})
    text = problems(project, RULESET_BYPASS, app=False)
    assert "d1-fleet:githubAccessOwner: cannot tell how stack 'staging' authenticates" in text


def test_stacks_that_own_nothing_read_no_other_stack_file(tmp_path: Path) -> None:
    broken = fleet_dir(tmp_path, {"prod-eu": app_stack_file("prod-eu", gitAuth="bogus")})
    assert git_secrets(app_run("staging", project_dir=broken))


@pytest.mark.parametrize(
    ("token", "from_env", "accepted"),
    [
        (FINE_GRAINED, False, False),
        (FINE_GRAINED, True, False),
        ("ghs_" + "S" * 36, False, False),
        (CLASSIC, False, True),
        (CLASSIC, True, True),
    ],
)
def test_owner_granting_the_app_needs_a_classic_api_token(
    token: str, from_env: bool, accepted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = ROOT
    overrides = {**RULESET_BYPASS, "mergeTeams": "[]"}
    if from_env:
        monkeypatch.setenv("GITHUB_TOKEN", token)
    else:
        overrides["githubToken"] = token
    if accepted:
        assert owner_run(project, overrides, app=True).of_type(INSTALLATION_REPO)
        return
    text = problems(project, overrides, app=True)
    source = "from GITHUB_TOKEN" if from_env else "githubToken"
    assert f"d1-fleet:githubToken: [secret] ({source}) cannot grant the GitHub App" in text
    assert "classic personal access token (ghp_..., scope repo)" in text
    assert token not in text


def test_a_token_fleet_keeps_any_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FINE_GRAINED)
    run = owner_run(ROOT, {}, app=False)
    assert not run.of_type(INSTALLATION_REPO)


def test_a_second_owner_stack_is_refused(tmp_path: Path) -> None:
    staging = (ROOT / "Pulumi.staging.yaml").read_text() + (
        "  d1-fleet:githubAccessOwner: true\n  d1-fleet:botUsername: controlplaneio-fluxcd-bot\n"
    )
    project = fleet_dir(tmp_path, {"staging": staging})
    text = problems(project, {}, app=False)
    assert "d1-fleet:githubAccessOwner: stack(s) staging also set githubAccessOwner: true" in text


def test_the_fleet_uses_one_second_app_for_the_applications_repository(tmp_path: Path) -> None:
    # staging names another second App than the owner: the owner grants one installation d1-apps.
    other = app_stack_file("staging", githubAppsAppId="111", githubAppsInstallationId="222")
    project = fleet_dir(tmp_path, {"staging": other})
    text = problems(project, {**RULESET_BYPASS, "mergeTeams": "[]", "botUsername": ""}, app=True)
    assert "d1-fleet:githubAccessOwner: the fleet's stacks use different second Apps" in text
    assert "staging: App 111, installation 222" in text


def test_the_second_app_installation_is_granted_d1_apps_only(tmp_path: Path) -> None:
    project = fleet_dir(tmp_path, {"staging": app_stack_file("staging")})
    run = owner_run(project, {**RULESET_BYPASS, "mergeTeams": "[]", "botUsername": ""}, app=True)
    grants = {
        (r.inputs["installationId"], r.inputs["repository"]) for r in run.of_type(INSTALLATION_REPO)
    }
    assert {repo for i, repo in grants if i == str(APPS_INSTALLATION_ID)} == {"d1-apps"}
    assert {repo for i, repo in grants if i == str(INSTALLATION_ID)} == {"d1-infra"}
    # Never a bypass actor: only the first App bypasses, on d1-infra only.
    for ruleset in run.of_type(RULESET):
        ids = [int(a["actorId"]) for a in ruleset.inputs["bypassActors"]]
        assert ids == [APP_ID], ruleset.name
        assert ruleset.inputs["repository"] == "d1-infra"
