"""Hub mode: the example hub stack with two spokes, run under the mock runtime.

Each spoke's objects go through that spoke's provider and the hub's through the hub's; the Flux
objects reference what the controllers read; the spoke credential stays a Pulumi secret and a
renewal updates the hub's kubeconfig Secret in place.
"""

from __future__ import annotations

import base64
import functools
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet.program import spoke_plan as sp
from fleet.tools.offline import conformance, mock, render
from fleet.tools.offline.conformance import Schemas
from fleet.tools.offline.mock import Recording, Registration
from tests.engine_diff import changes, replaces
from tests.helpers import (
    GIT,
    HUB_EXAMPLE,
    TOKEN_KEYS,
    app_config,
    doc,
    hub_dir,
    hub_run,
    stack_run,
    token_config,
)

SPOKES = ("staging", "production")
SECRET = "kubernetes:core/v1:Secret"
KS = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
PROVIDER = "pulumi:providers:kubernetes"
# fluxcd/flux2-hub-spoke-example hub/staging.yaml: each step waits for the one before it.
EXAMPLE_CHAIN = {
    "tenants": None,
    "infra-controllers": "tenants",
    "infra-configs": "infra-controllers",
    "apps": "infra-configs",
}


@functools.cache
def hub() -> Recording:
    return hub_run(Path(tempfile.mkdtemp()))


def providers(run: Recording) -> dict[str, Registration]:
    """Kubernetes providers by logical name."""
    return {r.name: r for r in run.of_type(PROVIDER)}


def provider_of(run: Recording, resource: Registration) -> str:
    urn = resource.provider.rsplit("::", 1)[0]
    return next(p.name for p in run.of_type(PROVIDER) if p.urn == urn)


def k8s_objects(run: Recording, spoke: str, side: str) -> list[Registration]:
    return [
        r for r in run.kubernetes_objects() if r.name.startswith(f"cluster-spoke-{spoke}-{side}-")
    ]


def value(raw: Any) -> Any:
    return render.plain(raw)


def kubeconfig_secret(run: Recording, spoke: str) -> Registration:
    return run.get(SECRET, f"cluster-spoke-{spoke}-sync-kubeconfig")


def test_spokes_each_spokes_objects_go_through_its_own_provider() -> None:
    run = hub()
    found = providers(run)
    for spoke in SPOKES:
        provider = found[f"spoke-{spoke}-kubernetes"]
        assert value(provider.inputs["context"]) == spoke
        assert value(provider.inputs["clusterIdentifier"]) == spoke
        assert value(provider.inputs["enableSecretMutable"]) == "true"
        on_spoke = k8s_objects(run, spoke, "access")
        assert {r.inputs["kind"] for r in on_spoke} == {
            "Namespace",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "ClusterRoleBinding",
            "Secret",
        }
        for r in on_spoke:
            assert provider_of(run, r) == f"spoke-{spoke}-kubernetes", r.name
    spoke_side = {r.urn for s in SPOKES for r in k8s_objects(run, s, "access")}
    hub_side = [r for r in run.kubernetes_objects() if r.urn not in spoke_side]
    assert {r.name for s in SPOKES for r in k8s_objects(run, s, "sync")} <= {
        r.name for r in hub_side
    }
    for r in hub_side:
        assert provider_of(run, r) == "kubernetes", r.name
    assert value(found["kubernetes"].inputs["clusterIdentifier"]) == "hub"


