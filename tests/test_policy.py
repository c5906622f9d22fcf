"""The policy pack: each rule passes and violates as meant; both real stacks pass the whole pack."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, Secret
from pulumi_policy import deserialize as wire
from pulumi_policy.policy import _PolicyAnalyzerServicer

from fleet.program import spoke_plan as sp
from policy import guardrails as g
from policy.guardrails import Resource
from tests.helpers import every_feature, hub_run, stack_run
from tests.policy_helpers import resources, violations

KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
HELM_RELEASE_CR = "kubernetes:helm.toolkit.fluxcd.io/v2:HelmRelease"


def binding(kind: str, role: str, *subjects: dict[str, str]) -> tuple[str, dict[str, Any]]:
    type_ = g.CLUSTER_ROLE_BINDING if kind == "ClusterRoleBinding" else g.ROLE_BINDING
    return type_, {"roleRef": {"kind": "ClusterRole", "name": role}, "subjects": list(subjects)}


def sa(namespace: str, name: str = "flux-apps") -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def test_policy_tenant_cluster_roles_pass_platform_and_namespaced_admin() -> None:
    assert (
        g.tenant_cluster_roles(
            *binding("ClusterRoleBinding", "cluster-admin", sa("flux-system", "flux-infra"))
        )
        == []
    )
    assert g.tenant_cluster_roles(*binding("RoleBinding", "admin", sa("backend"))) == []


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            binding("ClusterRoleBinding", "cluster-admin", sa("backend")),
            "ServiceAccount backend/flux-apps",
        ),
        (
            binding("ClusterRoleBinding", "view", sa("frontend")),
            "ClusterRole 'view' through a ClusterRoleBinding",
        ),
        (
            binding("RoleBinding", "cluster-admin", sa("backend")),
            "'cluster-admin' through a RoleBinding",
        ),
        (
            binding(
                "ClusterRoleBinding",
                "edit",
                {"kind": "Group", "name": "system:serviceaccounts:backend"},
            ),
            "Group system:serviceaccounts:backend",
        ),
    ],
)
def test_policy_tenant_cluster_roles_violations(
    resource: tuple[str, dict[str, Any]], expected: str
) -> None:
    (message,) = g.tenant_cluster_roles(*resource)
    assert expected in message


def spoke_binding(label: str | None, *subjects: dict[str, str]) -> dict[str, Any]:
    _, props = binding("ClusterRoleBinding", "cluster-admin", *subjects)
    labels = {g.SPOKE_LABEL: label} if label else {}
    return {**props, "metadata": {"name": "flux-cluster-admin-x", "labels": labels}}


def test_policy_a_spokes_cluster_admin_account_is_not_a_tenant() -> None:
    """A hub binds its spoke's `flux-cluster-admin` to cluster-admin on the spoke (the tenants
    step grants cluster-admin in each namespace, and Kubernetes lets an account grant only what
    it holds): the pack passes exactly that account, in the namespace its label names."""
    admin = sa("staging", g.SPOKE_ADMIN_ACCOUNT)
    assert g.tenant_cluster_roles(g.CLUSTER_ROLE_BINDING, spoke_binding("staging", admin)) == []
    for props in (
        spoke_binding(None, admin),
        spoke_binding("production", admin),
        spoke_binding("staging", sa("staging")),
        spoke_binding("staging", sa("backend", g.SPOKE_ADMIN_ACCOUNT)),
        {**spoke_binding("staging", admin), "roleRef": {"kind": "ClusterRole", "name": "edit"}},
    ):
        assert g.tenant_cluster_roles(g.CLUSTER_ROLE_BINDING, props), props
    # Beside the spoke's account, a tenant in the same binding is still refused.
    (message,) = g.tenant_cluster_roles(
        g.CLUSTER_ROLE_BINDING, spoke_binding("staging", admin, sa("backend"))
    )
    assert "backend/flux-apps" in message
    # Not through a RoleBinding either.
    assert g.tenant_cluster_roles(g.ROLE_BINDING, spoke_binding("staging", admin))


def test_policy_the_packs_hub_names_are_the_programs() -> None:
    assert g.SPOKE_LABEL == sp.SPOKE_LABEL
    assert g.SPOKE_ADMIN_ACCOUNT == sp.CLUSTER_ADMIN_ACCOUNT
    assert g.ENVIRONMENT_LABEL == sp.ENVIRONMENT_LABEL


@pytest.mark.parametrize("type_", [KUSTOMIZATION, HELM_RELEASE_CR])
def test_policy_tenant_flux_objects_name_a_service_account(type_: str) -> None:
    tenant = {
        "metadata": {"name": "x", "namespace": "backend"},
        "spec": {"serviceAccountName": "flux-apps"},
    }
    assert g.tenant_service_accounts(type_, tenant) == []
    assert (
        g.tenant_service_accounts(
            type_, {**tenant, "metadata": {"namespace": "flux-system"}, "spec": {}}
        )
        == []
    )
    (message,) = g.tenant_service_accounts(type_, {**tenant, "spec": {"path": "./"}})
    assert message.endswith("in tenant namespace 'backend' sets no spec.serviceAccountName")
    # Unset namespace means `default`, a tenant namespace as far as the rule goes.
    assert g.tenant_service_accounts(type_, {"metadata": {"name": "x"}, "spec": {}})


def test_policy_secrets_stay_secret() -> None:
    assert g.secrets_stay_secret(g.SECRET, {"stringData": Secret({"token": "t"})}) == []
    assert g.secrets_stay_secret(g.SECRET, {"data": {"a": Secret("x"), "b": Secret("y")}}) == []
    assert g.secrets_stay_secret(g.SECRET, {"stringData": {"a": Secret("x"), "b": "plain"}}) == [
        "Secret stringData.b is not a Pulumi secret: wrap it with pulumi.Output.secret"
    ]
    assert g.secrets_stay_secret(g.SECRET, {"data": {"password": "cGxhaW4="}}) == [
        "Secret data.password is not a Pulumi secret: wrap it with pulumi.Output.secret"
    ]
    hook = {"configuration": {"url": "https://x", "secret": Secret("t")}}
    assert g.secrets_stay_secret(g.WEBHOOK, hook) == []
    assert g.secrets_stay_secret(
        g.WEBHOOK, {"configuration": {"url": "https://x", "secret": "t"}}
    ) == ["RepositoryWebhook configuration.secret is not a Pulumi secret"]


def test_policy_flux_instance_lockdown() -> None:
    locked = {"spec": {"cluster": {"multitenant": True, "networkPolicy": True}}}
    assert g.flux_lockdown(g.FLUX_INSTANCE, locked) == []
    assert g.flux_lockdown(g.FLUX_INSTANCE, {"spec": {"cluster": {"networkPolicy": True}}}) == [
        "FluxInstance spec.cluster.multitenant must be true"
    ]
    assert g.flux_lockdown(
        g.FLUX_INSTANCE, {"spec": {"cluster": {"multitenant": True, "networkPolicy": False}}}
    ) == ["FluxInstance spec.cluster.networkPolicy must be true"]


def runtime(environment: str) -> Resource:
    props = {
        "metadata": {"name": "flux-runtime-info", "namespace": "flux-system"},
        "data": {"ENVIRONMENT": environment},
    }
    return Resource(g.CONFIG_MAP, "urn:runtime", props, False)


def operator(version: str, protect: bool) -> Resource:
    return Resource(
        g.HELM_RELEASE, "urn:operator", {"chart": g.OPERATOR_CHART, "version": version}, protect
    )


def instance(protect: bool) -> Resource:
    return Resource(g.FLUX_INSTANCE, "urn:instance", {"spec": {}}, protect)


def test_policy_credentials_in_plain_text_outside_secrets() -> None:
    # pulumi-kubernetes masks Secret data itself; nothing masks a token pasted anywhere else.
    pat = "github_pat_" + "x" * 40
    config_map = {"metadata": {"name": "flux-runtime-info"}, "data": {"TOKEN": pat, "A": "b"}}
    assert g.secrets_stay_secret(g.CONFIG_MAP, config_map) == [
        "data.TOKEN holds a credential outside a Secret: keep it in a Secret, as a Pulumi secret"
    ]
    key = "-----BEGIN RSA PRIVATE KEY-----\nMII...\n-----END RSA PRIVATE KEY-----"
    spec = {"spec": {"values": [{"key": key}]}}
    assert g.secrets_stay_secret(g.FLUX_INSTANCE, spec) == [
        "spec.values[0].key holds a credential outside a Secret: keep it in a Secret, "
        "as a Pulumi secret"
    ]
    # A Pulumi secret outside a Secret still lands in plain text on the cluster.
    assert g.secrets_stay_secret(g.CONFIG_MAP, {"data": {"TOKEN": Secret(pat)}}) == [
        "data.TOKEN holds a credential outside a Secret: keep it in a Secret, as a Pulumi secret"
    ]
    assert g.secrets_stay_secret(g.CONFIG_MAP, {"data": {"CLUSTER_NAME": "prod-eu"}}) == []


def test_policy_production_needs_the_operator_and_the_instance() -> None:
    assert g.production_operator([runtime("production")]) == [
        ("", "no flux-operator Helm release: production stacks declare it"),
        ("", "no FluxInstance: production stacks declare it"),
    ]
    assert g.production_operator([runtime("staging")]) == []


def test_policy_production_operator_pinned_and_protected() -> None:
    good = [runtime("production"), operator("0.58.1", True), instance(True)]
    assert g.production_operator(good) == []
    assert g.production_operator(
        [runtime("production"), operator("0.x", True), instance(False)]
    ) == [
        ("urn:operator", "operator chart version '0.x' is not an exact version"),
        ("urn:instance", "the FluxInstance must be protected in production"),
    ]
    assert g.production_operator(
        [runtime("production"), operator("0.58.1", False), instance(True)]
    ) == [("urn:operator", "the flux-operator release must be protected in production")]
    # Staging may float and stay unprotected.
    assert (
        g.production_operator([runtime("staging"), operator("0.x", False), instance(False)]) == []
    )


def kustomization(protect: bool, **spec: Any) -> Resource:
    return Resource(
        KUSTOMIZATION, "urn:ks", {"metadata": {"namespace": "backend"}, "spec": spec}, protect
    )


def test_policy_production_flux_deletions_keep_workloads() -> None:
    prod = runtime("production")
    for keeps in (
        kustomization(True, prune=True),
        kustomization(False, prune=True, deletionPolicy="Orphan"),
        kustomization(False, prune=False),
        kustomization(False, prune=True, suspend=True),
    ):
        assert g.production_deletions([prod, keeps]) == [], keeps
    for deletes in (
        kustomization(False, prune=True),
        kustomization(False, prune=True, deletionPolicy="MirrorPrune"),
        kustomization(False, prune=False, deletionPolicy="Delete"),
        kustomization(False, prune=False, deletionPolicy="WaitForTermination"),
    ):
        ((urn, message),) = g.production_deletions([prod, deletes])
        assert urn == "urn:ks"
        assert "protect it or set deletionPolicy Orphan" in message
    release = Resource(HELM_RELEASE_CR, "urn:hr", {"spec": {}}, False)
    assert g.production_deletions([prod, release]) == [
        ("urn:hr", "HelmRelease uninstalls its release when deleted: protect it")
    ]
    assert (
        g.production_deletions([runtime("staging"), kustomization(False, prune=True), release])
        == []
    )


def spoke_kustomization(environment: str) -> Resource:
    labels = {g.SPOKE_LABEL: environment, g.ENVIRONMENT_LABEL: environment}
    props = {
        "metadata": {"namespace": environment, "labels": labels},
        "spec": {"prune": True, "deletionPolicy": "Delete"},
    }
    return Resource(KUSTOMIZATION, f"urn:{environment}", props, False)


def test_policy_a_hubs_staging_spoke_deletes_like_staging() -> None:
    """A production hub's Kustomizations for a staging spoke delete workloads on that spoke only:
    they are judged by the environment they are labelled with."""
    prod = runtime("production")
    assert g.production_deletions([prod, spoke_kustomization("staging")]) == []
    ((urn, _),) = g.production_deletions([prod, spoke_kustomization("production")])
    assert urn == "urn:production"


def analyze(type_: str, props: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One resource through pulumi-policy's own analyzer service, as the CLI would send it."""
    g.keep_secret_markers()
    servicer = _PolicyAnalyzerServicer(
        "d1-fleet-guardrails", "0.1.0", g.POLICIES, EnforcementLevel.MANDATORY
    )
    struct = struct_pb2.Struct()
    struct.update(props)
    request = proto.AnalyzeRequest(type=type_, properties=struct, urn="urn:test", name="test")
    response = servicer.Analyze(request, None)  # type: ignore[no-untyped-call]
    return [(d.policyName, d.message.splitlines()[-1]) for d in response.diagnostics]


