"""URN stability: a resource's URN is its identity in state, and a changed URN is a replacement.

The committed lists hold the URNs the real engine derives (type chain through every parent) for
each stack and the example hub. A rename or re-parenting must ship with `aliases`; after adding the alias, regenerate
the list with `FLEET_UPDATE_URNS=1 pytest tests/test_urns.py` and review the diff.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest

from fleet.tools.offline.mock import engine_urn
from tests.helpers import ENTERPRISE_TOKEN, hub_run, stack_run

URNS = Path(__file__).parent / "urns"


# Every optional feature on, so resources that only exist with it are guarded too.
ALL_FEATURES = {
    "receivers": "true",
    "enterpriseToken": ENTERPRISE_TOKEN,
    "enterpriseTokenExpires": (date.today() + timedelta(days=120)).isoformat(),
    "syncKind": "GitRepository",
    "syncUrl": "https://github.com/controlplaneio-fluxcd/d1-fleet.git",
    "syncRef": "refs/heads/main",
    "syncPath": "clusters/staging",
    "syncPullSecret": "flux-system",
}
CASES = {
    "staging": ("staging", {}),
    "prod-eu": ("prod-eu", {}),
    "staging-all-features": ("staging", ALL_FEATURES),
    "prod-eu-all-features": ("prod-eu", ALL_FEATURES),
}


@pytest.mark.parametrize("case", [*sorted(CASES), "hub"])
def test_urns_do_not_move(case: str, tmp_path: Path) -> None:
    # The example hub: its spokes' components and objects, on the hub and on each spoke.
    stack, overrides = CASES.get(case, ("hub", {}))
    run = hub_run(tmp_path) if case == "hub" else stack_run(stack, overrides)
    urns = sorted(engine_urn(run, r, stack) for r in run.resources)
    assert len(urns) == len(set(urns)), "duplicate URNs"
    path = URNS / f"{case}.txt"
    if os.environ.get("FLEET_UPDATE_URNS") == "1":
        path.write_text("\n".join(urns) + "\n")
    expected = path.read_text().splitlines()
    moved = sorted(set(expected) - set(urns))
    added = sorted(set(urns) - set(expected))
    assert (moved, added) == ([], []), (
        f"URNs of {case} changed; ship aliases for renames, then regenerate {path.name}.\n"
        f"gone: {moved}\nnew: {added}"
    )


def test_urns_follow_the_parent_chain() -> None:
    run = stack_run("staging")
    namespace = run.get("kubernetes:core/v1:Namespace", "cluster-flux-system-namespace")
    assert engine_urn(run, namespace, "staging") == (
        "urn:pulumi:staging::d1-fleet::fleet:index:Cluster$fleet:flux:FluxNamespace"
        "$kubernetes:core/v1:Namespace::cluster-flux-system-namespace"
    )
