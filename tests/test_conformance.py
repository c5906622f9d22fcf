"""Both stacks' objects conform to Kubernetes' and Flux's own schemas; planted defects are caught."""

from __future__ import annotations

import copy
import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from kubernetes_validate import utils as k8s_validate

from fleet import cli
from fleet.tools.offline import cel_rules, conformance, crd_schemas, mock, render
from fleet.tools.offline.conformance import Problem, Schemas
from tests.helpers import ROOT, stack_run, token_config

STACKS = ("staging", "prod-eu")
OPERATOR_CHART = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator"


@functools.cache
def rendered(stack: str) -> render.Render:
    """One render per stack per session: collection names each object after it."""
    return render.render_stack(Path(__file__).resolve().parent.parent, stack, token_config())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "stack_object" in metafunc.fixturenames:
        params = [(s, o.ref.id) for s in STACKS for o in rendered(s).objects]
        metafunc.parametrize("stack_object", params, ids=[f"{s}:{i}" for s, i in params])


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    # Raises SchemasMissingError (saying where to get them) when the folder is absent: never skips.
    return Schemas.load()


def obj(stack: str, object_id: str) -> dict[str, Any]:
    found = [o for o in rendered(stack).objects if o.ref.id == object_id]
    assert len(found) == 1, object_id
    return copy.deepcopy(found[0].plain)


def messages(problems: list[Problem]) -> str:
    return "\n".join(map(str, problems))


def test_conformance_object_passes(stack_object: tuple[str, str], schemas: Schemas) -> None:
    stack, object_id = stack_object
    version = conformance.flux_version(rendered(stack))
    assert version is not None
    line = schemas.for_flux(version)
    assert messages(line.check_object(obj(stack, object_id), object_id)) == ""


@pytest.mark.parametrize("stack", STACKS)
def test_conformance_stack_passes_whole(stack: str, schemas: Schemas) -> None:
    result = rendered(stack)
    kinds = {o.ref.kind for o in result.objects}
    # Both validators are exercised: core kinds and Flux custom resources.
    assert {"Namespace", "Secret", "ConfigMap", "FluxInstance"} <= kinds
    assert len(result.releases) == 1
    assert messages(conformance.check(result, schemas)) == ""


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