def wire_secret(value: Any) -> dict[str, Any]:
    return {wire.SPECIAL_SIG_KEY: wire.SPECIAL_SECRET_SIG, "value": value}


def test_policy_pack_sees_secretness_through_the_analyzer_service() -> None:
    # Without keep_secret_markers the SDK unwraps secrets first and every Secret would look plain.
    assert analyze(g.SECRET, {"stringData": {"token": wire_secret("t")}}) == []
    assert analyze(g.SECRET, {"stringData": wire_secret({"token": "t"})}) == []
    assert analyze(g.SECRET, {"stringData": {"token": "t"}}) == [
        (
            "secrets-stay-secret",
            "Secret stringData.token is not a Pulumi secret: wrap it with pulumi.Output.secret",
        )
    ]
    assert analyze(
        g.FLUX_INSTANCE, {"spec": {"cluster": {"multitenant": False, "networkPolicy": True}}}
    ) == [("flux-instance-lockdown", "FluxInstance spec.cluster.multitenant must be true")]


STACK_RUNS = [
    ("staging", {}),
    ("prod-eu", {}),
    ("staging", {"receivers": "true"}),
    ("prod-eu", {"receivers": "true"}),
]
STACK_IDS = ["staging", "prod-eu", "staging-receivers", "prod-eu-receivers"]