def test_spokes_kubeconfig_secret_holds_the_key_the_controllers_read() -> None:
    """kustomize-controller reads `secretRef.name` in the Kustomization's own namespace, key
    `value` when `secretRef.key` is unset (fluxcd/pkg runtime/client/impersonator.go,
    `Impersonator.getRESTConfigFromSecret`, called with `obj.GetNamespace()` from
    kustomize-controller internal/controller/kustomization_controller.go `reconcile`);
    helm-controller the same (internal/kube/config.go `ConfigFromSecret`,
    internal/controller/helmrelease_controller.go `buildRESTClientGetter`)."""
    run = hub()
    for spoke in SPOKES:
        secret = kubeconfig_secret(run, spoke)
        meta = secret.inputs["metadata"]
        assert (meta["name"], meta["namespace"]) == (sp.KUBECONFIG_SECRET, spoke)
        assert set(value(secret.inputs["stringData"])) == {"value"}
        for ks in (r for r in run.of_type(KS) if r.name.startswith(f"cluster-spoke-{spoke}-")):
            spec = ks.inputs["spec"]
            assert ks.inputs["metadata"]["namespace"] == spoke, ks.name
            if "kubeConfig" in spec:
                assert spec["kubeConfig"] == {"secretRef": {"name": sp.KUBECONFIG_SECRET}}
                assert "key" not in spec["kubeConfig"]["secretRef"]
            else:
                # The HelmReleases it applies to the hub's namespace carry the same reference.
                (patch,) = spec["patches"]
                assert patch["target"] == {"kind": "HelmRelease"}
                ops = {op["path"]: op["value"] for op in yaml.safe_load(patch["patch"])}
                assert ops["/spec/kubeConfig"] == {"secretRef": {"name": sp.KUBECONFIG_SECRET}}
                assert spec["targetNamespace"] == spoke, ks.name


def test_spokes_kubeconfig_is_the_token_of_flux_hub_with_no_exec_plugin() -> None:
    """The controllers keep a kubeconfig's host, CA, bearer token and basic auth, and drop exec
    plugins unless run with --insecure-kubeconfig-exec (fluxcd/pkg runtime/client/kubeconfig.go,
    `KubeConfig`): the stack writes a bearer token only."""
    run = hub()
    for spoke in SPOKES:
        token_secret = run.get(SECRET, f"cluster-spoke-{spoke}-access-token")
        assert token_secret.inputs["type"] == "kubernetes.io/service-account-token"
        annotations = token_secret.inputs["metadata"]["annotations"]
        assert annotations["kubernetes.io/service-account.name"] == sp.HUB_ACCOUNT
        config = yaml.safe_load(value(kubeconfig_secret(run, spoke).inputs["stringData"])["value"])
        (cluster,) = config["clusters"]
        assert cluster["cluster"]["server"] == f"https://{spoke}.internal.example.com:6443"
        (user,) = config["users"]
        assert set(user["user"]) == {"token"}
        assert user["name"] == sp.HUB_ACCOUNT
        assert config["current-context"] == spoke
        # The mock stands in for the token controller, per Secret: the kubeconfig carries it.
        assert user["user"]["token"].startswith("token-")
        assert cluster["cluster"]["certificate-authority-data"]
        base64.b64decode(cluster["cluster"]["certificate-authority-data"])


def test_spokes_chain_and_accounts_match_the_example_and_the_impersonation() -> None:
    """kustomize-controller and helm-controller impersonate
    `system:serviceaccount:<namespace of the Flux object>:<serviceAccountName>` on the cluster
    the kubeconfig reaches (fluxcd/pkg runtime/client/impersonator.go,
    `Impersonator.setImpersonationConfig`; helm-controller internal/kube/client.go
    `WithImpersonate`), so the account must exist on the spoke in the namespace named like the
    hub's. kustomize-controller's `finalize` looks the account up on the hub first
    (`Impersonator.CanImpersonate` with the hub's client) and skips pruning without it, so the hub
    namespace holds an account of each name too. With the hub's default service account an unset
    `serviceAccountName` would impersonate `default`: every step sets one."""
    run = hub()
    for spoke in SPOKES:
        steps = {
            r.inputs["metadata"]["name"]: r.inputs["spec"]
            for r in run.of_type(KS)
            if r.name.startswith(f"cluster-spoke-{spoke}-")
        }
        assert set(steps) == set(EXAMPLE_CHAIN)
        for name, previous in EXAMPLE_CHAIN.items():
            spec = steps[name]
            assert spec.get("dependsOn") == ([{"name": previous}] if previous else None), name
            assert spec["path"] == f"./clusters/{spoke}/{name}"
            assert spec["sourceRef"] == {"kind": "GitRepository", "name": sp.SOURCE_NAME}
            assert spec["prune"] is True
        on_spoke = {
            r.inputs["metadata"]["name"]
            for r in k8s_objects(run, spoke, "access")
            if r.inputs["kind"] == "ServiceAccount"
        }
        on_hub = {
            r.inputs["metadata"]["name"]
            for r in k8s_objects(run, spoke, "sync")
            if r.inputs["kind"] == "ServiceAccount"
        }
        for name, spec in steps.items():
            account = spec["serviceAccountName"]
            assert account in on_hub, name
            if "kubeConfig" in spec:
                assert account in on_spoke, name
            else:
                ops = {o["path"]: o["value"] for o in yaml.safe_load(spec["patches"][0]["patch"])}
                assert ops["/spec/serviceAccountName"] in on_spoke, name
        assert steps["tenants"]["postBuild"] == {"substitute": {"CLUSTER_NAME": spoke}}
        source = run.get(
            "kubernetes:source.toolkit.fluxcd.io/v1:GitRepository",
            f"cluster-spoke-{spoke}-sync-source",
        )
        assert source.inputs["metadata"]["namespace"] == spoke
        assert source.inputs["spec"]["secretRef"] == {"name": sp.SOURCE_SECRET}