def _rename(path: str, new: str) -> Callable[[dict[str, Any]], None]:
    def mutate(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = manifest
        for key in parents:
            node = node[key]
        node[new] = node.pop(last)

    return mutate


INSTANCE = "FluxInstance/flux-system/flux"
APPS_SECRET = "Secret/flux-system/flux-apps"
RUNTIME = "ConfigMap/flux-system/flux-runtime-info"

DEFECTS = [
    # Core kinds, through kubernetes-validate's strict schemas.
    (
        "core misspelled field",
        APPS_SECRET,
        _rename("stringData", "stringdata"),
        "'stringdata' was unexpected",
    ),
    ("core wrong type", RUNTIME, _set("data.CLUSTER_NAME", 7), "7 is not of type 'string'"),
    ("core enum", APPS_SECRET, _set("kind", "secret"), "'secret' is not one of ['Secret']"),
    (
        "core unknown apiVersion",
        APPS_SECRET,
        _set("apiVersion", "v2"),
        "v2 Secret is neither a Kubernetes",
    ),
    (
        "core misspelled metadata field",
        RUNTIME,
        _rename("metadata.labels", "label"),
        "'label' was unexpected",
    ),
    # Flux Operator custom resource, through the CRD's openAPIV3Schema.
    ("CR misspelled field", INSTANCE, _rename("spec.components", "componets"), "'componets'"),
    (
        "CR wrong type",
        INSTANCE,
        _set("spec.cluster.multitenant", "yes"),
        "is not of type 'boolean'",
    ),
    ("CR missing required", INSTANCE, _drop("spec.distribution"), "'distribution' is a required"),
    ("CR enum", INSTANCE, _set("spec.cluster.type", "eks"), "'eks' is not one of"),
    (
        "CR unknown apiVersion",
        INSTANCE,
        _set("apiVersion", "fluxcd.controlplane.io/v2"),
        "not served by the FluxInstance CRD",
    ),
    (
        "CR nested required",
        INSTANCE,
        _drop("spec.distribution.registry"),
        "'registry' is a required",
    ),
    (
        "CR misspelled metadata",
        INSTANCE,
        _rename("metadata.annotations", "annotation"),
        "'annotation'",
    ),
    ("CR bad name", INSTANCE, _set("metadata.name", "Flux_1"), "not a DNS-1123 subdomain"),
    ("CR no namespace", INSTANCE, _drop("metadata.namespace"), "namespaced"),
    (
        "CR bad label",
        INSTANCE,
        _set("metadata.labels", {"app": "a b"}),
        "invalid label value 'a b'",
    ),
    (
        "CR CEL rule",
        INSTANCE,
        _set("metadata.name", "flux2"),
        "only accepted name for a FluxInstance",
    ),
]


@pytest.mark.parametrize(
    ("object_id", "mutate", "expected"),
    [d[1:] for d in DEFECTS],
    ids=[d[0] for d in DEFECTS],
)
def test_conformance_planted_defect_is_caught(
    object_id: str, mutate: Callable[[dict[str, Any]], None], expected: str, schemas: Schemas
) -> None:
    manifest = obj("staging", object_id)
    assert schemas.check_object(manifest, object_id) == []
    mutate(manifest)
    found = messages(schemas.check_object(manifest, object_id))
    assert expected in found, f"{object_id}: {expected!r} not in:\n{found}"


FLUX_KINDS = ("GitRepository", "Kustomization", "ImageUpdateAutomation")


@pytest.mark.parametrize("kind", FLUX_KINDS)
def test_conformance_planted_defects_in_flux_toolkit_kinds(kind: str, schemas: Schemas) -> None:
    candidates = [o for o in rendered("staging").objects if o.ref.kind == kind]
    assert candidates, f"staging declares no {kind}"
    original = copy.deepcopy(candidates[0].plain)
    for mutate, expected in (
        (_rename("spec.interval", "intervall"), "'intervall' was unexpected"),
        (_set("spec.interval", 60), "60 is not of type 'string'"),
        (_drop("spec.interval"), "'interval' is a required property"),
        (_set("spec.interval", "1 minute"), "does not match"),
        (_set("apiVersion", original["apiVersion"] + "beta9"), "is not served"),
    ):
        manifest = copy.deepcopy(original)
        mutate(manifest)
        found = messages(schemas.check_object(manifest, kind))
        assert expected in found, f"{kind}: {expected!r} not in:\n{found}"


def test_conformance_unknown_kind_is_an_error(schemas: Schemas) -> None:
    manifest = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "n"},
    }
    assert "neither a Kubernetes" in messages(schemas.check_object(manifest))


@pytest.mark.parametrize("stack", STACKS)
def test_conformance_operator_values_pass(stack: str, schemas: Schemas) -> None:
    (release,) = rendered(stack).releases
    assert release.chart == OPERATOR_CHART
    assert schemas.check_values(release.chart, release.plain_values, stack) == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"multitenancy": {"enabled": "yes"}}, "values.multitenancy.enabled: 'yes' is not of type"),
        ({"multitenacy": {"enabled": True}}, "'multitenacy' was unexpected"),
        ({"logLevel": "trace"}, "'trace' is not one of"),
        ({"reporting": None}, "values.reporting: null deletes the chart's default"),
        ({"tolerations": [{"key": "a"}, {"key": "a"}]}, "has non-unique elements"),
    ],
)
def test_conformance_operator_values_defect_is_caught(
    values: dict[str, Any], expected: str, schemas: Schemas
) -> None:
    found = messages(schemas.check_values(OPERATOR_CHART, values, "release"))
    assert expected in found, found


