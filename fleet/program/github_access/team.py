"""The Flux bot's access to the organisation's repositories (d1's "Create a GitHub Account for Flux").

These objects are organisation-wide: exactly one stack (the one configured with
`githubAccessOwner: true`) declares them, so two stacks never fight over the same team.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_github as github

from fleet.program import options
from fleet.program.github_access.plan import PushAccess


@dataclass(frozen=True)
class GitHubAccessArgs:
    owner: str
    team: str
    bot_username: str
    push_repositories: Sequence[str]
    pull_repositories: Sequence[str] = ()
    push_access: PushAccess = PushAccess.NONE
    push_branch: str = "main"
    # Teams of the people who merge pull requests (branch protection's push allowances).
    merge_teams: Sequence[str] = ()
    # GitHub Apps that bypass the ruleset too: stacks of the fleet that use an App instead of
    # the team (a second ruleset could not exempt them: GitHub applies every active ruleset).
    bypass_app_ids: Sequence[int] = ()


class GitHubAccess(pulumi.ComponentResource):
    """Bot team, the bot's membership, per-repository permissions and the push right on `main`."""

    team_slug: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: GitHubAccessArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fleet:github:GitHubAccess", name, None, opts)
        child = options.child(self, opts)
        self.team = github.Team(
            f"{name}-team",
            name=args.team,
            description="Flux bot: reads the fleet and pushes image updates to infra and apps",
            privacy="closed",
            opts=child,
        )
        self.membership = github.TeamMembership(
            f"{name}-membership",
            team_id=self.team.id,
            username=args.bot_username,
            role="member",
            opts=child,
        )
        permissions = [(repo, "pull") for repo in args.pull_repositories]
        permissions += [(repo, "push") for repo in args.push_repositories]
        self.repositories = [
            github.TeamRepository(
                f"{name}-{repo}",
                team_id=self.team.id,
                repository=repo,
                permission=permission,
                opts=child,
            )
            for repo, permission in permissions
        ]
        grants = dict(zip((repo for repo, _ in permissions), self.repositories, strict=True))
        self.push_rules = [
            self._push_rule(
                name,
                args,
                repo,
                # The rule names the bot team, which must hold write on the repository first:
                # GitHub drops a team without write access from push allowances.
                options.after(child, grants[repo]),
            )
            for repo in args.push_repositories
        ]
        self.team_slug = self.team.slug
        self.register_outputs({"teamSlug": self.team_slug})

    def _push_rule(
        self, name: str, args: GitHubAccessArgs, repo: str, child: pulumi.ResourceOptions
    ) -> github.BranchProtection | github.RepositoryRuleset | None:
        if args.push_access is PushAccess.BRANCH_PROTECTION:
            # Only the listed actors may push, and merging a pull request is a push: the people's
            # teams are allowed next to the bot team, or nobody could merge.
            people = [f"{args.owner}/{team}" for team in args.merge_teams]
            return github.BranchProtection(
                f"{name}-{repo}-protection",
                repository_id=repo,
                pattern=args.push_branch,
                restrict_pushes=[
                    github.BranchProtectionRestrictPushArgs(
                        push_allowances=[
                            self.team.slug.apply(lambda s: f"{args.owner}/{s}"),
                            *people,
                        ],
                    )
                ],
                # An imported rule (`fleet adopt`) records the repository's node id where the
                # program names the repository; both mean the same repository, which the
                # resource's name already pins, and the field would otherwise force a replace.
                opts=pulumi.ResourceOptions.merge(
                    child, pulumi.ResourceOptions(ignore_changes=["repositoryId"])
                ),
            )
        if args.push_access is PushAccess.RULESET_BYPASS:
            # Pull requests are required on the branch, except for the bot team (and the fleet's
            # GitHub App while some stacks use it).
            return pull_request_ruleset(
                f"{name}-{repo}-ruleset",
                name=f"{args.team}-push",
                repository=repo,
                branch=args.push_branch,
                bypass_actors=[
                    github.RepositoryRulesetBypassActorArgs(
                        actor_type="Team",
                        actor_id=self.team.id.apply(int),
                        bypass_mode="always",
                    ),
                    *(
                        github.RepositoryRulesetBypassActorArgs(
                            actor_type="Integration", actor_id=app_id, bypass_mode="always"
                        )
                        for app_id in args.bypass_app_ids
                    ),
                ],
                opts=child,
            )
        return None


def pull_request_ruleset(
    resource_name: str,
    *,
    name: str,
    repository: str,
    branch: str,
    bypass_actors: Sequence[github.RepositoryRulesetBypassActorArgs],
    opts: pulumi.ResourceOptions,
) -> github.RepositoryRuleset:
    """A ruleset requiring pull requests on `branch`, which only `bypass_actors` may push past."""
    return github.RepositoryRuleset(
        resource_name,
        name=name,
        repository=repository,
        target="branch",
        enforcement="active",
        conditions=github.RepositoryRulesetConditionsArgs(
            ref_name=github.RepositoryRulesetConditionsRefNameArgs(
                includes=[f"refs/heads/{branch}"], excludes=[]
            )
        ),
        rules=github.RepositoryRulesetRulesArgs(
            pull_request=github.RepositoryRulesetRulesPullRequestArgs(),
        ),
        bypass_actors=list(bypass_actors),
        opts=opts,
    )