def test_spokes_flux_hub_may_only_impersonate_and_only_flux_cluster_admin_is_admin() -> None:
    """Impersonating `system:serviceaccount:<ns>:<name>` is authorised as verb `impersonate` on
    resource `serviceaccounts` (core group) named <name> in <ns>, and the account's groups follow
    from it (kubernetes staging/src/k8s.io/apiserver/pkg/endpoints/filters/impersonation.go,
    `WithImpersonation`): a Role in the spoke's namespace with those two names is all `flux-hub`
    needs."""
    run = hub()
    for spoke in SPOKES:
        role = run.get(
            "kubernetes:rbac.authorization.k8s.io/v1:Role",
            f"cluster-spoke-{spoke}-access-impersonate-role",
        )
        assert role.inputs["rules"] == [
            {
                "apiGroups": [""],
                "resources": ["serviceaccounts"],
                "verbs": ["impersonate"],
                "resourceNames": [sp.CLUSTER_ADMIN_ACCOUNT, sp.RESTRICTED_ACCOUNT],
            }
        ]
        bindings = [
            r
            for r in k8s_objects(run, spoke, "access")
            if r.inputs["kind"] in ("RoleBinding", "ClusterRoleBinding")
        ]
        granted = {
            (r.inputs["kind"], r.inputs["roleRef"]["name"]): [
                s["name"] for s in r.inputs["subjects"]
            ]
            for r in bindings
        }
        assert granted == {
            ("RoleBinding", f"{sp.HUB_ACCOUNT}-impersonate"): [sp.HUB_ACCOUNT],
            ("ClusterRoleBinding", "cluster-admin"): [sp.CLUSTER_ADMIN_ACCOUNT],
        }
        hub_bindings = [
            r for r in k8s_objects(run, spoke, "sync") if r.inputs["kind"].endswith("Binding")
        ]
        assert [(r.inputs["kind"], r.inputs["roleRef"]["name"]) for r in hub_bindings] == [
            ("RoleBinding", "admin")
        ]


def test_spokes_credential_is_a_pulumi_secret_end_to_end(tmp_path: Path) -> None:
    run = hub()
    tokens = []
    for spoke in SPOKES:
        secret = kubeconfig_secret(run, spoke)
        _, wrapped = mock.unwrap_secret(secret.inputs["stringData"])
        assert wrapped, "the kubeconfig reaches the Secret's inputs as a Pulumi secret"
        config = yaml.safe_load(value(secret.inputs["stringData"])["value"])
        tokens.append(config["users"][0]["user"]["token"])
    for r in run.resources:
        # Outside the secret markers no input holds a token.
        assert not any(t in str(render.mask(r.inputs)) for t in tokens), r.name
    assert not any(t in str(run.outputs) for t in tokens)
    result = render.render_stack(hub_dir(tmp_path), "hub", token_config())
    assert not any(t in text for text in result.files().values() for t in tokens)


