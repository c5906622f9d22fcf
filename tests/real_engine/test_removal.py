"""Scenario 3: a tenant removed and brought back on staging; a platform component removed on production.

README, Removing a tenant or a platform component: on staging the tenant's objects go and come back
with the list; on production `up` stops at the protected Kustomizations until they are unprotected,
and the Kustomization is deleted with `deletionPolicy: Orphan`, so what it applied stays. Flux's
controllers do not run here: the workload the component applied is written by the test with the
labels kustomize-controller puts on what it applies, and must outlive the Kustomization.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi import automation as auto

from tests.real_engine.checks import kube_resources
from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, tier_config
from tests.real_engine.kube import PATHS, Discovery, object_path
from tests.real_engine.operator_standin import OperatorStandIn

KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"


def live_uids(engine: Engine, cluster: ControlPlane, stack: str) -> dict[str, str | None]:
    discovery = Discovery(cluster.kube())
    uids: dict[str, str | None] = {}
    for resource in kube_resources(engine.export(stack)):
        live = discovery.live(resource["outputs"])
        uids[resource["urn"]] = live["metadata"]["uid"] if live else None
    return uids


def test_a_tenant_removed_on_staging_goes_and_comes_back(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine
) -> None:
    with inside(engine.project, TOKENS):
        engine.write_stack("staging", tier_config(cluster, chart))
        stack = engine.stack("staging")
        assert stack.up(color="never").summary.result == "succeeded"
        before = live_uids(engine, cluster, "staging")
        frontend = {urn for urn in before if "frontend" in urn}
        assert frontend, "the staging stack declares the frontend tenant"

        engine.write_stack("staging", {**tier_config(cluster, chart), "tenants": ["backend"]})
        assert stack.up(color="never").summary.result == "succeeded"
        kube = cluster.kube()
        namespace = kube.get(object_path(PATHS["Namespace"], "frontend"))
        assert namespace is None, "the removed tenant's namespace is still there"
        kept = live_uids(engine, cluster, "staging")
        assert not set(kept) & frontend
        assert all(kept[urn] == before[urn] for urn in kept), (
            "removing a tenant touched another object"
        )

        engine.write_stack("staging", tier_config(cluster, chart))
        assert stack.up(color="never").summary.result == "succeeded"
        again = live_uids(engine, cluster, "staging")
        assert frontend <= set(again)
        assert all(again[urn] for urn in frontend)
        assert all(again[urn] == before[urn] for urn in before if urn not in frontend)


def test_a_platform_component_removed_on_production_keeps_what_it_applied(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine
) -> None:
    base = {**tier_config(cluster, chart), "githubAccessOwner": False}
    with inside(engine.project, TOKENS):
        engine.write_stack("prod-eu", base)
        stack = engine.stack("prod-eu")
        assert stack.up(color="never").summary.result == "succeeded"
        kube = cluster.kube()
        # What kustomize-controller would have applied for `admission`, labelled as it labels.
        workload = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "admission-workload",
                "namespace": "flux-system",
                "labels": {
                    "kustomize.toolkit.fluxcd.io/name": "admission-controllers",
                    "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
                },
            },
            "data": {"applied-by": "kustomize-controller (written by the test)"},
        }
        path = object_path(PATHS["ConfigMap"], "admission-workload", "flux-system")
        kube.apply(path, workload, "kustomize-controller")
        admission = [
            r
            for r in kube_resources(engine.export("prod-eu"))
            if r["type"] == KUSTOMIZATION and "admission" in r["urn"]
        ]
        assert admission
        assert all(r["outputs"]["spec"]["deletionPolicy"] == "Orphan" for r in admission)
        assert all(r.get("protect") for r in admission), (
            "production Kustomizations must be protected"
        )

        engine.write_stack("prod-eu", {**base, "platformComponents": ["monitoring"]})
        with pytest.raises(auto.CommandError, match="protected"):
            stack.up(color="never")
        for resource in admission:
            engine.cli("state", "unprotect", resource["urn"], "--yes", "--stack", "prod-eu")
        assert stack.up(color="never").summary.result == "succeeded"
        discovery = Discovery(kube)
        assert all(discovery.live(r["outputs"]) is None for r in admission)
        assert kube.get(path) is not None, "what the component applied must stay"
