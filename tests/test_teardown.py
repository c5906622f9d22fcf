"""What every `pulumi destroy` variant deletes on a stack, by the engine's rules.

Upstream (github.com/pulumi/pulumi): `pkg/cmd/pulumi/operations/destroy.go` (`getProtectedExcludes`,
the `--exclude-protected`, `--skip-preview` and `--ignore-protect` flags),
`pkg/resource/graph/dependency_graph.go` (`TransitiveDependenciesOf`, `DependenciesOf`),
`pkg/resource/deploy/step_generator.go` (`GenerateDeletes`, `getExcludeDependencies`),
`pkg/resource/deploy/step.go` (`DeleteStep.Apply` refuses a protected delete, in preview too),
`pkg/resource/deploy/step_executor.go` (`cancelDueToError` always continues past that refusal),
`pkg/resource/deploy/deployment_executor.go` (`performPostSteps` skips only what a refused delete
depends on) and `sdk/python/lib/pulumi/automation/_stack.py` (`Stack.destroy` passes
`--skip-preview`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from fleet.tools.ephemeral.overrides import ClusterTarget, Tokens, derive, load_base
from fleet.tools.offline.mock import Recording, Registration
from tests import teardown
from tests.helpers import (
    APPS_TOKEN,
    PLATFORM_TOKEN,
    ROOT,
    app_run,
    every_feature,
    fleet_dir,
    hub_run,
    stack_run,
)
from tests.teardown import Destroy

GUARDED = (Destroy.PREVIEWED, Destroy.SKIP_PREVIEW, Destroy.EXCLUDE_PROTECTED)


def node(
    name: str,
    *,
    parent: str = "",
    deps: tuple[str, ...] = (),
    protect: bool = False,
    custom: bool = True,
) -> Registration:
    return Registration(
        type="test:index:Thing" if custom else "test:index:Component",
        name=name,
        urn=name,
        inputs={},
        parent=parent,
        dependencies=deps,
        protect=protect,
        provider="",
        custom=custom,
    )


def names(recording: Recording, how: Destroy) -> list[str]:
    return [r.name for r in teardown.deleted(recording, how)]


def test_teardown_follows_the_engines_own_example() -> None:
    """`getProtectedExcludes`' doc example (pkg/cmd/pulumi/operations/destroy.go): A; B, C under A,
    C protected; D under C. `--exclude-protected` deletes B and D and keeps A and C."""
    graph = Recording(
        resources=[
            node("A", custom=False),
            node("B", parent="A"),
            node("C", parent="A", protect=True),
            node("D", parent="C"),
        ]
    )
    assert names(graph, Destroy.EXCLUDE_PROTECTED) == ["B", "D"]
    assert names(graph, Destroy.SKIP_PREVIEW) == ["B", "D"]
    assert names(graph, Destroy.PREVIEWED) == []
    assert names(graph, Destroy.IGNORE_PROTECT) == ["A", "B", "C", "D"]


def test_teardown_keeps_what_a_protected_resource_depends_on_and_deletes_its_dependents() -> None:
    """`TransitiveDependenciesOf` (pkg/resource/graph/dependency_graph.go) walks dependencies and
    parents, never dependents: the secret a protected object reads stays, what reads the protected
    object goes (`DeleteStep.Apply` in pkg/resource/deploy/step.go only refuses the protected one)."""
    graph = Recording(
        resources=[
            node("secret"),
            node("kustomization", deps=("secret",), protect=True),
            node("reader", deps=("kustomization",)),
            node("loner"),
        ]
    )
    for how in (Destroy.EXCLUDE_PROTECTED, Destroy.SKIP_PREVIEW):
        assert names(graph, how) == ["reader", "loner"], how


def test_exclude_protected_also_keeps_a_component_dependencys_earlier_children() -> None:
    """`getExcludeDependencies` (pkg/resource/deploy/step_generator.go) widens the excludes by
    `DependenciesOf`, which adds a component dependency's children registered before the resource;
    `--skip-preview` skips only `TransitiveDependenciesOf` the refused delete
    (`performPostSteps` in pkg/resource/deploy/deployment_executor.go)."""
    graph = Recording(
        resources=[
            node("kit", custom=False),
            node("kit-secret", parent="kit"),
            node("flux", deps=("kit",), protect=True),
        ]
    )
    assert names(graph, Destroy.EXCLUDE_PROTECTED) == []
    assert names(graph, Destroy.SKIP_PREVIEW) == ["kit-secret"]


def every_feature_prod() -> Recording:
    return stack_run("prod-eu", every_feature())


def every_feature_prod_app() -> Recording:
    # The owner in App mode keeps the bot team for staging's tokens and grants the installation.
    features = {k: v for k, v in every_feature().items() if not k.startswith("enterprise")}
    return app_run("prod-eu", {**features, "botPushAccess": "rulesetBypass"})


@pytest.mark.parametrize("run", [every_feature_prod, every_feature_prod_app], ids=["tokens", "app"])
@pytest.mark.parametrize("how", GUARDED, ids=[h.name for h in GUARDED])
def test_production_owner_loses_nothing_it_needs_under_any_destroy(run: Any, how: Destroy) -> None:
    """prod-eu, the owner stack, with every optional feature: `pulumi destroy`, `--skip-preview`
    (the Automation API's destroy) and `--exclude-protected` delete only state-only components and
    providers and the webhook receivers (Flux polls without them): rules of
    `getProtectedExcludes` (pkg/cmd/pulumi/operations/destroy.go), `cancelDueToError`
    (pkg/resource/deploy/step_executor.go) and `performPostSteps`
    (pkg/resource/deploy/deployment_executor.go)."""
    recording = run()
    assert {r.type for r in recording.resources} >= {
        "github:index/team:Team",
        "kubernetes:image.toolkit.fluxcd.io/v1:ImageUpdateAutomation",
        "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver",
    }
    assert teardown.harmful(recording, how) == []


def test_production_destroy_without_protection_would_strip_the_fleet() -> None:
    """The same computation on the same stack with one protection dropped: the runtime ConfigMap
    every Kustomization substitutes from and the bot's team membership are deleted by `--skip-preview`, which is
    what the test above guards against (`cancelDueToError`, pkg/resource/deploy/step_executor.go)."""
    recording = every_feature_prod()
    loose = {"cluster-runtime-info-configmap", "cluster-github-access-membership"}
    weakened = Recording(
        resources=[
            dataclasses.replace(r, protect=False) if r.name in loose else r
            for r in recording.resources
        ]
    )
    assert set(teardown.harmful(weakened, Destroy.SKIP_PREVIEW)) >= loose


def test_ignore_protect_is_the_explicit_override() -> None:
    """`--ignore-protect` (pkg/cmd/pulumi/operations/destroy.go; `DeleteStep.Apply` skips the check
    with `IgnoreProtect`) deletes everything: documented like `pulumi state unprotect`."""
    recording = every_feature_prod()
    assert len(teardown.deleted(recording, Destroy.IGNORE_PROTECT)) == len(recording.resources)


def test_owner_stack_keeps_the_fleets_github_access_on_staging_too(tmp_path: Path) -> None:
    """The GitHub access serves every cluster: protected on its owner stack whatever the
    environment, so a staging owner's `destroy --skip-preview` leaves it (`cancelDueToError`,
    pkg/resource/deploy/step_executor.go)."""
    prod = (ROOT / "Pulumi.prod-eu.yaml").read_text()
    staging = (ROOT / "Pulumi.staging.yaml").read_text()
    project = fleet_dir(
        tmp_path,
        {
            "prod-eu": prod.replace("githubAccessOwner: true", "githubAccessOwner: false"),
            "staging": staging
            + "  d1-fleet:githubAccessOwner: true\n"
            + "  d1-fleet:botUsername: controlplaneio-fluxcd-bot\n",
        },
    )
    recording = stack_run("staging", project_dir=project)
    github = [r for r in recording.resources if r.type.startswith("github:")]
    assert github
    assert all(r.protect for r in github)
    for how in (Destroy.SKIP_PREVIEW, Destroy.EXCLUDE_PROTECTED):
        gone = teardown.deleted(recording, how)
        assert not [r.name for r in gone if r.type.startswith("github:")], how
    # Its cluster objects stay unprotected: staging's `destroy` tears its own cluster down.
    assert not [r.name for r in recording.resources if r.protect and r.custom and r not in github]


def as_config(plain: dict[str, Any]) -> dict[str, str]:
    """An ephemeral stack's config as the CLI hands it to the program (structured values as JSON)."""
    import json  # noqa: PLC0415

    return {
        k: (json.dumps(v) if isinstance(v, list | dict) else str(v).lower())
        if not isinstance(v, str)
        else v
        for k, v in plain.items()
    }