def test_conformance_values_keep_required_inside_lists() -> None:
    schema = {
        "type": "object",
        "required": ["a"],
        "properties": {
            "m": {"type": "object", "required": ["x"], "properties": {"x": {"type": "string"}}},
            "l": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["k"],
                    "properties": {"k": {"type": "string"}},
                },
            },
        },
    }
    converted = crd_schemas.values_json_schema(schema)
    assert "required" not in converted
    assert "required" not in converted["properties"]["m"]
    assert converted["properties"]["l"]["items"]["required"] == ["k"]


def test_conformance_values_need_a_schema_for_the_chart(schemas: Schemas) -> None:
    found = messages(schemas.check_values("oci://example.com/charts/other", {}, "r"))
    assert "no values schema for chart 'other'" in found


def test_conformance_crd_schema_conversion() -> None:
    schema = crd_schemas.crd_json_schema(
        {
            "type": "object",
            "properties": {
                "port": {"x-kubernetes-int-or-string": True},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "strict": {"type": "object", "properties": {"a": {"type": "string"}}},
                "maybe": {"type": "string", "nullable": True},
                "set": {"type": "array", "x-kubernetes-list-type": "set", "items": {}},
            },
        }
    )
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"port": 1, "free": {"x": 1}, "maybe": None, "strict": {"a": "b"}})
    assert validator.is_valid({"port": "http"})
    assert not validator.is_valid({"port": 1.5})
    assert not validator.is_valid({"strict": {"b": "c"}})
    assert not validator.is_valid({"other": 1})
    assert not validator.is_valid({"set": [1, 1]})


def test_conformance_pinned_kubernetes_version_is_shipped() -> None:
    # kubernetes-validate silently falls back to an older schema for a version it lacks.
    assert f"{conformance.KUBERNETES_VERSION}.0" in k8s_validate.all_versions()


def test_conformance_missing_schemas_fail_with_where_to_get_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(conformance.SCHEMAS_ENV, str(tmp_path / "absent"))
    with pytest.raises(conformance.SchemasMissingError) as caught:
        Schemas.load()
    message = str(caught.value)
    assert conformance.SCHEMAS_ENV in message
    assert str(tmp_path / "absent" / "crds") in message
    for source in ("config/crd/bases", "controlplaneio-fluxcd/charts", "values.schema.json"):
        assert source in message


def test_conformance_schemas_dir_follows_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "x.yaml").write_text("{}\n")
    monkeypatch.setenv(conformance.SCHEMAS_ENV, str(tmp_path))
    assert conformance.schemas_dir() == tmp_path


