"""Rules of hub mode (`spokes`): spoke names, their token renewal, the controllers of their chain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.program import conventions as c
from fleet.program.config import entries
from fleet.program.config.rules.base import (
    KUSTOMIZE_CONTROLLER,
    RESERVED_NAMESPACES,
    SOURCE_CONTROLLER,
    Problem,
    Rules,
    Values,
    duplicates,
)

RULES: Final = Rules()

# Hub mode (`spokes`).
HELM_CONTROLLER: Final = "helm-controller"


@RULES.reads("spokes", "tenants", "image_automation")
def _spokes(v: Values) -> Iterator[Problem]:
    names = [entries.split_spoke(entry).name for entry in v["spokes"]]
    for name in duplicates(names):
        yield ("spokes", f"spoke {name!r} is listed more than once; allowed: each spoke once")
    # Each spoke gets a hub namespace of its name, beside the tenants'.
    taken = {*v["tenants"], *([c.APPS_UPDATE_NAMESPACE] if v["image_automation"] else [])}
    for name in dict.fromkeys(names):
        if name in RESERVED_NAMESPACES or name.startswith("kube-") or name in taken:
            yield (
                "spokes",
                f"spoke {name!r} names a namespace the hub already uses (flux-system, default, "
                "kube-*, a tenant, apps-update); allowed: another DNS-1123 label",
            )


@RULES.reads("spokes", "spoke_token_max_age_days")
def _spoke_tokens(v: Values) -> Iterator[Problem]:
    for spoke in (entries.split_spoke(entry) for entry in v["spokes"]):
        due = spoke.token_due(v["spoke_token_max_age_days"])
        if spoke.rotated > v.today:
            yield (
                "spokes",
                f"spoke {spoke.name}: rotated {spoke.rotated.isoformat()} is in the future; "
                "allowed: the date the token was last renewed (today when renewing it)",
            )
        elif due < v.today:
            yield (
                "spokes",
                f"spoke {spoke.name}: its token was due for renewal on {due.isoformat()} "
                f"(spokeTokenMaxAgeDays {v['spoke_token_max_age_days']}); renew it: set "
                f"rotated={v.today.isoformat()} in its entry and run pulumi up",
            )


@RULES.reads("spokes", "flux_components")
def _spokes_need_controllers(v: Values) -> Iterator[Problem]:
    if not v["spokes"]:
        return
    # The chain is Kustomizations from a GitRepository, and HelmReleases installed on the spokes.
    for controller in (SOURCE_CONTROLLER, KUSTOMIZE_CONTROLLER, HELM_CONTROLLER):
        if controller not in set(v["flux_components"]):
            yield (
                "fluxComponents",
                f"{controller} is missing; the spokes' chain needs it; allowed: a list that "
                f"includes {controller}",
            )
