"""What the `githubAccessOwner` stack grants on GitHub for every credential mode of the fleet.

`gitAuth` is set per stack, but the organisation's GitHub objects belong to one stack. So that a
fleet can switch stack by stack (tokens to an App, or back), the owner declares what every stack
needs, read from the other stacks' files: the bot team and its grants while any stack uses tokens,
the App installation's repositories while any uses the App. One push rule serves both: with both
modes in use, the team's ruleset also lets the App bypass it (GitHub applies every active ruleset
on a branch, and a bypass of one does not lift another's rules).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

Problem = tuple[str, str]  # (camelCase key, message)


class PushAccess(StrEnum):
    """How the bot gets the right to push to the branch image automation writes to."""

    NONE = "none"
    BRANCH_PROTECTION = "branchProtection"
    RULESET_BYPASS = "rulesetBypass"


# Classic personal access tokens: the only kind GitHub accepts for adding a repository to an App
# installation (`PUT /user/installations/{id}/repositories/{repo}`).
CLASSIC_TOKEN_PREFIX = "ghp_"


@dataclass(frozen=True)
class Installation:
    """A GitHub App installation on the organisation."""

    app_id: int
    installation_id: int


@dataclass(frozen=True)
class StackAuth:
    """How one stack authenticates, as its stack file says."""

    github_app: bool
    app_id: int | None = None
    installation_id: int | None = None
    # Whether it runs image automation (pushes to the branch rules protect).
    pushes: bool = False
    # Whether its FluxInstance syncs from the fleet repository (so it needs read access there).
    reads_fleet: bool = False
    # App mode's second App, which reads the applications repository (None: appsToken does).
    apps_app_id: int | None = None
    apps_installation_id: int | None = None


@dataclass(frozen=True)
class FleetAuth:
    """What the owner stack declares: the bot team, the App installation's grants, or both."""

    team: bool
    installation: Installation | None = None
    # Whether any stack's FluxInstance syncs from the fleet repository.
    reads_fleet: bool = False
    # The second App's installation, granted the applications repository only.
    apps_installation: Installation | None = None

    @property
    def mixed(self) -> bool:
        return self.team and self.installation is not None


@dataclass(frozen=True)
class Owner:
    """The owner stack's own values the fleet's plan depends on."""

    auth: StackAuth
    bot_username: str | None
    branch_protection: bool


def alone(auth: StackAuth) -> FleetAuth:
    """What a stack needs for its own mode only."""
    if auth.github_app and auth.app_id is not None and auth.installation_id is not None:
        return FleetAuth(
            team=False,
            installation=Installation(auth.app_id, auth.installation_id),
            reads_fleet=auth.reads_fleet,
            apps_installation=_apps_installation(auth),
        )
    return FleetAuth(team=not auth.github_app, reads_fleet=auth.reads_fleet)


def _apps_installation(auth: StackAuth) -> Installation | None:
    if auth.apps_app_id is None or auth.apps_installation_id is None:
        return None
    return Installation(auth.apps_app_id, auth.apps_installation_id)