# CEL rules: one violating and one satisfying fragment per rule, at the rule's location.
CEL_CASES: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {
    ("FluxInstance", "the only accepted name"): (
        {"metadata": {"name": "fluxy"}},
        {"metadata": {"name": "flux"}},
    ),
    ("FluxInstance", ".spec.storage must be set"): (
        {"sharding": {"storage": "persistent"}},
        {"sharding": {"storage": "persistent"}, "storage": {"class": "x", "size": "1Gi"}},
    ),
    ("FluxInstance", ".objectLevelWorkloadIdentity"): (
        {"multitenantWorkloadIdentity": True},
        {"multitenantWorkloadIdentity": True, "objectLevelWorkloadIdentity": True},
    ),
    ("FluxInstance", "sync.provider 'gcp'"): (
        {"kind": "GitRepository", "provider": "gcp"},
        {"kind": "OCIRepository", "provider": "gcp"},
    ),
    ("FluxInstance", "sync.provider 'github'"): (
        {"kind": "OCIRepository", "provider": "github"},
        {"kind": "GitRepository", "provider": "github"},
    ),
    ("GitRepository", "serviceAccountName can only"): (
        {"serviceAccountName": "sa"},
        {"serviceAccountName": "sa", "provider": "azure"},
    ),
    ("Kustomization", "exactly one of spec.kubeConfig"): (
        {"configMapRef": {"name": "a"}, "secretRef": {"name": "b"}},
        {"secretRef": {"name": "b"}},
    ),
    ("HelmRelease", "either chart or chartRef"): ({}, {"chartRef": {"kind": "OCIRepository"}}),
    ("HelmRelease", ".retryInterval cannot be set"): (
        {"name": "RemediateOnFailure", "retryInterval": "1m"},
        {"name": "RetryOnFailure", "retryInterval": "1m"},
    ),
    ("HelmRelease", "exactly one of spec.kubeConfig"): ({}, {"configMapRef": {"name": "a"}}),
    ("HelmRelease", ".retryInterval can only be set"): (
        {"name": "RemediateOnFailure", "retryInterval": "1m"},
        {"name": "RetryOnFailure", "retryInterval": "1m"},
    ),
    ("Receiver", "generic-oidc receivers must"): (
        {"type": "generic-oidc", "oidcProviders": []},
        {"type": "generic-oidc", "oidcProviders": [{"issuerURL": "https://x"}]},
    ),
    ("Receiver", "oidcProviders can only be set"): (
        {"type": "github", "secretRef": {"name": "s"}, "oidcProviders": [{}]},
        {"type": "github", "secretRef": {"name": "s"}},
    ),
    ("Receiver", "secretRef cannot be set"): (
        {"type": "generic-oidc", "oidcProviders": [{}], "secretRef": {"name": "s"}},
        {"type": "generic-oidc", "oidcProviders": [{}]},
    ),
    ("Receiver", "secretRef is required"): (
        {"type": "github"},
        {"type": "github", "secretRef": {}},
    ),
    ("Provider", "spec.commitStatusExpr"): (
        {"type": "slack", "commitStatusExpr": "x"},
        {"type": "github", "commitStatusExpr": "x"},
    ),
    ("ImagePolicy", "spec.interval is only accepted"): (
        {"interval": "5m"},
        {"interval": "5m", "digestReflectionPolicy": "Always"},
    ),
    ("ImagePolicy", "spec.interval must be set"): (
        {"digestReflectionPolicy": "Always"},
        {"digestReflectionPolicy": "Always", "interval": "5m"},
    ),
    ("HelmChart", "spec.verify is only supported"): (
        {"verify": {"provider": "cosign"}, "sourceRef": {"kind": "GitRepository"}},
        {"verify": {"provider": "cosign"}, "sourceRef": {"kind": "HelmRepository"}},
    ),
}


def _case(rule: cel_rules.Rule) -> tuple[dict[str, Any], dict[str, Any]]:
    found = [v for (k, m), v in CEL_CASES.items() if k == rule.kind and rule.message.startswith(m)]
    assert len(found) == 1, f"no single test case for {rule.kind} rule {rule.message!r}"
    return found[0]


def _place(kind: str, path: tuple[str, ...], fragment: dict[str, Any]) -> dict[str, Any]:
    if not path:
        return {"kind": kind, **fragment}
    node: dict[str, Any] = fragment
    for key in reversed(path):
        node = {key: node}
    return {"kind": kind, **node}


@pytest.mark.parametrize(
    "rule", cel_rules.RULES, ids=[f"{r.kind}:{r.message[:40]}" for r in cel_rules.RULES]
)
def test_cel_rule_rejects_a_violation_and_accepts_the_fix(rule: cel_rules.Rule) -> None:
    bad, good = _case(rule)
    assert rule in cel_rules.violations(_place(rule.kind, rule.path, bad))
    assert rule not in cel_rules.violations(_place(rule.kind, rule.path, good))