@pytest.mark.parametrize(("stack", "overrides"), STACK_RUNS, ids=STACK_IDS)
def test_policy_real_stacks_pass_every_rule_but_the_pending_one(
    stack: str, overrides: dict[str, str]
) -> None:
    found = resources(stack_run(stack, overrides))
    assert list(violations(found, skip=("production-flux-deletions-keep-workloads",))) == []


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("staging", {}),
        ("prod-eu", {}),
        ("staging", {"receivers": "true"}),
        ("prod-eu", {"receivers": "true"}),
        ("prod-eu", every_feature()),
    ],
    ids=["staging", "prod-eu", "staging-receivers", "prod-eu-receivers", "prod-eu-every-feature"],
)
def test_policy_real_stacks_pass_the_whole_pack(stack: str, overrides: dict[str, str]) -> None:
    found = resources(stack_run(stack, overrides))
    assert len(found) > 20
    assert list(violations(found)) == []


def test_policy_the_hub_example_passes_the_whole_pack(tmp_path: Path) -> None:
    """examples/hub as `make up STACK=hub` runs it: each spoke's cluster-admin binding and the
    staging spoke's deleting chain are the hub's platform, not a tenant's or production's."""
    found = resources(hub_run(tmp_path))
    spoke_admins = [
        r
        for r in found
        if r.type == g.CLUSTER_ROLE_BINDING
        and g.reveal(r.props["roleRef"])["name"] == "cluster-admin"
        and g.reveal(r.props["metadata"])["labels"].get(g.SPOKE_LABEL)
    ]
    assert len(spoke_admins) == 2
    assert list(violations(found)) == []


def test_policy_real_stack_with_planted_defects_fails_the_pack() -> None:
    found = resources(stack_run("prod-eu"))
    baseline = {v.split(" ")[0] for v in violations(found)}
    planted = [
        dataclasses.replace(r, protect=False) if r.type in (g.HELM_RELEASE, g.FLUX_INSTANCE) else r
        for r in found
    ]
    names = {v.split(" ")[0] for v in violations(planted)}
    assert names - baseline == {"production-operator-pinned-and-protected"}
    unsecret = [
        dataclasses.replace(r, props={**r.props, "stringData": g.reveal(r.props["stringData"])})
        if r.type == g.SECRET
        else r
        for r in found
    ]
    assert {v.split(" ")[0] for v in violations(unsecret)} - baseline == {"secrets-stay-secret"}
