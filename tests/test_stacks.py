"""The real `__main__.py` with the real stack files: inventory, differences, ordering, protection."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from fleet.tools.offline import mock
from fleet.tools.offline.mock import Recording
from tests.helpers import APPS_PUSH_TOKEN, APPS_TOKEN, PLATFORM_TOKEN, ROOT, RunStack, stack_run

INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"


def names(run: Recording, type_: str) -> list[str]:
    return sorted(r.inputs["metadata"]["name"] for r in run.of_type(type_))


def test_stack_bootstrap_inventory(staging: Recording, prod_eu: Recording) -> None:
    for run in (staging, prod_eu):
        assert names(run, "kubernetes:core/v1:Secret").count("flux-system") == 1
        assert "flux-apps" in names(run, "kubernetes:core/v1:Secret")
        assert len(run.of_type(RELEASE)) == 1
        assert names(run, INSTANCE) == ["flux"]
        assert "flux-system" in names(run, NAMESPACE)
        assert run.of_type("pulumi:providers:kubernetes")[0].name == "kubernetes"
    github = Counter(r.type for r in prod_eu.resources if r.type.startswith("github:"))
    assert github == {
        "github:index/team:Team": 1,
        "github:index/teamMembership:TeamMembership": 1,
        "github:index/teamRepository:TeamRepository": 2,
        "github:index/branchProtection:BranchProtection": 2,
    }


def test_stack_outputs(staging: Recording, prod_eu: Recording) -> None:
    assert staging.outputs["clusterName"] == "staging-1"
    assert staging.outputs["environment"] == "staging"
    assert prod_eu.outputs["clusterName"] == "prod-eu"
    assert prod_eu.outputs["environment"] == "production"
    for run in (staging, prod_eu):
        assert run.outputs["fluxVersion"] == "2.7.x"
        assert run.outputs["operatorChartVersion"] == "0.58.1"
        # staging runs image automation, which pushes with its own token.
        push = {"appsPush": 120} if run is staging else {}
        assert run.outputs["tokenDaysLeft"] == {"platform": 120, "apps": 120, **push}
        assert run.outputs["secretNames"] == ["flux-system", "flux-apps"]
        assert run.outputs["runtimeConfigMap"] == "flux-runtime-info"
        assert not run.secret_outputs


def test_stack_runtime_values_follow_d1(staging: Recording, prod_eu: Recording) -> None:
    def data(run: Recording) -> dict[str, str]:
        (cm,) = [
            r
            for r in run.of_type("kubernetes:core/v1:ConfigMap")
            if r.inputs["metadata"] == {**r.inputs["metadata"], "namespace": "flux-system"}
        ]
        return dict(cm.inputs["data"])

    assert data(staging) == {
        "ENVIRONMENT": "staging",
        "GIT_BRANCH": "main",
        "CLUSTER_NAME": "staging-1",
        "CLUSTER_DOMAIN": "preview1.example.com",
    }
    assert data(prod_eu) == {
        "ENVIRONMENT": "production",
        "GIT_BRANCH": "production",
        "CLUSTER_NAME": "prod-eu",
        "CLUSTER_DOMAIN": "eu.example.com",
    }


def test_image_automation_controllers_only_on_staging(
    staging: Recording, prod_eu: Recording
) -> None:
    def components(run: Recording) -> list[str]:
        return list(run.get(INSTANCE, "cluster-flux-instance").inputs["spec"]["components"])

    image = {"image-reflector-controller", "image-automation-controller"}
    assert image <= set(components(staging))
    assert not image & set(components(prod_eu))
    assert set(components(staging)) - set(components(prod_eu)) == image


def test_instance_depends_on_operator_release(staging: Recording) -> None:
    instance = staging.get(INSTANCE, "cluster-flux-instance")
    release = staging.get(RELEASE, "cluster-flux-operator-release")
    assert release.urn in instance.dependencies
    secrets = [
        r.urn
        for r in staging.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["namespace"] == "flux-system"
    ]
    assert set(secrets) <= set(release.dependencies), "secrets exist before the operator starts"


# What production protects: what takes Flux down (its namespace, credentials, operator, instance,
# the runtime values every Kustomization substitutes), what deletes workloads when deleted (every
# Kustomization, pruning; every tenant namespace, with everything in it) and the tenants' guardrails.
PRODUCTION_PROTECTED = {
    "cluster-flux-system-namespace",
    "cluster-credentials-platform",
    "cluster-credentials-apps",
    "cluster-runtime-info-configmap",
    "cluster-tenant-guardrails-oci-sources",
    "cluster-tenant-guardrails-oci-sources-binding",
    "cluster-tenant-guardrails-stack-copies",
    "cluster-tenant-guardrails-stack-copies-binding",
    "cluster-flux-operator-release",
    "cluster-flux-instance",
    "cluster-platform-monitoring-controllers",
    "cluster-platform-monitoring-configs",
    "cluster-platform-admission-controllers",
    "cluster-platform-admission-configs",
    "cluster-tenant-backend-namespace",
    "cluster-tenant-backend-kustomization",
    "cluster-tenant-frontend-namespace",
    "cluster-tenant-frontend-kustomization",
}
# The owner stack's GitHub objects: the bot's access to the repositories of every cluster.
OWNER_PROTECTED = {
    "cluster-github-access-team",
    "cluster-github-access-membership",
    "cluster-github-access-d1-infra",
    "cluster-github-access-d1-apps",
    "cluster-github-access-d1-infra-protection",
    "cluster-github-access-d1-apps-protection",
}


def test_production_protects_flux_and_what_deletes_workloads(
    staging: Recording, prod_eu: Recording
) -> None:
    assert {r.name for r in prod_eu.resources if r.protect and r.custom} == (
        PRODUCTION_PROTECTED | OWNER_PROTECTED
    )
    assert not [r.name for r in staging.resources if r.protect]


def test_every_kubernetes_resource_uses_the_stack_provider(
    staging: Recording, prod_eu: Recording
) -> None:
    for run in (staging, prod_eu):
        (provider,) = run.of_type("pulumi:providers:kubernetes")
        for r in run.resources:
            if r.custom and r.type.startswith("kubernetes:"):
                assert r.provider.startswith(provider.urn + "::"), r.name


def test_kube_provider_targets_the_configured_context(
    staging: Recording, prod_eu: Recording, run_stack: RunStack
) -> None:
    assert staging.get("pulumi:providers:kubernetes", "kubernetes").inputs["context"] == "staging"
    assert prod_eu.get("pulumi:providers:kubernetes", "kubernetes").inputs["context"] == "prod-eu"
    run = run_stack("staging", {"kubeconfig": "/etc/kind/staging.yaml"}, drop=("kubeContext",))
    inputs = run.get("pulumi:providers:kubernetes", "kubernetes").inputs
    assert inputs["kubeconfig"] == "/etc/kind/staging.yaml"
    assert "context" not in inputs


def test_tokens_stay_secret_in_every_input(staging: Recording) -> None:
    def plain_leaks(value: object) -> bool:
        if isinstance(value, dict):
            if mock.unwrap_secret(value)[1]:
                return False
            return any(plain_leaks(v) for v in value.values())
        if isinstance(value, list):
            return any(plain_leaks(v) for v in value)
        return value in (PLATFORM_TOKEN, APPS_TOKEN)

    carriers = [r.name for r in staging.resources if "stringData" in r.inputs]
    assert carriers, "expected secrets carrying the tokens"
    assert not [r.name for r in staging.resources if plain_leaks(r.inputs)]


def test_adding_a_cluster_is_adding_a_stack_file(tmp_path: Path) -> None:
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "Pulumi.prod-us.yaml").write_text(
        "config:\n"
        "  d1-fleet:environment: production\n"
        "  d1-fleet:clusterName: prod-us\n"
        "  d1-fleet:clusterDomain: us.example.com\n"
        "  d1-fleet:gitBranch: production\n"
        "  d1-fleet:kubeContext: prod-us\n"
        "  d1-fleet:githubOwner: controlplaneio-fluxcd\n"
        "  d1-fleet:operatorChartVersion: 0.58.1\n"
    )
    run = stack_run("prod-us", project_dir=tmp_path)
    assert run.outputs["clusterName"] == "prod-us"
    assert run.get("pulumi:providers:kubernetes", "kubernetes").inputs["context"] == "prod-us"
    assert {r.name for r in run.resources if r.protect and r.custom} == PRODUCTION_PROTECTED
    assert not [r for r in run.resources if r.type.startswith("github:")]


@pytest.mark.parametrize(
    ("overrides", "drop", "key"),
    [
        ({"environment": "qa"}, (), "environment"),
        ({}, ("clusterName",), "clusterName"),
        ({"operatorChartVersion": "latest"}, (), "operatorChartVersion"),
        ({"fluxVersion": "~2.7"}, (), "fluxVersion"),
        ({"clusterName": "Prod_EU"}, (), "clusterName"),
        ({"fluxComponents": '["source-controller", "flux-ui"]'}, (), "fluxComponents"),
        ({"platformToken": "password123"}, (), "platformToken"),
        ({"appsTokenExpires": "someday"}, (), "appsTokenExpires"),
        ({}, ("kubeContext",), "kubeContext"),
    ],
)
def test_bad_config_fails_before_anything_is_registered(
    run_stack: RunStack, overrides: dict[str, str], drop: tuple[str, ...], key: str
) -> None:
    with pytest.raises(mock.ProgramError) as caught:
        run_stack("prod-eu", overrides, drop)
    assert f"d1-fleet:{key}" in str(caught.value)
    assert "password123" not in str(caught.value)
    assert caught.value.recording.resources == []


def test_token_expiring_inside_the_window_warns(run_stack: RunStack) -> None:
    soon = (date.today() + timedelta(days=10)).isoformat()
    run = run_stack("staging", {"appsTokenExpires": soon})
    assert run.outputs["tokenDaysLeft"] == {"platform": 120, "apps": 10, "appsPush": 120}
    assert [w for w in run.warnings if "appsToken" in w and "10 day(s)" in w]
    assert not [w for w in run.warnings if "platformToken" in w]


def test_token_outside_the_window_does_not_warn(staging: Recording, run_stack: RunStack) -> None:
    assert not [w for w in staging.warnings if "token" in w]
    later = (date.today() + timedelta(days=15)).isoformat()
    assert not [
        w for w in run_stack("staging", {"appsTokenExpires": later}).warnings if "expires" in w
    ]
    wide = run_stack("staging", {"appsTokenExpires": later, "tokenWarningDays": "30"})
    assert [w for w in wide.warnings if "appsToken" in w]


def test_expired_token_fails_with_a_clear_message(run_stack: RunStack) -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    with pytest.raises(mock.ProgramError) as caught:
        run_stack("staging", {"platformTokenExpires": yesterday})
    message = str(caught.value)
    assert f"d1-fleet:platformToken: the platform token expired on {yesterday}" in message
    assert caught.value.recording.resources == []


KS = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
GIT = "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository"
IUA = "kubernetes:image.toolkit.fluxcd.io/v1:ImageUpdateAutomation"


def objects(run: Recording) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of every Kubernetes object the stack declares."""
    return {
        (r.inputs["kind"], r.inputs["metadata"].get("namespace", ""), r.inputs["metadata"]["name"])
        for r in run.kubernetes_objects()
    }