def test_cel_rules_match_the_crds_exactly(schemas: Schemas) -> None:
    """Every checked rule exists in its CRD, and every rule of those CRDs is checked or is a
    transition rule (so an upstream CRD bump that adds a rule fails here until it is covered)."""
    checked = {(r.kind, r.path, r.message) for r in cel_rules.RULES}
    in_crds: set[tuple[str, tuple[str, ...], str]] = set()
    # The newest CRDs and those of every Flux line a stack may be checked against.
    lines = [
        schemas.for_flux(".".join(map(str, r))) for r in conformance.flux_releases(schemas.root)
    ]
    for crd in [c for s in (schemas, *lines) for c in s.crds.values()]:
        if crd.kind not in {r.kind for r in cel_rules.RULES}:
            continue
        for version in crd.versions:
            for path, message, rule in crd.cel(version):
                if not cel_rules.is_transition(rule):
                    in_crds.add((crd.kind, path, message))
    assert checked == in_crds


def test_cel_rules_cover_every_kind_the_stacks_declare(schemas: Schemas) -> None:
    uncovered = [
        (crd.kind, message)
        for stack in STACKS
        for o in rendered(stack).objects
        if (crd := schemas.crds.get((o.ref.api_version.rpartition("/")[0], o.ref.kind)))
        for path, message, rule in crd.cel(o.ref.api_version.rpartition("/")[2])
        if not cel_rules.is_transition(rule)
        and (path, message) not in {(r.path, r.message) for r in cel_rules.rules_for(crd.kind)}
    ]
    assert uncovered == []


def test_conformance_reports_a_cel_rule_it_cannot_evaluate(tmp_path: Path) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": {"type": "object"}},
                            "x-kubernetes-validations": [
                                {"rule": "self.spec.size() > 0", "message": "spec is empty"}
                            ],
                        }
                    },
                }
            ],
        },
    }
    (tmp_path / "crds").mkdir()
    (tmp_path / "crds" / "widgets.yaml").write_text(yaml.safe_dump(crd))
    manifest = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "n"},
        "spec": {},
    }
    found = messages(Schemas(tmp_path).check_object(manifest))
    assert "CEL rule not evaluated offline ('spec is empty')" in found


def _crd_message(schemas: Schemas, fragment: str) -> str:
    crd = schemas.crds[("fluxcd.controlplane.io", "FluxInstance")]
    (message,) = [m for _, m, _ in crd.cel("v1") if m.startswith(fragment)]
    return message


@pytest.mark.parametrize(
    ("kind", "provider", "rule"),
    [
        ("OCIRepository", "github", "sync.provider 'github'"),
        ("Bucket", "github", "sync.provider 'github'"),
        ("GitRepository", "gcp", "sync.provider 'gcp'"),
    ],
)
def test_settings_reject_sync_config_the_fluxinstance_cel_rules_reject(
    kind: str, provider: str, rule: str, schemas: Schemas
) -> None:
    """Config can break these CRD rules, so settings refuse it before anything is registered."""
    sync = {"syncUrl": "oci://ghcr.io/acme/fleet", "syncRef": "latest", "syncPath": "./"}
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", {"syncKind": kind, "syncProvider": provider, **sync})
    assert f"d1-fleet:syncProvider: {_crd_message(schemas, rule)}" in str(caught.value)
    assert caught.value.recording.of_type("kubernetes:fluxcd.controlplane.io/v1:FluxInstance") == []


def test_conformance_check_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", "prod-eu"]) == cli.ExitCode.OK
    assert capsys.readouterr().out.endswith(": conform\n")
    # docs/conformance.md: an unknown stack is exit 2; the other stacks are still checked.
    assert cli.main(["check", "nowhere", "-s", "prod-eu"]) == cli.ExitCode.USAGE
    out = capsys.readouterr().out
    assert out.startswith("nowhere: ")
    assert out.endswith(": conform\n"), "prod-eu checked all the same"
    monkeypatch.setenv(conformance.SCHEMAS_ENV, str(tmp_path))
    assert cli.main(["check", "prod-eu"]) == cli.ExitCode.USAGE
    assert conformance.SCHEMAS_ENV in capsys.readouterr().err