def plan(owner: Owner, others: Mapping[str, StackAuth | None]) -> tuple[FleetAuth, list[Problem]]:
    """The owner's GitHub objects for the whole fleet, and what would leave a stack without access.

    `others` maps every other stack to its mode, or None when its stack file has invalid values.
    """
    problems: list[Problem] = []
    for name, auth in sorted(others.items()):
        if auth is None:
            problems.append(
                (
                    "githubAccessOwner",
                    f"cannot tell how stack {name!r} authenticates to GitHub (gitAuth, "
                    "githubAppId, githubAppInstallationId): its stack file has invalid values",
                )
            )
    known = {name: auth for name, auth in others.items() if auth is not None}
    stacks = {"": owner.auth, **known}
    token_stacks = sorted(name or "this stack" for name, a in stacks.items() if not a.github_app)
    app_stacks = {name: a for name, a in stacks.items() if a.github_app}
    found = {
        Installation(a.app_id, a.installation_id)
        for a in app_stacks.values()
        if a.app_id is not None and a.installation_id is not None
    }
    if len(found) > 1:
        shown = ", ".join(
            f"{name or 'this stack'}: App {a.app_id}, installation {a.installation_id}"
            for name, a in sorted(app_stacks.items())
            if a.installation_id is not None
        )
        problems.append(
            (
                "githubAccessOwner",
                f"the fleet's stacks use different GitHub App installations ({shown}); the owner "
                "stack grants one installation its repositories: give every stack the same App",
            )
        )
    installation = min(found, key=lambda i: (i.app_id, i.installation_id)) if found else None
    apps_found = {i for a in app_stacks.values() if (i := _apps_installation(a)) is not None}
    if len(apps_found) > 1:
        shown = ", ".join(
            f"{name or 'this stack'}: App {a.apps_app_id}, installation {a.apps_installation_id}"
            for name, a in sorted(app_stacks.items())
            if a.apps_installation_id is not None
        )
        problems.append(
            (
                "githubAccessOwner",
                f"the fleet's stacks use different second Apps for the applications repository "
                f"({shown}); the owner stack grants one installation that repository: give every "
                "stack the same githubAppsAppId and githubAppsInstallationId",
            )
        )
    apps_installation = (
        min(apps_found, key=lambda i: (i.app_id, i.installation_id)) if apps_found else None
    )
    for name, a in sorted(known.items()):
        # Found by owner: fine when it is the installation another stack names by id.
        same = installation is not None and installation.app_id == a.app_id
        if a.github_app and a.installation_id is None and not same:
            problems.append(
                (
                    "githubAccessOwner",
                    f"stack {name!r} finds its App installation by owner; the owner stack grants "
                    f"an installation its repositories by id: set githubAppInstallationId in "
                    f"Pulumi.{name}.yaml",
                )
            )
    # An App-mode owner keeps the bot team while `botUsername` is set, even once no stack file
    # uses tokens: the deploy workflow updates production stacks one by one behind approvals, so a
    # cluster switching in the same change may still run on tokens; the team goes when the user
    # removes `botUsername`, after every stack is deployed.
    fleet = FleetAuth(
        team=bool(token_stacks) or bool(owner.auth.github_app and owner.bot_username),
        installation=installation,
        reads_fleet=any(a.reads_fleet for a in stacks.values()),
        apps_installation=apps_installation,
    )
    if owner.auth.github_app and token_stacks and not owner.bot_username:
        problems.append(
            (
                "botUsername",
                f"required while stack(s) {', '.join(token_stacks)} use gitAuth token: the "
                "owner stack keeps the bot team for them",
            )
        )
    pushing_apps = sorted(name or "this stack" for name, a in app_stacks.items() if a.pushes)
    if fleet.installation is not None and owner.branch_protection and pushing_apps:
        problems.append(
            (
                "botPushAccess",
                f"branchProtection names teams, and stack(s) {', '.join(pushing_apps)} push with "
                "a GitHub App (image automation), which it cannot allow; allowed: rulesetBypass "
                "(the ruleset lets the team and the App bypass it) or none",
            )
        )
    return fleet, problems


def api_token_problem(fleet: FleetAuth, token: str | None, source: str) -> Problem | None:
    """Why the owner stack's GitHub token cannot grant the App installation its repositories.

    GitHub adds a repository to an installation only for a classic token (scope `repo`) of a user
    with admin rights on the repository; pulumi-github documents AppInstallationRepository as not
    working with App installation authentication, and fine-grained tokens get 403.
    """
    if fleet.installation is None or token is None:
        return None
    if token.strip().startswith(CLASSIC_TOKEN_PREFIX):
        return None
    return (
        "githubToken",
        f"[secret] ({source}) cannot grant the GitHub App installation its repositories: GitHub "
        "allows that only with a classic personal access token (ghp_..., scope repo) of an "
        "organisation owner or repository admin; allowed: such a token as githubToken or "
        "GITHUB_TOKEN",
    )