def tenant_objects(namespace: str) -> set[tuple[str, str, str]]:
    return {
        ("Namespace", "", namespace),
        ("ServiceAccount", namespace, "flux-apps"),
        ("RoleBinding", namespace, "flux-apps"),
        ("Secret", namespace, "flux-apps"),
        ("ConfigMap", namespace, "flux-runtime-info"),
        ("GitRepository", namespace, "flux-apps"),
        ("Kustomization", namespace, f"flux-{namespace}"),
    }


def component_objects(name: str) -> set[tuple[str, str, str]]:
    return {
        ("Kustomization", "flux-system", f"{name}-controllers"),
        ("Kustomization", "flux-system", f"{name}-configs"),
    }


BOOTSTRAP = {
    ("Namespace", "", "flux-system"),
    ("Secret", "flux-system", "flux-system"),
    ("Secret", "flux-system", "flux-apps"),
    ("ConfigMap", "flux-system", "flux-runtime-info"),
    ("FluxInstance", "flux-system", "flux"),
    ("GitRepository", "flux-system", "flux-infra"),
    ("ServiceAccount", "flux-system", "flux-infra"),
    ("ClusterRoleBinding", "", "flux-infra"),
}
GUARDRAILS = {
    (kind, "", name)
    for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
    for name in ("flux-apps-oci-helm-repositories", "flux-apps-stack-owned-copies")
}
AUTOMATION = {
    ("Kustomization", "flux-system", "flux-infra-update-policies"),
    ("ImageUpdateAutomation", "flux-system", "flux-infra"),
    *{
        (k, "apps-update" if ns else "", n)
        for k, ns, n in tenant_objects("apps-update")
        if k != "Kustomization"
    },
    ("Kustomization", "apps-update", "flux-apps"),
    ("ImageUpdateAutomation", "apps-update", "flux-apps"),
}


