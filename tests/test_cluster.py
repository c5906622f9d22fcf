"""The cluster component: one per stack in `__main__.py`, several per program elsewhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pulumi
import pytest

from fleet.program import providers
from fleet.program.cluster import Cluster, ClusterArgs
from fleet.tools.offline import mock
from fleet.tools.offline.mock import Recording, engine_urn
from tests.helpers import ROOT, stack_settings

CLUSTER = "fleet:index:Cluster"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"


def two_clusters() -> Recording:
    staging = stack_settings("staging")
    prod = stack_settings("prod-eu", tenants=["payments"])

    def program() -> None:
        for name, settings in (("staging", staging), ("prod-eu", prod)):
            Cluster(
                name,
                ClusterArgs(settings),
                opts=pulumi.ResourceOptions(
                    providers=providers.for_cluster(settings, prefix=f"{name}-")
                ),
            )

    return mock.run(program, config={}, stack_name="hub")


@pytest.fixture(scope="module")
def hub() -> Recording:
    return two_clusters()


def cluster_of(run: Recording, urn: str) -> str | None:
    """The name of the Cluster component a resource belongs to, following parents."""
    while urn:
        resource = run.by_urn(urn)
        if resource.type == CLUSTER:
            return resource.name
        urn = resource.parent
    return None


def test_cluster_two_in_one_program_have_distinct_engine_urns(hub: Recording) -> None:
    # The mock monitor accepts duplicate URNs; the engine refuses the program ("Duplicate resource
    # URN"), so a child named without its cluster's name would only fail on a real run.
    urns = [engine_urn(hub, r, "hub") for r in hub.resources]
    assert len(urns) > 90
    assert len(set(urns)) == len(urns)


def test_cluster_two_in_one_program_keep_their_own_settings(hub: Recording) -> None:
    clusters = {r.name for r in hub.of_type(CLUSTER)}
    assert clusters == {"staging", "prod-eu"}
    runtime = {
        cluster_of(hub, r.urn): r.inputs["data"]
        for r in hub.of_type(CONFIG_MAP)
        if r.inputs["metadata"] == {**r.inputs["metadata"], "namespace": "flux-system"}
    }
    assert runtime["staging"]["CLUSTER_NAME"] == "staging-1"
    assert runtime["prod-eu"]["CLUSTER_NAME"] == "prod-eu"
    namespaces = {
        (cluster_of(hub, r.urn), r.inputs["metadata"]["name"])
        for r in hub.of_type("kubernetes:core/v1:Namespace")
    }
    assert ("prod-eu", "payments") in namespaces
    assert ("staging", "payments") not in namespaces


def test_cluster_every_resource_uses_its_own_clusters_provider(hub: Recording) -> None:
    provider_of = {r.urn: r.name for r in hub.resources if r.type.startswith("pulumi:providers:")}
    checked = 0
    for r in hub.resources:
        if not r.custom or r.type.startswith("pulumi:providers:"):
            continue
        owner = cluster_of(hub, r.urn)
        assert owner is not None, r.name
        provider_name = provider_of[r.provider.rsplit("::", 1)[0]]
        assert provider_name.startswith(f"{owner}-"), (r.name, provider_name)
        checked += 1
    assert checked > 50


def test_cluster_only_the_owner_has_github_objects(hub: Recording) -> None:
    owners = {cluster_of(hub, r.urn) for r in hub.resources if r.type.startswith("github:")}
    assert owners == {"prod-eu"}
    assert {r.name for r in hub.of_type("pulumi:providers:github")} == {"prod-eu-github"}


def test_cluster_is_the_one_top_level_resource_of_a_stack(staging: Recording) -> None:
    top = [
        r
        for r in staging.resources
        if not r.parent.endswith("pulumi:pulumi:Stack::d1-fleet-staging")
    ]
    assert top, "resources below the stack"
    roots = [
        r
        for r in staging.resources
        if r.parent.split("::")[-2:] == ["pulumi:pulumi:Stack", "d1-fleet-staging"]
    ]
    assert {(r.type, r.name) for r in roots} == {
        (CLUSTER, "cluster"),
        ("pulumi:providers:kubernetes", "kubernetes"),
    }
    for r in staging.resources:
        if r.custom and not r.type.startswith("pulumi:providers:"):
            assert cluster_of(staging, r.urn) == "cluster", r.urn


def test_cluster_outputs_are_the_stack_outputs(staging: Recording) -> None:
    assert set(staging.outputs) == {
        "clusterName",
        "environment",
        "fluxVersion",
        "operatorChartVersion",
        "tokenDaysLeft",
        "secretNames",
        "runtimeConfigMap",
    }
    assert staging.outputs["clusterName"] == "staging-1"
    assert staging.outputs["runtimeConfigMap"] == "flux-runtime-info"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_program_never_imports_the_tools() -> None:
    program = [*sorted((ROOT / "fleet" / "program").glob("*.py")), ROOT / "__main__.py"]
    assert len(program) > 10
    for path in program:
        tools = {m for m in _imports(path) if m == "fleet.tools" or m.startswith("fleet.tools.")}
        assert not tools, f"{path.relative_to(ROOT)} imports {sorted(tools)}"
