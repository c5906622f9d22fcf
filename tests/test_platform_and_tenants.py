"""Platform components, tenants and image automation: exact inputs, as d1-fleet declares them."""

from __future__ import annotations

import pulumi
import pytest

from fleet.program import conventions as c
from fleet.program.config import formats
from fleet.program.image_automation import AutomationArgs, ImageAutomation
from fleet.program.platform import (
    Platform,
    PlatformArgs,
    PlatformComponent,
    dependency_order,
)
from fleet.program.tenants import Tenant, TenantArgs
from fleet.tools.offline.mock import Recording, unwrap_secret
from tests.helpers import APPS_TOKEN, run_component, stack_run

KS = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
GIT = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
IUA = "kubernetes:image.toolkit.fluxcd.io/v1:ImageUpdateAutomation"
RUNTIME = {
    "ENVIRONMENT": "staging",
    "GIT_BRANCH": "main",
    "CLUSTER_NAME": "staging-1",
    "CLUSTER_DOMAIN": "preview1.example.com",
}
INFRA_LABELS = {"toolkit.fluxcd.io/tenant": "infra"}
AWAITED = {"pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": "900"}


def by_name(run: Recording, type_: str) -> dict[str, dict[str, object]]:
    return {r.inputs["metadata"]["name"]: r.inputs for r in run.of_type(type_)}


def platform(components: tuple[PlatformComponent, ...] | None = None) -> Platform:
    return Platform(
        "platform",
        PlatformArgs(
            url="https://github.com/acme/d1-infra.git",
            branch="main",
            environment="staging",
            components=components
            or (
                PlatformComponent(name="monitoring"),
                PlatformComponent(name="admission", depends_on=("monitoring",)),
            ),
        ),
    )


def test_platform_source_and_cluster_admin_account() -> None:
    run = run_component(platform)
    source = run.get(GIT, "platform-source").inputs
    assert source["metadata"] == {
        "name": "flux-infra",
        "namespace": "flux-system",
        "labels": INFRA_LABELS,
    }
    assert source["spec"] == {
        "interval": "1m",
        "ref": {"branch": "main"},
        "secretRef": {"name": "flux-system"},
        "url": "https://github.com/acme/d1-infra.git",
    }
    sa = run.get("kubernetes:core/v1:ServiceAccount", "platform-service-account").inputs
    assert sa["metadata"] == {
        "name": "flux-infra",
        "namespace": "flux-system",
        "labels": INFRA_LABELS,
    }
    crb = run.get(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "platform-cluster-role-binding",
    ).inputs
    assert crb["metadata"] == {"name": "flux-infra", "labels": INFRA_LABELS}
    assert crb["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "cluster-admin",
    }
    assert crb["subjects"] == [
        {"kind": "ServiceAccount", "name": "flux-infra", "namespace": "flux-system"}
    ]


def test_platform_kustomizations_follow_d1_chain() -> None:
    ks = by_name(run_component(platform), KS)
    assert sorted(ks) == [
        "admission-configs",
        "admission-controllers",
        "monitoring-configs",
        "monitoring-controllers",
    ]
    assert ks["monitoring-controllers"]["spec"] == {
        "serviceAccountName": "flux-infra",
        "interval": "1h",
        "retryInterval": "2m",
        "timeout": "10m",
        "wait": True,
        "path": "components/monitoring/controllers/staging",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-infra"},
    }
    assert ks["monitoring-configs"]["spec"] == {
        "serviceAccountName": "flux-infra",
        "dependsOn": [{"name": "monitoring-controllers"}],
        "interval": "1h",
        "retryInterval": "2m",
        "timeout": "5m",
        "wait": True,
        "path": "components/monitoring/configs/staging",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-infra"},
    }
    assert ks["admission-controllers"]["spec"]["dependsOn"] == [{"name": "monitoring-controllers"}]  # type: ignore[index]
    assert ks["admission-configs"]["spec"]["dependsOn"] == [{"name": "admission-controllers"}]  # type: ignore[index]
    for name, inputs in ks.items():
        assert inputs["metadata"] == {
            "name": name,
            "namespace": "flux-system",
            "labels": INFRA_LABELS,
            "annotations": AWAITED,
        }, name
        assert "postBuild" not in inputs["spec"], name  # type: ignore[operator]