def test_stack_full_inventory_of_kubernetes_objects(staging: Recording, prod_eu: Recording) -> None:
    platform = component_objects("monitoring") | component_objects("admission")
    tenants = tenant_objects("backend") | tenant_objects("frontend")
    assert objects(prod_eu) == BOOTSTRAP | platform | tenants | GUARDRAILS
    assert objects(staging) == BOOTSTRAP | platform | tenants | GUARDRAILS | AUTOMATION


def test_production_declares_no_automation_objects(prod_eu: Recording) -> None:
    assert not prod_eu.of_type(IUA)
    labelled = [
        r.name
        for r in prod_eu.kubernetes_objects()
        if r.inputs["metadata"].get("labels", {}).get("toolkit.fluxcd.io/role") == "automation"
    ]
    assert labelled == []


def test_every_tenant_namespace_has_its_secret_and_runtime_copies(staging: Recording) -> None:
    tenant_namespaces = {
        r.inputs["metadata"]["name"]
        for r in staging.of_type(NAMESPACE)
        if r.inputs["metadata"].get("labels", {}).get("toolkit.fluxcd.io/tenant") == "apps"
    }
    assert tenant_namespaces == {"backend", "frontend", "apps-update"}
    found = objects(staging)
    for namespace in tenant_namespaces:
        assert ("Secret", namespace, "flux-apps") in found, namespace
        assert ("ConfigMap", namespace, "flux-runtime-info") in found, namespace


