"""Rules across the fleet's stack files: what no single stack shows.

GitHub's webhook limit per repository, receiver hosts shared by stacks, and the credential modes
the owner stack must serve together. The other stacks' files are read as plain values (their
secret values are never read), and only the fields these rules need are validated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from fleet.program import conventions as c
from fleet.program import receiver_plan, spoke_plan
from fleet.program.config import entries, parse
from fleet.program.config.model import Settings
from fleet.program.github_access import plan
from fleet.program.github_access.plan import PushAccess

# What the fleet-wide receiver check reads from the other stacks' files.
_FLEET_FIELDS = (
    "receivers",
    "cluster_domain",
    "receiver_host",
    "github_owner",
    "fleet_repository",
    "infra_repository",
    "apps_repository",
    "tenants",
    "image_automation",
    "sync_kind",
    "sync_url",
    # The fleet's credential modes, for the owner stack's GitHub objects.
    "git_auth",
    "github_app_id",
    "github_app_installation_id",
    "github_apps_app_id",
    "github_apps_installation_id",
)


def problems(
    stack: str,
    settings: Settings,
    others: Mapping[str, Mapping[str, Any]],
    *,
    project: str = c.PROJECT,
) -> list[str]:
    """Problems only the whole fleet shows: GitHub's webhook limit, receiver hosts shared by stacks,
    and credential modes the owner stack cannot serve together (`github_access`).

    `others` maps each other stack of the project to the raw values of its stack file. Each cluster
    declares the webhooks of its own receivers, so a repository collects one webhook per receiver
    per cluster; GitHub rejects the 21st, which would fail `pulumi up` halfway through a rollout.
    """
    found = github_access(settings, others, project=project)[1]
    if not settings.receivers:
        return found
    members: dict[str, Settings] = {stack: settings}
    for name, raw in sorted(others.items()):
        try:
            members[name] = _fleet_member(raw)
        except ValueError:  # pydantic's ValidationError included
            found.append(
                f"{project}:receivers: cannot count the webhooks of stack {name!r}: "
                "its stack file has invalid values"
            )
    per_stack = {
        name: receiver_plan.webhooks_per_repository(m.github_owner, m.receiver_targets)
        for name, m in members.items()
    }
    total: Counter[str] = Counter()
    for counts in per_stack.values():
        total.update(counts)
    for repository, count in sorted(total.items()):
        if count > c.GITHUB_WEBHOOK_LIMIT:
            shares = ", ".join(
                f"{name}: {counts[repository]}"
                for name, counts in per_stack.items()
                if counts[repository]
            )
            found.append(
                f"{project}:receivers: {repository} would get {count} webhooks from this fleet "
                f"({shares}); GitHub accepts at most {c.GITHUB_WEBHOOK_LIMIT} per repository and "
                "event: enable receivers on fewer clusters or tenants"
            )
    host = settings.receiver_public_host
    sharing = [
        name
        for name, m in members.items()
        if name != stack and m.receivers and m.receiver_public_host == host
    ]
    if sharing:
        found.append(
            f"{project}:receiverHost: {host!r} is also the receiver host of stack(s) "
            f"{', '.join(sharing)}; each cluster needs its own host or GitHub reaches the wrong one"
        )
    return found


def github_access(
    settings: Settings,
    others: Mapping[str, Mapping[str, Any]],
    *,
    project: str = c.PROJECT,
) -> tuple[plan.FleetAuth, list[str]]:
    """What the owner stack declares on GitHub for every stack's `gitAuth`, and what stops it.

    A stack that does not own the organisation's objects declares none and reads no other file.
    """
    if not settings.github_access_owner:
        return plan.alone(settings.stack_auth), []
    modes: dict[str, plan.StackAuth | None] = {}
    for name, raw in others.items():
        try:
            modes[name] = _fleet_member(raw).stack_auth
        except ValidationError:
            modes[name] = None
    owner = plan.Owner(
        auth=settings.stack_auth,
        bot_username=settings.bot_username,
        branch_protection=settings.bot_push_access is PushAccess.BRANCH_PROTECTION,
    )
    fleet, found = plan.plan(owner, modes)
    others_owning = sorted(
        name for name, raw in others.items() if str(raw.get("githubAccessOwner")).lower() == "true"
    )
    if others_owning:
        found.append(
            (
                "githubAccessOwner",
                f"stack(s) {', '.join(others_owning)} also set githubAccessOwner: true; exactly "
                "one stack of the fleet owns the organisation's GitHub objects (two would fight "
                "over the bot team, and destroying either would take the bot's access from every "
                "cluster); allowed: true on one stack file only",
            )
        )
    return fleet, [f"{project}:{key}: {message}" for key, message in found]


def _fleet_member(raw: Mapping[str, Any]) -> Settings:
    """The receiver-related values of another stack, validated; every other field stays unset."""
    values: dict[str, Any] = {}
    for name in _FLEET_FIELDS:
        field = Settings.model_fields[name]
        key = field.alias or name
        if key in raw:
            values[name] = parse.adapter(name).validate_python(raw[key])
        elif field.is_required():
            # A sibling stack file without a required key places no receivers the program can count.
            raise ValueError(f"{key} is missing")
    # Only the properties that place receivers are read from it.
    return Settings.model_construct(**values)


def other_stacks(project_dir: Path, stack: str) -> dict[str, Mapping[str, Any]]:
    """The plain values of every other `Pulumi.<stack>.yaml` of the project, by short key."""
    prefix = f"{c.PROJECT}:"
    found: dict[str, Mapping[str, Any]] = {}
    for path in sorted(project_dir.glob("Pulumi.*.yaml")):
        name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        if name == stack:
            continue
        config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
        found[name] = {
            key.removeprefix(prefix): value
            for key, value in config.items()
            if key.startswith(prefix) and not (isinstance(value, dict) and "secure" in value)
        }
    return found


def spoke_problems(
    stack: str,
    settings: Settings,
    others: Mapping[str, Mapping[str, Any]],
    *,
    project: str = c.PROJECT,
) -> list[str]:
    """A cluster reconciled by two Fluxes: a spoke that is another stack's cluster, or another
    hub's spoke (same name or same API server); or this stack's cluster a spoke of another hub."""
    found: list[str] = []
    for name, raw in sorted(others.items()):
        theirs = _spokes(raw.get("spokes"))
        cluster = raw.get("clusterName")
        for spoke in settings.spoke_list:
            if spoke.name == cluster:
                found.append(
                    f"{project}:spokes: spoke {spoke.name} is the cluster of stack {name}, which "
                    "runs its own Flux; allowed: a cluster is a spoke of one hub or a stack of its "
                    "own, not both"
                )
            server = entries.api_server(spoke.server)
            other = next(
                (
                    s
                    for s in theirs
                    if s.name == spoke.name or entries.api_server(s.server) == server
                ),
                None,
            )
            if other is not None:
                found.append(
                    f"{project}:spokes: spoke {spoke.name} is also spoke {other.name} of hub "
                    f"stack {name}; allowed: each spoke on one hub (two would fight over it)"
                )
        if any(s.name == settings.cluster_name for s in theirs):
            found.append(
                f"{project}:clusterName: {settings.cluster_name} is a spoke of hub stack {name}; "
                "allowed: a cluster is a spoke of one hub or a stack of its own, not both"
            )
    return found


def _spokes(raw: Any) -> list[spoke_plan.Spoke]:
    """Another stack's well-formed spokes (its own run reports the others)."""
    items = raw if isinstance(raw, list) else []
    found = []
    for entry in items:
        try:
            found.append(entries.split_spoke(str(entry)))
        except ValueError:
            continue
    return found
