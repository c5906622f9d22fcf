"""The GitHub access component and which stack declares it."""

from __future__ import annotations

import pytest

from fleet.program.github_access.plan import PushAccess
from fleet.program.github_access.team import GitHubAccess, GitHubAccessArgs
from fleet.tools.offline import mock
from tests.helpers import ROOT, RunStack, run_component

TEAM_REPO = "github:index/teamRepository:TeamRepository"


def access(
    push: PushAccess, pull: tuple[str, ...] = (), merge: tuple[str, ...] = ("platform-team",)
) -> GitHubAccess:
    return GitHubAccess(
        "github-access",
        GitHubAccessArgs(
            owner="acme",
            team="flux-bot",
            bot_username="acme-flux-bot",
            push_repositories=("d1-infra", "d1-apps"),
            pull_repositories=pull,
            push_access=push,
            merge_teams=merge,
        ),
    )


def test_github_access_team_membership_and_permissions() -> None:
    run = run_component(lambda: access(PushAccess.NONE))
    team = run.get("github:index/team:Team", "github-access-team")
    assert team.inputs["name"] == "flux-bot"
    assert team.inputs["privacy"] == "closed"
    member = run.get("github:index/teamMembership:TeamMembership", "github-access-membership")
    assert member.inputs == {"teamId": "4242", "username": "acme-flux-bot", "role": "member"}
    permissions = {r.inputs["repository"]: r.inputs["permission"] for r in run.of_type(TEAM_REPO)}
    assert permissions == {"d1-infra": "push", "d1-apps": "push"}
    assert not run.of_type("github:index/branchProtection:BranchProtection")
    assert not run.of_type("github:index/repositoryRuleset:RepositoryRuleset")


def test_github_access_pull_on_fleet_repo_when_listed() -> None:
    run = run_component(lambda: access(PushAccess.NONE, pull=("d1-fleet",)))
    permissions = {r.inputs["repository"]: r.inputs["permission"] for r in run.of_type(TEAM_REPO)}
    assert permissions == {"d1-fleet": "pull", "d1-infra": "push", "d1-apps": "push"}


def test_github_access_branch_protection_lets_the_bot_and_the_people_push() -> None:
    run = run_component(lambda: access(PushAccess.BRANCH_PROTECTION))
    rules = run.of_type("github:index/branchProtection:BranchProtection")
    assert {r.inputs["repositoryId"] for r in rules} == {"d1-infra", "d1-apps"}
    for rule in rules:
        assert rule.inputs["pattern"] == "main"
        # Merging a pull request is a push: without the people's team nobody could merge.
        assert rule.inputs["restrictPushes"] == [
            {"pushAllowances": ["acme/flux-bot", "acme/platform-team"]}
        ]
        # Adoptable: an imported rule records the repository's node id, never a replacement.
        assert rule.ignore_changes == ("repositoryId",)


@pytest.mark.parametrize("push", [PushAccess.BRANCH_PROTECTION, PushAccess.RULESET_BYPASS])
def test_github_push_rules_wait_for_the_team_write_grant(push: PushAccess) -> None:
    run = run_component(lambda: access(push))
    grants = {r.inputs["repository"]: r.urn for r in run.of_type(TEAM_REPO)}
    rules = [
        r for r in run.resources if r.type.endswith((":BranchProtection", ":RepositoryRuleset"))
    ]
    assert len(rules) == 2
    for rule in rules:
        repo = rule.inputs.get("repository") or rule.inputs["repositoryId"]
        assert grants[repo] in rule.dependencies, rule.name
        assert {u for u in grants.values() if u != grants[repo]}.isdisjoint(rule.dependencies)


def test_branch_protection_needs_the_teams_of_the_people_who_merge(run_stack: RunStack) -> None:
    with pytest.raises(mock.ProgramError, match="mergeTeams: required with botPushAccess"):
        run_stack("prod-eu", drop=("mergeTeams",))


def test_github_access_ruleset_bypass_for_the_bot_team() -> None:
    run = run_component(lambda: access(PushAccess.RULESET_BYPASS))
    rulesets = run.of_type("github:index/repositoryRuleset:RepositoryRuleset")
    assert {r.inputs["repository"] for r in rulesets} == {"d1-infra", "d1-apps"}
    for ruleset in rulesets:
        assert ruleset.inputs["target"] == "branch"
        assert ruleset.inputs["enforcement"] == "active"
        assert ruleset.inputs["conditions"] == {
            "refName": {"includes": ["refs/heads/main"], "excludes": []}
        }
        assert ruleset.inputs["bypassActors"] == [
            {"actorType": "Team", "actorId": 4242, "bypassMode": "always"}
        ]
        assert "pullRequest" in ruleset.inputs["rules"]


def test_only_the_owner_stack_declares_github_objects(run_stack: RunStack) -> None:
    owner = run_stack("prod-eu")
    other = run_stack("staging")
    assert owner.of_type("github:index/team:Team")
    assert not [
        r for r in other.resources if r.type.startswith(("github:", "pulumi:providers:github"))
    ]


def test_exactly_one_committed_stack_owns_github_access() -> None:
    owners = [
        path.name
        for path in sorted(ROOT.glob("Pulumi.*.yaml"))
        if mock.stack_config(ROOT, path.name[len("Pulumi.") : -len(".yaml")]).get(
            "d1-fleet:githubAccessOwner"
        )
        == "true"
    ]
    assert owners == ["Pulumi.prod-eu.yaml"]


@pytest.mark.parametrize(
    ("sync_url", "expected"),
    [
        ("https://github.com/controlplaneio-fluxcd/d1-fleet.git", "pull"),
        ("https://github.com/controlplaneio-fluxcd/elsewhere.git", None),
    ],
)
def test_owner_grants_pull_on_fleet_only_when_instance_syncs_from_it(
    run_stack: RunStack, sync_url: str, expected: str | None
) -> None:
    run = run_stack(
        "prod-eu",
        {
            "syncKind": "GitRepository",
            "syncUrl": sync_url,
            "syncRef": "refs/heads/main",
            "syncPath": "clusters/prod-eu",
            "syncPullSecret": "flux-system",
        },
    )
    permissions = {r.inputs["repository"]: r.inputs["permission"] for r in run.of_type(TEAM_REPO)}
    assert permissions.get("d1-fleet") == expected


def test_github_provider_is_pinned_to_the_org_with_a_secret_token(run_stack: RunStack) -> None:
    token = "ghp_" + "g" * 36
    run = run_stack("prod-eu", {"githubToken": token})
    provider = run.get("pulumi:providers:github", "github")
    assert provider.inputs["owner"] == "controlplaneio-fluxcd"
    assert mock.unwrap_secret(provider.inputs["token"]) == (token, True)
    for r in run.resources:
        if r.type.startswith("github:"):
            assert r.provider.startswith(provider.urn + "::"), r.name


def test_github_provider_token_falls_back_to_the_environment(
    run_stack: RunStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_" + "e" * 36)
    provider = run_stack("prod-eu").get("pulumi:providers:github", "github")
    assert mock.unwrap_secret(provider.inputs["token"]) == ("ghp_" + "e" * 36, True)