@pytest.mark.parametrize("owner", [False, True], ids=["base", "owner-base"])
def test_ephemeral_copies_destroy_completely(owner: bool) -> None:
    """A copy of the staging base (made the owner or not) with every feature has nothing
    protected, so the Automation API's destroy (`--skip-preview`, sdk/python/lib/pulumi/automation/
    _stack.py `Stack.destroy`) deletes everything (`DeleteStep.Apply`, pkg/resource/deploy/step.go)."""
    base = load_base(ROOT, "staging")
    if owner:
        base = {**base, "d1-fleet:githubAccessOwner": True, "d1-fleet:botUsername": "bot"}
    copy = derive(
        {**base, **{f"d1-fleet:{k}": v for k, v in every_feature().items()}},
        stack_name="eph-19-1-0",
        target=ClusterTarget(context="kind-a"),
        tokens=Tokens(
            secret={"platformToken": PLATFORM_TOKEN, "appsToken": APPS_TOKEN},
            plain={"platformTokenExpires": "2099-01-31", "appsTokenExpires": "2099-01-31"},
        ),
    )
    recording = stack_run("staging", as_config(dict(copy.plain)))
    assert recording.outputs["clusterName"] == "eph-19-1-0"
    assert not [r.name for r in recording.resources if r.protect]
    assert len(teardown.deleted(recording, Destroy.SKIP_PREVIEW)) == len(recording.resources)


