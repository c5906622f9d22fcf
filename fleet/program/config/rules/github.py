"""Rules on the GitHub access the owner stack declares in token mode: the bot, its push rule."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.program.config.rules.base import Problem, Rules, Values
from fleet.program.conventions import GitAuth
from fleet.program.github_access.plan import PushAccess

RULES: Final = Rules()


@RULES.reads("github_access_owner", "bot_username", "git_auth")
def _owner_needs_bot(v: Values) -> Iterator[Problem]:
    # With a GitHub App there is no bot account: the App's installation gets the repositories.
    if (
        v["github_access_owner"]
        and not v["bot_username"]
        and v["git_auth"] is not GitAuth.GITHUB_APP
    ):
        yield ("botUsername", "required when githubAccessOwner is true")


@RULES.reads("bot_push_access", "merge_teams", "git_auth")
def _branch_protection_needs_merge_teams(v: Values) -> Iterator[Problem]:
    # App mode refuses branchProtection itself (app_refuses_branch_protection).
    if v["git_auth"] is GitAuth.GITHUB_APP:
        return
    if v["bot_push_access"] is PushAccess.BRANCH_PROTECTION and not v["merge_teams"]:
        yield (
            "mergeTeams",
            "required with botPushAccess branchProtection: only the listed teams and the bot may "
            "push (merging a pull request is a push)",
        )