@pytest.mark.parametrize(
    "entries",
    [
        ("monitoring", "admission: monitoring"),
        ("admission: monitoring", "monitoring"),
        ("c: b", "b: a", "a", "d: a, c"),
        ("d: a, c", "a", "c: b", "b: a"),
    ],
)
def test_platform_pulumi_dependencies_mirror_flux_depends_on_in_any_list_order(
    entries: tuple[str, ...],
) -> None:
    components = tuple(
        PlatformComponent(name=name, depends_on=deps)
        for name, deps in map(formats.split_component, entries)
    )
    run = run_component(lambda: platform(components))
    urns = {r.inputs["metadata"]["name"]: r.urn for r in run.of_type(KS)}
    assert len(urns) == 2 * len(components)
    for r in run.of_type(KS):
        flux = {dep["name"] for dep in r.inputs["spec"].get("dependsOn", [])}
        assert {urns[name] for name in flux} <= set(r.dependencies), r.name


def test_stack_with_reversed_components_declares_the_same_objects_and_waits_the_same(
    staging: Recording,
) -> None:
    reversed_run = stack_run(
        "staging", {"platformComponents": '["admission: monitoring", "monitoring"]'}
    )

    def waits(run: Recording) -> dict[str, set[str]]:
        kustomizations = {r.urn for r in run.of_type(KS)}
        return {r.urn: set(r.dependencies) & kustomizations for r in run.of_type(KS)}

    assert {r.urn for r in reversed_run.resources} == {r.urn for r in staging.resources}
    assert waits(reversed_run) == waits(staging)
    assert any(waits(staging).values())


def test_platform_dependency_order_puts_dependencies_first_else_keeps_config_order() -> None:
    def order(*entries: str) -> list[str]:
        components = [
            PlatformComponent(name=name, depends_on=deps)
            for name, deps in map(formats.split_component, entries)
        ]
        return [component.name for component in dependency_order(components)]

    assert order("monitoring", "admission: monitoring") == ["monitoring", "admission"]
    assert order("admission: monitoring", "monitoring") == ["monitoring", "admission"]
    assert order("x", "c: b", "b: a", "a", "y") == ["x", "a", "b", "c", "y"]
    assert order("a: b", "b: a") == ["b", "a"]  # a cycle the settings refuse still terminates
    assert order("a: elsewhere") == ["a"]


def test_platform_flux_objects_wait_for_what_they_are_given() -> None:
    def build() -> None:
        gate = pulumi.CustomResource("test:index:Gate", "gate")
        Platform(
            "platform",
            PlatformArgs(
                url="u",
                branch="main",
                environment="staging",
                components=(PlatformComponent(name="x"),),
                after=[gate],
            ),
        )

    run = run_component(build)
    gate = run.get("test:index:Gate", "gate").urn
    for r in run.resources:
        if r.type in (KS, GIT):
            assert gate in r.dependencies, r.name
    assert (
        gate
        not in run.get("kubernetes:core/v1:ServiceAccount", "platform-service-account").dependencies
    )


def tenant(namespace: str = "backend") -> Tenant:
    return Tenant(
        f"tenant-{namespace}",
        TenantArgs(
            namespace=namespace,
            url="https://github.com/acme/d1-apps.git",
            branch="main",
            environment="staging",
            apps_token=pulumi.Output.secret(APPS_TOKEN),
            runtime_data=RUNTIME,
        ),
    )


def test_tenant_namespace_account_and_namespaced_admin() -> None:
    run = run_component(tenant)
    labels = {"toolkit.fluxcd.io/tenant": "apps"}
    ns = run.get("kubernetes:core/v1:Namespace", "tenant-backend-namespace").inputs
    assert ns["metadata"] == {"name": "backend", "labels": labels}
    sa = run.get("kubernetes:core/v1:ServiceAccount", "tenant-backend-service-account").inputs
    assert sa["metadata"] == {"name": "flux-apps", "namespace": "backend", "labels": labels}
    rb = run.get(
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "tenant-backend-role-binding"
    ).inputs
    assert rb["metadata"] == {"name": "flux-apps", "namespace": "backend", "labels": labels}
    assert rb["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "admin",
    }
    assert rb["subjects"] == [
        {"kind": "ServiceAccount", "name": "flux-apps", "namespace": "backend"}
    ]
    assert not run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")


def test_tenant_gets_secret_and_runtime_copies() -> None:
    run = run_component(tenant)
    secret = run.get("kubernetes:core/v1:Secret", "tenant-backend-apps-secret").inputs
    assert secret["metadata"] == {
        "name": "flux-apps",
        "namespace": "backend",
        "labels": {"toolkit.fluxcd.io/tenant": "apps"},
    }
    data, was_secret = unwrap_secret(secret["stringData"])
    assert was_secret, "the tenant's copy of the token stays a Pulumi secret"
    assert data == {"username": "git", "password": APPS_TOKEN, "token": APPS_TOKEN}
    cm = run.get("kubernetes:core/v1:ConfigMap", "tenant-backend-runtime-info").inputs
    assert cm["metadata"] == {
        "name": "flux-runtime-info",
        "namespace": "backend",
        "labels": {"toolkit.fluxcd.io/runtime": "true"},
        "annotations": {"kustomize.toolkit.fluxcd.io/ssa": "Merge"},
    }
    assert cm["data"] == RUNTIME


