"""What `pulumi up` and `pulumi destroy` do to a running cluster, as far as the declarations decide it.

- Deletion order: every Flux object depends, directly or through others, on what its controller
  needs while deleting it (service account, binding, source, secret, runtime ConfigMap,
  namespace), so the engine deletes it first. The prerequisites are looked up from each object's
  own spec, not from a list kept in the test.
- Updates in place: the program run twice, before and after a routine change, keeps every URN and
  changes only the expected resources' inputs, in fields the provider updates without replacing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from fleet.tools.offline.mock import ProgramError, Recording, Registration, engine_urn
from tests.engine_diff import changes, replaces
from tests.helpers import stack_run

FLUX_GROUP_SUFFIX = "toolkit.fluxcd.io"


def closure(run: Recording, resource: Registration) -> set[str]:
    """URNs `resource` depends on, directly or transitively."""
    by_urn = {r.urn: r for r in run.resources}
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen:
            continue
        seen.add(urn)
        if urn in by_urn:
            todo.extend(by_urn[urn].dependencies)
    return seen


def objects(run: Recording) -> dict[tuple[str, str, str], Registration]:
    return {
        (
            r.inputs["kind"],
            r.inputs["metadata"].get("namespace", ""),
            r.inputs["metadata"]["name"],
        ): r
        for r in run.kubernetes_objects()
    }


def prerequisites(
    flux: Registration, index: Mapping[tuple[str, str, str], Registration]
) -> Iterator[tuple[str, Registration | None]]:
    """(what, declared object or None) for everything `flux`'s controller needs to delete it."""
    kind = flux.inputs["kind"]
    ns = flux.inputs["metadata"]["namespace"]
    spec = flux.inputs["spec"]
    yield f"Namespace/{ns}", index.get(("Namespace", "", ns))
    if "sourceRef" in spec:
        source = spec["sourceRef"]
        yield f"source {source['name']}", index.get((source["kind"], ns, source["name"]))
    if "secretRef" in spec:
        yield (
            f"secret {spec['secretRef']['name']}",
            index.get(("Secret", ns, spec["secretRef"]["name"])),
        )
    if kind == "Kustomization":
        account = spec["serviceAccountName"]
        yield f"ServiceAccount {account}", index.get(("ServiceAccount", ns, account))
        bindings = [
            r
            for (k, _, _), r in index.items()
            if k in ("RoleBinding", "ClusterRoleBinding")
            and {"kind": "ServiceAccount", "name": account, "namespace": ns}
            in r.inputs.get("subjects", [])
            and (k == "ClusterRoleBinding" or r.inputs["metadata"]["namespace"] == ns)
        ]
        yield f"binding of {account}", bindings[0] if bindings else None
        for ref in spec.get("postBuild", {}).get("substituteFrom", []):
            yield f"ConfigMap {ref['name']}", index.get((ref["kind"], ns, ref["name"]))
        for dep in spec.get("dependsOn", []):
            yield f"Kustomization {dep['name']}", index.get(("Kustomization", ns, dep["name"]))


@pytest.mark.parametrize("stack", ["staging", "prod-eu"])
def test_every_flux_object_is_deleted_before_what_its_deletion_needs(stack: str) -> None:
    run = stack_run(stack)
    index = objects(run)
    flux = [
        r
        for r in index.values()
        if r.inputs["apiVersion"].split("/")[0].endswith(FLUX_GROUP_SUFFIX)
    ]
    assert len(flux) >= 8
    for resource in flux:
        needed = closure(run, resource)
        for what, found in prerequisites(resource, index):
            assert found is not None, f"{resource.name}: {what} is not declared by the stack"
            assert found.urn in needed, f"{resource.name} does not depend on {what}"


def test_the_graph_walk_notices_a_missing_dependency() -> None:
    run = stack_run("staging")
    index = objects(run)
    tenant = run.get(KS, "cluster-tenant-backend-kustomization")
    account = index[("ServiceAccount", "backend", "flux-apps")]
    # The same object without its dependencies fails the walk.
    cut = Registration(**{**tenant.__dict__, "dependencies": ()})
    assert account.urn in closure(run, tenant)
    assert account.urn not in closure(run, cut)


KS = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"

STAGING_APPS_SECRETS = {"flux-system", "backend", "frontend", "apps-update"}
# The apps token's copies: apps-update holds image automation's push token instead.
STAGING_APPS_TOKEN_SECRETS = STAGING_APPS_SECRETS - {"apps-update"}


@pytest.mark.parametrize(
    ("overrides", "kind", "name", "namespaces", "paths"),
    [
        (
            {"appsToken": "github_pat_" + "R" * 82},
            "Secret",
            "flux-apps",
            STAGING_APPS_TOKEN_SECRETS,
            {"stringData.password", "stringData.token"},
        ),
        (
            {"runtimeInfo": '["REGION=eu-west-1"]'},
            "ConfigMap",
            "flux-runtime-info",
            STAGING_APPS_SECRETS,
            {"data.REGION"},
        ),
        (
            {"fluxVersion": "2.8.x"},
            "FluxInstance",
            "flux",
            {"flux-system"},
            {"spec.distribution.version"},
        ),
    ],
    ids=["token-rotation", "runtime-value", "flux-version-bump"],
)
def test_a_routine_change_updates_only_what_it_should_in_place(
    overrides: dict[str, str], kind: str, name: str, namespaces: set[str], paths: set[str]
) -> None:
    before, after = stack_run("staging"), stack_run("staging", overrides)
    old = {engine_urn(before, r, "staging") for r in before.resources}
    new = {engine_urn(after, r, "staging") for r in after.resources}
    assert old == new
    changed = changes(before, after, "staging")
    touched = {
        (
            r.inputs["kind"],
            r.inputs["metadata"].get("namespace", ""),
            r.inputs["metadata"]["name"],
        ): changed[engine_urn(after, r, "staging")]
        for r in after.kubernetes_objects()
        if engine_urn(after, r, "staging") in changed
    }
    assert set(touched) == {(kind, ns, name) for ns in namespaces}
    assert len(changed) == len(touched), "only Kubernetes objects change; providers never"
    (provider,) = after.of_type("pulumi:providers:kubernetes")
    for (k, ns, n), fields in touched.items():
        assert fields == paths, (k, ns, n)
        resource = next(
            r
            for r in after.kubernetes_objects()
            if r.inputs["metadata"].get("namespace") == ns
            and r.inputs["metadata"]["name"] == n
            and r.inputs["kind"] == k
        )
        assert not replaces(resource, fields, provider), (k, ns, n)