# Conformance per Flux line: the CRDs of the release the stack's FluxInstance deploys.


def test_flux_version_resolves_to_the_newest_release_of_its_line(tmp_path: Path) -> None:
    for release in ("2.7.2", "2.7.5", "2.8.8", "2.9.4", "2.10.0"):
        (tmp_path / "flux" / release).mkdir(parents=True)
    resolve = conformance.resolve_flux_release
    assert resolve("2.7.x", tmp_path) == "2.7.5"
    assert resolve("2.x", tmp_path) == "2.10.0"
    assert resolve("2.7.2", tmp_path) == "2.7.2"
    # An exact release the folder lacks takes its line's newest patch (same APIs).
    assert resolve("2.8.3", tmp_path) == "2.8.8"
    with pytest.raises(conformance.SchemasMissingError, match=r"fluxVersion 2\.6\.x .* 2\.7\.2"):
        resolve("2.6.x", tmp_path)


def test_each_stack_is_checked_against_the_crds_of_its_flux_line(schemas: Schemas) -> None:
    """A field only a later Flux accepts fails a stack pinned to 2.7 and passes one on 2.9: the
    GitRepository `provider: aws` of Flux 2.9 (source-controller's GitRepository CRD, as the Flux
    Operator installs each release: controlplaneio-fluxcd/flux-operator config/data/flux/)."""
    for version, accepted in (("2.7.x", False), ("2.9.x", True)):
        result = render.render_stack(ROOT, "staging", {"d1-fleet:fluxVersion": version})
        assert conformance.flux_version(result) == version
        (source,) = [
            o for o in result.objects if o.ref.id == "GitRepository/flux-system/flux-infra"
        ]
        source.plain["spec"]["provider"] = "aws"
        found = messages(conformance.check(result, schemas))
        assert ("'aws' is not one of" not in found) is accepted, (version, found)
    assert schemas.for_flux("2.7.x").flux_release == "2.7.5"
    assert schemas.for_flux("2.7.x") is schemas.for_flux("2.7.5"), "each line is loaded once"


def test_fleet_check_reads_the_stacks_line_not_the_newest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`fleet check` on a stack pinned to 2.7.x reads `flux/2.7.5/`: a field that line's
    Kustomization CRD lacks (here removed from a copy) fails the stack, though `crds/` and the
    2.9 line still have it."""
    root = conformance.schemas_dir()
    copy_root = tmp_path / "schemas"
    shutil.copytree(root, copy_root)
    path = copy_root / "flux" / "2.7.5" / "kustomize.toolkit.fluxcd.io_kustomizations.yaml"
    crd = yaml.safe_load(path.read_text())
    removed = [
        version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"].pop(
            "deletionPolicy", None
        )
        for version in crd["spec"]["versions"]
    ]
    assert any(removed)
    path.write_text(yaml.safe_dump(crd))
    monkeypatch.setenv(conformance.SCHEMAS_ENV, str(copy_root))
    assert cli.main(["check", "prod-eu"]) == cli.ExitCode.FAILED
    out = capsys.readouterr().out
    assert "Kustomization/" in out
    assert "'deletionPolicy' was unexpected" in out


def test_fleet_check_without_the_stacks_flux_line_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy_root = tmp_path / "schemas"
    shutil.copytree(conformance.schemas_dir(), copy_root)
    shutil.rmtree(copy_root / "flux" / "2.7.5")
    monkeypatch.setenv(conformance.SCHEMAS_ENV, str(copy_root))
    assert cli.main(["check", "staging"]) == cli.ExitCode.USAGE
    err = capsys.readouterr().err
    assert "staging: no Flux CRDs for fluxVersion 2.7.x" in err
    assert "python -m fleet.tools.offline.schemas" in err