def test_spokes_renewal_updates_the_kubeconfig_in_place_and_makes_a_new_token(
    tmp_path: Path,
) -> None:
    """A Secret is replaced when its name, namespace or type changes, and with
    enableSecretMutable also never for data or stringData (pulumi-kubernetes
    provider/pkg/provider/diff.go, `forceNewProperties`)."""
    earlier = date.today() - timedelta(days=30)
    before = hub_run(tmp_path, rotated=earlier)
    after = hub_run(tmp_path)
    changed = changes(before, after, "hub")
    hub_provider = providers(after)["kubernetes"]
    spoke_providers = providers(after)
    by_urn = {mock.engine_urn(after, r, "hub"): r for r in after.resources}
    for spoke in SPOKES:
        secret = kubeconfig_secret(after, spoke)
        urn = mock.engine_urn(after, secret, "hub")
        assert urn in changed, "the renewal changes the kubeconfig Secret's inputs"
        assert "stringData.value" in changed[urn]
        assert replaces(secret, changed[urn], hub_provider) == set(), changed[urn]
        token = after.get(SECRET, f"cluster-spoke-{spoke}-access-token")
        token_urn = mock.engine_urn(after, token, "hub")
        # A new token is a new Secret (its name carries the date); the old one goes after.
        assert replaces(
            token, changed[token_urn], spoke_providers[f"spoke-{spoke}-kubernetes"]
        ) == {"metadata.name"}
    # Nothing else is touched: no Flux object, account or binding changes.
    assert {by_urn[u].name for u in changed} == {
        f"cluster-spoke-{s}-{what}" for s in SPOKES for what in ("sync-kubeconfig", "access-token")
    }


def test_spokes_production_is_protected_and_orphans_its_workloads(tmp_path: Path) -> None:
    # Its own run, not the shared one: mutation testing ties a test to the code it runs itself,
    # and a production spoke's protection is this test's alone to check.
    run = hub_run(tmp_path)
    production = [r for r in run.resources if r.name.startswith("cluster-spoke-production-")]
    staging = [r for r in run.resources if r.name.startswith("cluster-spoke-staging-")]
    for r in production:
        if r.type == KS:
            assert r.protect, r.name
            assert r.inputs["spec"]["deletionPolicy"] == "Orphan", r.name
    for side in ("access", "sync"):
        namespace = run.get(
            "kubernetes:core/v1:Namespace", f"cluster-spoke-production-{side}-namespace"
        )
        assert namespace.protect
    spoke_namespace = run.get(
        "kubernetes:core/v1:Namespace", "cluster-spoke-production-access-namespace"
    )
    assert spoke_namespace.retain_on_delete
    for r in staging:
        assert not r.protect, r.name
        if r.type == KS:
            assert r.inputs["spec"]["deletionPolicy"] == "WaitForTermination", r.name


def test_spokes_flux_objects_are_deleted_before_what_they_reach_the_spoke_with() -> None:
    run = hub()
    for spoke in SPOKES:
        needed = {
            r.urn
            for r in run.resources
            if r.name
            in (
                f"cluster-spoke-{spoke}-sync-kubeconfig",
                f"cluster-spoke-{spoke}-access-token",
                f"cluster-spoke-{spoke}-access-cluster-admin-binding",
                f"cluster-spoke-{spoke}-access-impersonate-binding",
                f"cluster-spoke-{spoke}-sync-flux-cluster-admin",
            )
        }
        for ks in (r for r in run.of_type(KS) if r.name.startswith(f"cluster-spoke-{spoke}-")):
            assert needed <= set(ks.dependencies), ks.name


def test_spokes_removing_a_spoke_leaves_the_other_untouched(tmp_path: Path) -> None:
    both = hub()
    config = yaml.safe_load(hub_dir(tmp_path).joinpath("Pulumi.hub.yaml").read_text())["config"]
    (kept,) = [e for e in config["d1-fleet:spokes"] if e.startswith("staging:")]
    one = hub_run(tmp_path, {"spokes": f'["{kept}"]'})
    assert not [r for r in one.resources if r.name.startswith("cluster-spoke-production-")]
    changed = changes(both, one, "hub")
    assert not [u for u in changed if "spoke-staging" in u]


