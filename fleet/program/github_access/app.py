"""The Flux GitHub App's access to the organisation's repositories (App mode's bot team).

An App's permissions (contents, commit statuses, metadata) are set once on the App; what the stack
declares is which repositories its installation may reach, and, where image automation pushes, the
App as the ruleset bypass actor on the push branch. Like the bot team, these objects are
organisation-wide and declared by the `githubAccessOwner` stack only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_github as github

from fleet.program import options
from fleet.program.github_access.plan import PushAccess
from fleet.program.github_access.team import pull_request_ruleset

# Differs from the team mode's ruleset name: GitHub wants ruleset names unique per repository, and
# a switch of modes creates this ruleset before it deletes the team's.
RULESET_NAME = "flux-github-app-push"


@dataclass(frozen=True)
class GitHubAppAccessArgs:
    app_id: int
    installation_id: int
    # Repositories the installation reaches; image automation pushes to `push_repositories`.
    repositories: Sequence[str]
    push_repositories: Sequence[str] = ()
    push_access: PushAccess = PushAccess.NONE
    push_branch: str = "main"
    # The second App's installation, granted the applications repository alone and never a
    # bypass (tenant namespaces hold its key).
    apps_installation_id: int | None = None
    apps_repository: str = ""


class GitHubAppAccess(pulumi.ComponentResource):
    """One installation-repository grant per repository, the App's push bypass on the branch,
    and the second App's grant of the applications repository."""

    def __init__(
        self,
        name: str,
        args: GitHubAppAccessArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fleet:github:GitHubAppAccess", name, None, opts)
        child = options.child(self, opts)
        # One resource per repository, not the authoritative AppInstallationRepositories: the
        # installation may serve other repositories this stack does not own.
        self.repositories = [
            github.AppInstallationRepository(
                f"{name}-{repo}",
                installation_id=str(args.installation_id),
                repository=repo,
                opts=child,
            )
            for repo in args.repositories
        ]
        grants = dict(zip(args.repositories, self.repositories, strict=True))
        self.apps_repository = (
            github.AppInstallationRepository(
                f"{name}-apps-{args.apps_repository}",
                installation_id=str(args.apps_installation_id),
                repository=args.apps_repository,
                opts=child,
            )
            if args.apps_installation_id is not None
            else None
        )
        self.push_rules = (
            [
                # The App bypasses the rule on a repository its installation reaches: the grant
                # first, and on destroy the rule goes before the grant.
                _bypass_ruleset(
                    name,
                    args,
                    repo,
                    options.after(child, grants[repo]),
                )
                for repo in args.push_repositories
            ]
            if args.push_access is PushAccess.RULESET_BYPASS
            else []
        )
        self.register_outputs({})


def _bypass_ruleset(
    name: str, args: GitHubAppAccessArgs, repo: str, child: pulumi.ResourceOptions
) -> github.RepositoryRuleset:
    # Pull requests are required on the branch, except for the App (a bypass actor of type
    # Integration is identified by the App id, not the installation id).
    return pull_request_ruleset(
        f"{name}-{repo}-ruleset",
        name=RULESET_NAME,
        repository=repo,
        branch=args.push_branch,
        bypass_actors=[
            github.RepositoryRulesetBypassActorArgs(
                actor_type="Integration", actor_id=args.app_id, bypass_mode="always"
            )
        ],
        opts=child,
    )
