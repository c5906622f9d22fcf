"""Scenario 1: the committed cluster stacks, from an empty state, on the real engine.

`up` creates every object the program declares, the API server holds each as declared, and a second
preview plans nothing. The Flux Operator and its chart are stand-ins (tests/real_engine/
operator_standin.py, chart/); the Pulumi CLI, the Kubernetes provider and the API server are real.
"""

from __future__ import annotations

from pathlib import Path

from tests.real_engine.checks import compare, kube_resources
from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, tier_config
from tests.real_engine.kube import PATHS, Discovery, object_path
from tests.real_engine.operator_standin import OperatorStandIn


def test_staging_up_creates_every_declared_object_and_a_second_preview_is_empty(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine
) -> None:
    engine.write_stack("staging", tier_config(cluster, chart))
    with inside(engine.project, TOKENS):
        stack = engine.stack("staging")
        result = stack.up(color="never")
        assert result.summary.result == "succeeded", result.stdout
        state = engine.export("staging")
        discovery = Discovery(cluster.kube())
        problems: list[str] = []
        resources = list(kube_resources(state))
        for resource in resources:
            problems += compare(resource, discovery)[1]
        assert not problems, "\n".join(problems)
        assert len(resources) > 30, [r["urn"] for r in resources]
        operator_deployment = cluster.kube().get(
            object_path(PATHS["Deployment"], "flux-operator", "flux-system")
        )
        assert operator_deployment, "the chart's Deployment is missing"
        assert (
            operator_deployment["spec"]["template"]["metadata"]["annotations"][
                "fleet.test/multitenancy"
            ]
            == "true"
        )
        assert any("installed flux-system/flux" in line for line in operator.log), operator.log

        again = stack.preview(color="never", diff=True)
        changes = {op: n for op, n in again.change_summary.items() if op != "same"}
        assert not changes, again.stdout