def test_spokes_a_cluster_stack_declares_no_spoke_and_no_extra_provider() -> None:
    run = stack_run("staging")
    assert set(providers(run)) == {"kubernetes"}
    assert not [r for r in run.resources if "spoke" in r.name]


@functools.cache
def hub_render() -> render.Render:
    return render.render_stack(hub_dir(Path(tempfile.mkdtemp())), "hub", token_config())


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas.load()


def test_spokes_every_object_of_the_hub_conforms(schemas: Schemas) -> None:
    result = hub_render()
    kinds = {o.ref.kind for o in result.objects}
    assert {
        "Kustomization",
        "GitRepository",
        "ServiceAccount",
        "Role",
        "ClusterRoleBinding",
    } <= kinds
    for o in result.objects:
        assert schemas.check_object(o.plain, o.ref.id) == [], o.ref.id
    assert conformance.check(result, schemas) == []


def test_spokes_the_readme_example_is_the_stack_file_the_tests_run() -> None:
    readme = doc("hub-and-spokes.md").split("## Hub and spokes", 1)[1]
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block == HUB_EXAMPLE.read_text()


def test_spokes_the_hub_outputs_days_left_on_each_spoke_token(tmp_path: Path) -> None:
    run = hub_run(tmp_path, rotated=date.today() - timedelta(days=10))
    assert run.outputs["spokeTokenDaysLeft"] == {"staging": 80, "production": 80}
    assert "spokeTokenDaysLeft" not in stack_run("staging").outputs


# App mode's two ways of reading the applications repository.
SECOND_APP: dict[str, str] = {}
APPS_TOKEN = {
    "githubAppsAppId": "",
    "githubAppsInstallationId": "",
    "githubAppsPrivateKey": "",
    "githubAppsKeyCreated": "",
    "appsToken": token_config()["d1-fleet:appsToken"],
    "appsTokenExpires": token_config()["d1-fleet:appsTokenExpires"],
}


@pytest.mark.parametrize("apps", [APPS_TOKEN, SECOND_APP], ids=["appsToken", "second-App"])
def test_spokes_git_repository_names_the_provider_of_the_credential_it_reads(
    tmp_path: Path, apps: dict[str, str]
) -> None:
    """source-controller reads App data from a GitRepository's secret only with `provider:
    github`, and refuses a secret holding `githubAppID` under any other provider
    (fluxcd/source-controller internal/controller/gitrepository_controller.go, `getAuthOpts`).
    A spoke reads the platform repository with the platform credential, so its provider follows
    that credential, not the applications repository's (appsToken in App mode)."""
    # An empty value unsets the key, as `app_config` does with its own.
    overrides = {k: v for k, v in {**app_config(), **apps}.items() if v}
    drop = tuple(k for k in TOKEN_KEYS if k not in overrides)
    run = stack_run("hub", overrides, drop=drop, project_dir=hub_dir(tmp_path))
    for spoke in SPOKES:
        secret = run.get(SECRET, f"cluster-spoke-{spoke}-sync-git-secret")
        assert "githubAppID" in value(secret.inputs["stringData"]), secret.name
        source = run.get(GIT, f"cluster-spoke-{spoke}-sync-source")
        assert source.inputs["spec"].get("provider") == "github", source.name


def test_spokes_a_new_token_is_waited_for_as_long_as_the_token_controller_needs() -> None:
    """pulumi-kubernetes' own Secret awaiter gives a service-account-token Secret 5 seconds to be
    filled (provider/pkg/await/awaiters.go, `untilCoreV1SecretInitialized`, `WatchUntil(...,
    5*time.Second)`); a `pulumi.com/waitFor` condition replaces the built-in awaiter and waits up
    to the create timeout, 10 minutes unless set (provider/pkg/await/await.go `Creation`,
    provider/pkg/metadata/overrides.go `ReadyCondition`: a jsonpath without a value waits for the
    field to exist). Nothing shortens that timeout."""
    run = hub()
    for spoke in SPOKES:
        token = run.get(SECRET, f"cluster-spoke-{spoke}-access-token")
        annotations = token.inputs["metadata"]["annotations"]
        assert annotations["pulumi.com/waitFor"] == "jsonpath={.data.token}", token.name
        assert "pulumi.com/timeoutSeconds" not in annotations, token.name
        assert "pulumi.com/skipAwait" not in annotations, token.name


