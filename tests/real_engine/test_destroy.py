"""Scenario 5: the README's destroy paths on a production stack (Destroying a stack), run by the engine.

prod-eu runs with `githubAccessOwner: false`: the GitHub provider is not served by the Go proxy, so
its protected GitHub objects stay covered by the mock suite's teardown model only. Receivers are
off (pulumi-random is not built), so the README's "deletes the webhook receivers" rows here delete
nothing, and everything the stack declares must still be in the API server after them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.real_engine.checks import compare, kube_resources
from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, tier_config
from tests.real_engine.kube import Discovery
from tests.real_engine.operator_standin import OperatorStandIn

NAMESPACE = "kubernetes:core/v1:Namespace"


def all_live(engine: Engine, cluster: ControlPlane, state: dict[str, Any]) -> list[str]:
    discovery = Discovery(cluster.kube())
    problems: list[str] = []
    for resource in kube_resources(state):
        problems += compare(resource, discovery)[1]
    return problems


def test_production_destroy_paths_delete_what_the_readme_says(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine
) -> None:
    engine.write_stack("prod-eu", {**tier_config(cluster, chart), "githubAccessOwner": False})
    with inside(engine.project, TOKENS):
        stack = engine.stack("prod-eu")
        assert stack.up(color="never").summary.result == "succeeded"
    state = engine.export("prod-eu")
    assert not all_live(engine, cluster, state)

    # `pulumi destroy --stack <stack>`: the preview refuses every protected delete.
    plain = engine.cli("destroy", "--stack", "prod-eu", "--yes", check=False)
    assert plain.returncode != 0
    assert "protected" in plain.stdout + plain.stderr
    assert not all_live(engine, cluster, state), "a plain destroy deleted something on production"

    # `--skip-preview --yes`, as every Automation API destroy runs it: continues past refused deletes.
    with inside(engine.project, TOKENS), pytest.raises(auto.CommandError, match="protected"):
        stack.destroy(color="never")
    assert not all_live(engine, cluster, state), "destroy --skip-preview deleted a kept object"

    excluded = engine.cli(
        "destroy", "--stack", "prod-eu", "--yes", "--exclude-protected", check=False
    )
    assert not all_live(engine, cluster, state), excluded.stdout + excluded.stderr

    # Tear the cluster down: unprotect everything, destroy; tenant namespaces are retained.
    engine.cli("state", "unprotect", "--all", "--yes", "--stack", "prod-eu")
    teardown = engine.cli("destroy", "--stack", "prod-eu", "--yes", check=False)
    assert teardown.returncode == 0, teardown.stdout + teardown.stderr
    discovery = Discovery(cluster.kube())
    tenants = {"backend", "frontend"}
    for resource in kube_resources(state):
        outputs = resource["outputs"]
        live = discovery.live(outputs)
        name = outputs["metadata"]["name"]
        if resource["type"] == NAMESPACE and name in tenants:
            assert live is not None, f"tenant namespace {name} must be retained"
        else:
            assert live is None or live["metadata"].get("deletionTimestamp"), resource["urn"]
    assert engine.export("prod-eu")["deployment"].get("resources") in (None, [])