def test_tenant_source_and_kustomization_match_d1() -> None:
    run = run_component(tenant)
    meta = {"namespace": "backend", "labels": {"toolkit.fluxcd.io/tenant": "apps"}}
    source = run.get(GIT, "tenant-backend-source").inputs
    assert source["metadata"] == {"name": "flux-apps", **meta}
    assert source["spec"] == {
        "interval": "1m",
        "ref": {"branch": "main"},
        "secretRef": {"name": "flux-apps"},
        "url": "https://github.com/acme/d1-apps.git",
    }
    ks = run.get(KS, "tenant-backend-kustomization").inputs
    assert ks["metadata"] == {"name": "flux-backend", **meta}
    assert ks["spec"] == {
        "serviceAccountName": "flux-apps",
        "interval": "12h",
        "retryInterval": "3m",
        "timeout": "15m",
        "wait": True,
        "path": "./components/backend/staging",
        "prune": True,
        "sourceRef": {"kind": "GitRepository", "name": "flux-apps"},
        "patches": [
            {
                "patch": "- op: add\n  path: /spec/serviceAccountName\n  value: flux-apps\n",
                "target": {"kind": "(HelmRelease|Kustomization)"},
            }
        ],
        "postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "flux-runtime-info"}]},
    }


def automation() -> ImageAutomation:
    return ImageAutomation(
        "image-automation",
        AutomationArgs(
            apps_url="https://github.com/acme/d1-apps.git",
            branch="main",
            author_name=c.BOT_AUTHOR_NAME,
            author_email=c.BOT_AUTHOR_EMAIL,
            apps_token=pulumi.Output.secret(APPS_TOKEN),
            runtime_data=RUNTIME,
        ),
    )


def test_automation_objects_match_d1_update_trees() -> None:
    run = run_component(automation)
    role = {"toolkit.fluxcd.io/role": "automation"}
    infra_meta = {
        "namespace": "flux-system",
        "labels": {"toolkit.fluxcd.io/tenant": "infra", **role},
    }
    apps_meta = {"namespace": "apps-update", "labels": {"toolkit.fluxcd.io/tenant": "apps", **role}}
    ks = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"]): r.inputs
        for r in run.of_type(KS)
    }
    assert ks[("flux-system", "flux-infra-update-policies")] == {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "flux-infra-update-policies", **infra_meta},
        "spec": {
            "serviceAccountName": "flux-infra",
            "interval": "12h",
            "retryInterval": "3m",
            "path": "./update",
            "prune": True,
            "sourceRef": {"kind": "GitRepository", "name": "flux-infra"},
        },
    }
    assert ks[("apps-update", "flux-apps")]["spec"]["serviceAccountName"] == "flux-apps"
    assert ks[("apps-update", "flux-apps")]["metadata"] == {"name": "flux-apps", **apps_meta}
    source = run.get(GIT, "image-automation-apps-source").inputs
    assert source["spec"]["interval"] == "10m"
    assert source["metadata"] == {"name": "flux-apps", **apps_meta}
    automations = {r.inputs["metadata"]["namespace"]: r.inputs for r in run.of_type(IUA)}
    assert set(automations) == {"flux-system", "apps-update"}
    for namespace, source_name in (("flux-system", "flux-infra"), ("apps-update", "flux-apps")):
        spec = automations[namespace]["spec"]
        assert spec["interval"] == "30m"
        assert spec["sourceRef"] == {"kind": "GitRepository", "name": source_name}
        assert spec["git"]["checkout"] == {"ref": {"branch": "main"}}
        assert spec["git"]["push"] == {"branch": "main"}
        assert spec["git"]["commit"]["author"] == {
            "email": "controlplaneio-fluxcd-bot@users.noreply.github.com",
            "name": "controlplaneio-fluxcd-bot",
        }
        assert spec["git"]["commit"]["messageTemplate"].startswith("Automated image update\n")
        assert spec["update"] == {"path": "./components", "strategy": "Setters"}
    ns = run.get("kubernetes:core/v1:Namespace", "image-automation-apps-namespace").inputs
    assert ns["metadata"] == {
        "name": "apps-update",
        "labels": {"toolkit.fluxcd.io/tenant": "apps", **role},
    }
    assert run.get("kubernetes:core/v1:Secret", "image-automation-apps-apps-secret")