@pytest.mark.parametrize(
    ("policy", "staging", "production"),
    [
        ("auto", "WaitForTermination", "Orphan"),
        ("Delete", "WaitForTermination", "WaitForTermination"),
        ("MirrorPrune", "WaitForTermination", "WaitForTermination"),
        ("WaitForTermination", "WaitForTermination", "WaitForTermination"),
        ("Orphan", "Orphan", "Orphan"),
    ],
)
def test_spokes_removal_lets_the_controllers_finish_before_the_credentials_go(
    tmp_path: Path, policy: str, staging: str, production: str
) -> None:
    """Pulumi deletes a spoke's Kustomizations before its kubeconfig and token (they depend on
    them) and waits for each to be gone. kustomize-controller's finalizer deletes what a
    Kustomization applied and, with WaitForTermination only, waits for it to terminate before it
    lets the Kustomization go (kustomize-controller internal/controller/kustomization_controller.go
    `finalize`, `WaitForSetTermination`). The hub-side steps applied HelmReleases, whose
    uninstall on the spoke needs the kubeconfig Secret; helm-controller skips the uninstall when
    it is gone (helm-controller internal/controller/helmrelease_controller.go
    `reconcileReleaseDeletion`), so any policy that deletes must wait."""
    run = hub_run(tmp_path, {"deletionPolicy": policy})
    for spoke, expected in (("staging", staging), ("production", production)):
        for ks in (r for r in run.of_type(KS) if r.name.startswith(f"cluster-spoke-{spoke}-")):
            assert ks.inputs["spec"]["deletionPolicy"] == expected, ks.name
            needs = {
                f"cluster-spoke-{spoke}-sync-kubeconfig",
                f"cluster-spoke-{spoke}-access-token",
            }
            assert needs <= {r.name for r in run.resources if r.urn in ks.dependencies}, ks.name


def test_spokes_each_step_applies_where_the_example_does_and_as_whom() -> None:
    """Namespaces and cluster-scoped configs apply on the spoke through `kubeConfig`; controllers
    and apps are HelmReleases the hub reconciles, patched to install on the spoke. Only the apps
    step runs as `flux-restricted`; the hub side runs as `flux`, `admin` in the spoke's namespace."""
    expected = {
        "tenants": ("spoke", "flux-cluster-admin"),
        "infra-controllers": ("hub", "flux-cluster-admin"),
        "infra-configs": ("spoke", "flux-cluster-admin"),
        "apps": ("hub", "flux-restricted"),
    }
    run = hub()
    for spoke in SPOKES:
        placed = {}
        for r in run.of_type(KS):
            if not r.name.startswith(f"cluster-spoke-{spoke}-"):
                continue
            spec = r.inputs["spec"]
            if "kubeConfig" in spec:
                assert "patches" not in spec, r.name
                placed[r.inputs["metadata"]["name"]] = ("spoke", spec["serviceAccountName"])
            else:
                assert spec["serviceAccountName"] == "flux", r.name
                ops = {o["path"]: o["value"] for o in yaml.safe_load(spec["patches"][0]["patch"])}
                assert spec["patches"][0]["target"] == {"kind": "HelmRelease"}, r.name
                placed[r.inputs["metadata"]["name"]] = ("hub", ops["/spec/serviceAccountName"])
        assert placed == expected, spoke


def test_spokes_kubeconfig_is_written_after_the_token_it_holds() -> None:
    """The kubeconfig Secret on the hub carries the spoke token the token controller writes, so
    it is created after that Secret (and deleted before it)."""
    run = hub()
    for spoke in SPOKES:
        token = run.get("kubernetes:core/v1:Secret", f"cluster-spoke-{spoke}-access-token")
        kubeconfig = run.get("kubernetes:core/v1:Secret", f"cluster-spoke-{spoke}-sync-kubeconfig")
        assert token.urn in kubeconfig.dependencies, spoke