def test_production_protects_each_object_the_fleet_cannot_lose() -> None:
    """Every feature on: each object whose loss takes Flux, a workload or the fleet's GitHub access
    down is protected itself, so no destroy variant and no `up` deletes it without
    `pulumi state unprotect` (`DeleteStep.Apply`, pulumi pkg/resource/deploy/step.go)."""
    recording = every_feature_prod()
    must = (
        "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
        "kubernetes:image.toolkit.fluxcd.io/v1:ImageUpdateAutomation",
        "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
        "kubernetes:helm.sh/v3:Release",
        "kubernetes:core/v1:Namespace",
        "github:index/team:Team",
        "github:index/teamMembership:TeamMembership",
        "github:index/teamRepository:TeamRepository",
        "github:index/branchProtection:BranchProtection",
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    )
    loose = [r.name for r in recording.resources if r.type in must and not r.protect]
    assert loose == []
    assert {r.name for r in recording.resources if r.type.endswith("/v1:Kustomization")} >= {
        "cluster-image-automation-infra-policies",
        "cluster-image-automation-apps-policies",
    }
    secrets = {
        r.inputs["metadata"]["name"]: r.protect
        for r in recording.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"].get("namespace") == "flux-system" and "receivers" not in r.name
    }
    assert secrets == {"flux-system": True, "flux-apps": True, "flux-enterprise-auth": True}
    (runtime,) = [r for r in recording.resources if r.name == "cluster-runtime-info-configmap"]
    assert runtime.protect


def test_owner_app_grants_are_protected() -> None:
    """In App mode the owner grants the installation its repositories: those grants serve every
    App-mode cluster and are protected like the team (`DeleteStep.Apply`)."""
    grants = every_feature_prod_app().of_type(
        "github:index/appInstallationRepository:AppInstallationRepository"
    )
    assert grants
    assert all(g.protect for g in grants)


def test_owner_teardown_excluding_its_github_objects_leaves_them_and_deletes_the_cluster() -> None:
    """The README's owner recipe: after `pulumi state unprotect --all`, `pulumi destroy --exclude`
    with each `github:` URN keeps those and what they depend on (`getExcludeDependencies`,
    pkg/resource/deploy/step_generator.go) and deletes every cluster object, the App-mode Secrets
    that depend on the grants included."""
    for recording in (every_feature_prod(), every_feature_prod_app()):
        github = [r for r in recording.resources if r.type.startswith("github:index/")]
        webhooks = {r.urn for r in github if r.type.endswith("RepositoryWebhook")}
        kept_objects = [r.urn for r in github if r.urn not in webhooks]
        gone = teardown.deleted_excluding(recording, kept_objects)
        assert not [r.name for r in gone if r.urn in kept_objects]
        assert {r.urn for r in recording.kubernetes_objects()} <= {r.urn for r in gone}


@pytest.mark.parametrize("how", GUARDED, ids=[h.name for h in GUARDED])
def test_production_hub_loses_nothing_of_a_production_spoke(tmp_path: Path, how: Destroy) -> None:
    """The example hub (production) with a staging and a production spoke: what any guarded
    destroy deletes belongs to the staging spoke alone, as a staging cluster's objects do
    (the same engine rules as above: `getProtectedExcludes`, `cancelDueToError`)."""
    recording = hub_run(tmp_path)
    gone = teardown.harmful(recording, how)
    assert [name for name in gone if not name.startswith("cluster-spoke-staging-")] == []
    assert any(r.name.startswith("cluster-spoke-production-") for r in recording.resources)