def test_every_copy_of_a_token_is_secret(staging: Recording) -> None:
    secrets = staging.of_type("kubernetes:core/v1:Secret")
    assert len(secrets) == 5
    for secret in secrets:
        data, was_secret = mock.unwrap_secret(secret.inputs["stringData"])
        assert was_secret, secret.name
        assert data["password"] in (PLATFORM_TOKEN, APPS_TOKEN, APPS_PUSH_TOKEN), secret.name


def test_flux_objects_wait_for_the_flux_instance(staging: Recording) -> None:
    instance = staging.get(INSTANCE, "cluster-flux-instance").urn
    for r in staging.kubernetes_objects():
        if r.inputs["apiVersion"].split("/")[0].endswith("toolkit.fluxcd.io"):
            assert instance in r.dependencies, r.name


def test_tenants_depend_on_nothing_of_the_platform(run_stack: RunStack) -> None:
    # The cost of a tenant stays constant however many platform components there are.
    components = ["monitoring", "admission: monitoring", "ingress", "storage: ingress"]
    run = run_stack(
        "staging", {"platformComponents": json.dumps(components), "tenants": '["a", "b", "c"]'}
    )
    platform = {r.urn for r in run.resources if r.name.startswith("cluster-platform")}
    assert len(platform) == 1 + 3 + 2 * len(components)  # the component and its children
    for r in run.resources:
        if r.name.startswith("cluster-tenant-"):
            assert not platform & set(r.dependencies), r.name


def test_values_known_to_the_stack_are_written_in(staging: Recording, prod_eu: Recording) -> None:
    for run, branch, env in ((staging, "main", "staging"), (prod_eu, "production", "production")):
        for r in run.of_type(GIT):
            assert r.inputs["spec"]["ref"] == {"branch": branch}, r.name
        for r in run.of_type(KS):
            assert "${" not in r.inputs["spec"]["path"], r.name
        assert (
            run.get(KS, "cluster-tenant-backend-kustomization").inputs["spec"]["path"]
            == f"./components/backend/{env}"
        )


def test_adding_and_removing_a_tenant_changes_exactly_its_objects(
    prod_eu: Recording, run_stack: RunStack
) -> None:
    added = run_stack("prod-eu", {"tenants": '["backend", "frontend", "payments"]'})
    assert objects(added) - objects(prod_eu) == tenant_objects("payments")
    assert objects(prod_eu) <= objects(added)
    removed = run_stack("prod-eu", {"tenants": '["backend"]'})
    assert objects(prod_eu) - objects(removed) == tenant_objects("frontend")
    assert objects(removed) <= objects(prod_eu)


def test_adding_and_removing_a_component_changes_exactly_its_objects(
    prod_eu: Recording, run_stack: RunStack
) -> None:
    added = run_stack(
        "prod-eu",
        {"platformComponents": '["monitoring", "admission: monitoring", "ingress: admission"]'},
    )
    assert objects(added) - objects(prod_eu) == component_objects("ingress")
    ingress = added.get(KS, "cluster-platform-ingress-controllers")
    assert ingress.inputs["spec"]["dependsOn"] == [{"name": "admission-controllers"}]
    removed = run_stack("prod-eu", {"platformComponents": '["monitoring"]'})
    assert objects(prod_eu) - objects(removed) == component_objects("admission")


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"tenants": '["backend", "backend"]'}, "tenants"),
        ({"tenants": '["kube-system"]'}, "tenants"),
        ({"tenants": '["Backend"]'}, "tenants[0]"),
        ({"platformComponents": '["admission: monitoring"]'}, "platformComponents"),
        ({"platformComponents": '["a: b", "b: a"]'}, "platformComponents"),
    ],
)
def test_bad_tenants_and_components_register_nothing(
    run_stack: RunStack, overrides: dict[str, str], key: str
) -> None:
    with pytest.raises(mock.ProgramError) as caught:
        run_stack("staging", overrides)
    assert f"d1-fleet:{key}:" in str(caught.value)
    assert caught.value.recording.resources == []