def test_a_rotation_would_replace_the_secrets_without_the_mutable_provider_flag() -> None:
    run = stack_run("staging", {"appsToken": "github_pat_" + "R" * 82})
    (provider,) = run.of_type("pulumi:providers:kubernetes")
    secret = next(r for r in run.of_type("kubernetes:core/v1:Secret"))
    immutable = Registration(**{**provider.__dict__, "inputs": {}})
    assert replaces(secret, {"stringData.password"}, immutable) == {"stringData.password"}
    assert replaces(secret, {"stringData.password"}, provider) == set()


def test_adding_a_tenant_adds_its_resources_and_changes_none_of_the_others() -> None:
    before = stack_run("staging")
    after = stack_run("staging", {"tenants": '["backend", "frontend", "payments"]'})
    old = {engine_urn(before, r, "staging") for r in before.resources}
    new = {engine_urn(after, r, "staging") for r in after.resources}
    assert old < new
    assert all("payments" in urn for urn in new - old)
    assert changes(before, after, "staging") == {}


def test_the_provider_identity_is_the_cluster_name_not_the_kubeconfig() -> None:
    laptop = stack_run("staging")
    ci = stack_run("staging", {"kubeconfig": "/runner/kubeconfig"}, drop=("kubeContext",))
    (a,) = laptop.of_type("pulumi:providers:kubernetes")
    (b,) = ci.of_type("pulumi:providers:kubernetes")
    assert a.inputs["clusterIdentifier"] == b.inputs["clusterIdentifier"] == "staging-1"
    # The provider's other inputs may differ: with a stable identifier they update it in place.
    assert a.inputs["context"] != b.inputs.get("context")


def test_upsert_is_off_unless_configured() -> None:
    (default,) = stack_run("staging").of_type("pulumi:providers:kubernetes")
    (upsert,) = stack_run(
        "staging", {"upsertExistingObjects": "true", "forceFieldOwnership": "true"}
    ).of_type("pulumi:providers:kubernetes")
    assert default.inputs["upsertExistingObjects"] == "false"
    assert upsert.inputs["upsertExistingObjects"] == "true"
    # Upsert only works through server-side apply.
    assert upsert.inputs["enableServerSideApply"] == "true"


def deletion_policies(run: Recording) -> set[str]:
    return {r.inputs["spec"].get("deletionPolicy", "<unset>") for r in run.of_type(KS)}


def test_deletion_policy_keeps_workloads_on_production_by_default() -> None:
    assert deletion_policies(stack_run("prod-eu")) == {"Orphan"}
    assert deletion_policies(stack_run("staging")) == {"Delete"}
    assert deletion_policies(stack_run("prod-eu", {"deletionPolicy": "Delete"})) == {"Delete"}
    waiting = stack_run("staging", {"deletionPolicy": "WaitForTermination"})
    assert deletion_policies(waiting) == {"WaitForTermination"}


@pytest.mark.usefixtures("older_flux_lines")
def test_wait_for_termination_needs_flux_2_6() -> None:
    with pytest.raises(
        ProgramError, match=r"deletionPolicy: WaitForTermination requires Flux 2\.6"
    ):
        stack_run("staging", {"deletionPolicy": "WaitForTermination", "fluxVersion": "2.5.x"})


def test_production_tenant_namespaces_are_retained_on_delete(
    prod_eu: Recording, staging: Recording
) -> None:
    # Removing a production tenant (after unprotecting it) forgets the namespace instead of
    # deleting it, so its workloads keep running; staging deletes it.
    def tenant_namespaces(run: Recording) -> dict[str, bool]:
        return {
            r.inputs["metadata"]["name"]: r.retain_on_delete
            for r in run.of_type("kubernetes:core/v1:Namespace")
            if r.inputs["metadata"]["name"] != "flux-system"
        }

    assert tenant_namespaces(prod_eu) == {"backend": True, "frontend": True}
    assert set(tenant_namespaces(staging).values()) == {False}


def test_field_ownership_is_forced_only_when_configured() -> None:
    default = stack_run("staging")
    forced = stack_run("staging", {"forceFieldOwnership": "true"})
    (plain,) = default.of_type("pulumi:providers:kubernetes")
    (force,) = forced.of_type("pulumi:providers:kubernetes")
    assert "enablePatchForce" not in plain.inputs
    assert force.inputs["enablePatchForce"] == "true"
    # Turning it on and off again is a provider update: same identity, same URNs everywhere.
    assert force.inputs["clusterIdentifier"] == plain.inputs["clusterIdentifier"]
    assert {engine_urn(forced, r, "staging") for r in forced.resources} == {
        engine_urn(default, r, "staging") for r in default.resources
    }
