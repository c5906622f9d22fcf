"""Settings validation: every bad value is rejected with a message naming its key."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from fleet.program import conventions as c
from fleet.program import platform
from fleet.program.config import errors, keys, model, parse, sources
from tests.helpers import APPS_PUSH_TOKEN, ROOT, VALID

# Image automation with its push token (required with it).
AUTOMATION = {
    "imageAutomation": "true",
    "appsPushToken": APPS_PUSH_TOKEN,
    "appsPushTokenExpires": "2030-01-01",
}


def problems(**changes: Any) -> list[str]:
    raw = {k: v for k, v in {**VALID, **changes}.items() if v is not None}
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse(raw)
    return caught.value.problems


def test_settings_valid_config_parses_with_d1_defaults() -> None:
    settings = parse.parse(VALID)
    assert settings.flux_version == "2.9.x"
    assert settings.components == (
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
        "source-watcher",
    )
    assert settings.tenants == ("backend", "frontend")
    assert not settings.production


@pytest.mark.parametrize(
    "key",
    [
        "environment",
        "clusterName",
        "gitBranch",
        "githubOwner",
        "platformToken",
        "appsTokenExpires",
        "operatorChartVersion",
    ],
)
def test_settings_missing_required_key_is_named(key: str) -> None:
    assert problems(**{key: None}) == [f"d1-fleet:{key}: missing required key"]


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("environment", "qa", "'staging' or 'production'"),
        ("operatorChartVersion", "latest", "exact chart version"),
        ("operatorChartVersion", "^0.58", "exact chart version"),
        ("operatorChartVersion", ">=0.58.0", "exact chart version"),
        ("fluxVersion", "latest", "2.7.x"),
        ("fluxVersion", ">=2.7", "2.7.x"),
        ("fluxVersion", "2.4.x", "unsupported Flux version"),
        ("fluxVersion", "3.0.0", "unsupported Flux version"),
        ("clusterName", "Staging_1", "DNS-1123 label"),
        ("clusterName", "a" * 64, "DNS-1123 label"),
        ("clusterDomain", "Example..com", "DNS-1123 subdomain"),
        ("tenantDefaultServiceAccount", "Default", "DNS-1123 subdomain"),
        ("gitBranch", "feature branch", "Git branch"),
        ("platformTokenExpires", "next week", "YYYY-MM-DD"),
        ("appsTokenExpires", "2027-13-01", "YYYY-MM-DD"),
        ("botPushAccess", "admin", "'none', 'branchProtection' or 'rulesetBypass'"),
        ("clusterType", "eks", "allowed: kubernetes, openshift, aws, azure, gcp"),
        ("fluxVariant", "fips", "allowed: upstream-alpine, enterprise-alpine"),
        ("fluxArtifact", "ghcr.io/x:latest", "an oci:// artifact reference"),
        ("syncInterval", "5 minutes", "Go duration"),
        ("tokenWarningDays", "-1", "a whole number of at least 0"),
        ("runtimeInfo", ["lower=1"], "KEY=value"),
        ("runtimeInfo", ["CLUSTER_NAME=x"], "cannot be overridden"),
        ("fluxPatches", ["- not a mapping"], "string 'patch'"),
        ("fluxPatches", ["{patch: {op: add}}"], "string 'patch'"),
        ("fluxPatches", ["{patch: x, target: {kinds: Deployment}}"], "optional 'target'"),
    ],
)
def test_settings_bad_value_names_key_value_and_allowed(key: str, value: Any, allowed: str) -> None:
    (problem,) = problems(**{key: value})
    assert problem.startswith(f"d1-fleet:{key}"), problem
    shown = repr(value[0] if isinstance(value, list) else value)
    assert shown in problem, problem
    assert allowed in problem, problem


def test_settings_unknown_flux_component_names_the_item() -> None:
    (problem,) = problems(fluxComponents=["source-controller", "kustomize-controller", "web-ui"])
    assert problem.startswith("d1-fleet:fluxComponents[2]: 'web-ui' is invalid"), problem
    assert "source-watcher" in problem


@pytest.mark.parametrize("token", ["hunter2", "gho_" + "x" * 36, "ghp_short", "github_pat_"])
def test_settings_token_that_is_not_a_pat_is_rejected_without_echoing_it(token: str) -> None:
    (problem,) = problems(platformToken=token)
    assert problem.startswith("d1-fleet:platformToken: [secret] is invalid"), problem
    assert "github_pat_..." in problem
    assert token not in problem.replace("github_pat_...", "")


def test_settings_github_api_token_accepts_app_tokens_only_in_github_token() -> None:
    assert parse.parse({**VALID, "githubToken": "ghs_" + "x" * 36}).github_token is not None
    (problem,) = problems(githubToken="not-a-token")
    assert problem.startswith("d1-fleet:githubToken: [secret] is invalid")


def test_settings_reports_every_problem_together() -> None:
    found = problems(environment="qa", clusterName="Bad_Name", fluxVersion="latest")
    assert [p.split(":")[1] for p in found] == ["environment", "clusterName", "fluxVersion"]


def test_settings_require_a_kube_context_or_kubeconfig() -> None:
    (problem,) = problems(kubeContext=None)
    assert problem.startswith("d1-fleet:kubeContext:")
    assert parse.parse(
        {**{k: v for k, v in VALID.items() if k != "kubeContext"}, "kubeconfig": "/k"}
    )


def test_settings_owner_stack_requires_bot_username() -> None:
    (problem,) = problems(githubAccessOwner="true")
    assert problem == "d1-fleet:botUsername: required when githubAccessOwner is true"


def test_settings_enterprise_token_requires_its_expiry() -> None:
    (problem,) = problems(enterpriseToken="ghp_" + "e" * 36)
    assert problem.startswith("d1-fleet:enterpriseTokenExpires:")


def test_settings_flux_2_6_is_no_longer_supported() -> None:
    (problem,) = problems(fluxVersion="2.6.x")
    assert problem == (
        "d1-fleet:fluxVersion: '2.6.x' is invalid: unsupported Flux version; "
        "allowed: 2.7.x, 2.8.x, 2.9.x (or 2.x)"
    )


def test_settings_source_watcher_requires_flux_2_7(monkeypatch: pytest.MonkeyPatch) -> None:
    # Unreachable while 2.7 is the oldest supported line; kept for a line list that grows back.
    monkeypatch.setattr(c, "SUPPORTED_FLUX_MINORS", (6, 7, 8, 9))
    (problem,) = problems(fluxVersion="2.6.x")
    assert problem.startswith(
        "d1-fleet:fluxVersion: fluxVersion '2.6.x' is too old for source-watcher"
    )
    assert "needs Flux 2.7 or later" in problem
    assert parse.parse(
        {
            **VALID,
            "fluxVersion": "2.6.x",
            "fluxComponents": ["source-controller", "kustomize-controller"],
        }
    )


def test_settings_sync_requires_kind_url_ref_and_path() -> None:
    found = problems(syncUrl="https://github.com/acme/d1-fleet.git")
    assert found == [
        "d1-fleet:syncKind: required when the FluxInstance syncs",
        "d1-fleet:syncRef: required when the FluxInstance syncs",
        "d1-fleet:syncPath: required when the FluxInstance syncs",
    ]


@pytest.mark.parametrize(
    ("kind", "provider", "message"),
    [
        ("OCIRepository", "github", "sync.provider 'github' is only supported for GitRepository"),
        ("Bucket", "github", "sync.provider 'github' is only supported for GitRepository"),
        (
            "GitRepository",
            "gcp",
            "sync.provider 'gcp' is only supported for OCIRepository and Bucket",
        ),
    ],
)
def test_settings_enforce_the_fluxinstance_sync_provider_rules(
    kind: str, provider: str, message: str
) -> None:
    url, ref = {
        "OCIRepository": ("oci://ghcr.io/acme/fleet", "latest"),
        "Bucket": ("s3.amazonaws.com", "fleet-bucket"),
        "GitRepository": ("https://github.com/acme/fleet.git", "refs/heads/main"),
    }[kind]
    sync = {"syncUrl": url, "syncRef": ref, "syncPath": "./"}
    assert problems(syncKind=kind, syncProvider=provider, **sync) == [
        f"d1-fleet:syncProvider: {message}"
    ]


def test_settings_sync_from_the_fleet_repository_is_detected() -> None:
    sync = {"syncKind": "GitRepository", "syncRef": "refs/heads/main", "syncPath": "clusters/x"}
    fleet = parse.parse({**VALID, **sync, "syncUrl": "https://github.com/acme/d1-fleet.git"})
    other = parse.parse({**VALID, **sync, "syncUrl": "https://github.com/acme/other.git"})
    assert fleet.syncs_from_fleet
    assert not other.syncs_from_fleet
    assert not parse.parse(VALID).syncs_from_fleet


def test_settings_image_automation_adds_the_image_controllers_in_order() -> None:
    components = parse.parse({**VALID, **AUTOMATION}).components
    assert components == (
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
        "image-reflector-controller",
        "image-automation-controller",
        "source-watcher",
    )


def test_settings_custom_patches_replace_d1_patches() -> None:
    patch = 'target: {kind: Deployment, name: helm-controller}\npatch: "- op: remove\\n  path: /x"'
    assert parse.parse({**VALID, "fluxPatches": [patch]}).patches == (
        {
            "target": {"kind": "Deployment", "name": "helm-controller"},
            "patch": "- op: remove\n  path: /x",
        },
    )
    assert parse.parse({**VALID, "fluxPatches": []}).patches == ()
    assert len(parse.parse(VALID).patches) == 6


def test_settings_runtime_extra_keys_are_parsed() -> None:
    settings = parse.parse({**VALID, "runtimeInfo": ["REGION=eu-west-1", "URL=a=b"]})
    assert settings.runtime_extra == {"REGION": "eu-west-1", "URL": "a=b"}


def declared_config() -> dict[str, dict[str, Any]]:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    return {key.removeprefix("d1-fleet:"): spec for key, spec in project["config"].items()}


def test_pulumi_yaml_declares_every_key_with_its_type_and_a_description() -> None:
    # Secret keys stay undeclared: the CLI would demand them on every stack, or store a default
    # in plain text and then refuse it; they come from secret config or the environment.
    declared = declared_config()
    expected = {k: t for k, t in keys.config_keys().items() if k not in keys.SECRET_KEYS}
    assert {k: v["type"] for k, v in declared.items()} == expected
    for key, spec in declared.items():
        assert spec.get("description"), key
        assert "secret" not in spec, key
        if spec["type"] == "array":
            assert spec["items"] == {"type": "string"}, key


def test_pulumi_yaml_defaults_are_the_settings_defaults() -> None:
    # Key by key: a stack that sets the declared default gets the settings of one that sets
    # nothing, read the way the program reads config (an empty string is "not set").
    def outcome(raw: dict[str, Any]) -> object:
        try:
            # As config.load reads it, with no token variables in the environment.
            def get(key: str) -> str | None:
                value = raw.get(key)
                return json.dumps(value) if isinstance(value, list) else value

            return parse.parse(sources.from_environment(parse.read(get, raw), {}))
        except errors.ConfigError as error:
            return error.problems

    for key, spec in declared_config().items():
        field = next(f for n, f in model.Settings.model_fields.items() if f.alias == key)
        if "default" not in spec:
            assert field.is_required(), f"{key}: optional in the model but required in Pulumi.yaml"
            continue
        unset = {k: v for k, v in VALID.items() if k != key}
        with_default = unset | {key: spec["default"]}
        assert outcome(with_default) == outcome(unset), key
        if field.is_required():  # a token expiry date: "" defers to the environment
            assert spec["default"] == "", key


def test_every_required_settings_key_is_required_in_pulumi_yaml() -> None:
    declared = declared_config()
    for name, field in model.Settings.model_fields.items():
        key = field.alias or name
        if field.is_required() and key not in keys.SECRET_KEYS and not key.endswith("TokenExpires"):
            assert "default" not in declared[key], key


def test_committed_stack_files_hold_no_secret_values() -> None:
    for path in ROOT.glob("Pulumi.*.yaml"):
        config = yaml.safe_load(path.read_text())["config"]
        leaked = [k for k in config if k.removeprefix("d1-fleet:") in keys.SECRET_KEYS]
        assert not leaked, f"{path.name} commits {leaked}"


def test_settings_platform_components_parse_with_dependencies() -> None:
    entries = ["monitoring", "admission: monitoring", "apps:monitoring , admission"]
    assert parse.parse({**VALID, "platformComponents": entries}).platform == (
        platform.PlatformComponent(name="monitoring"),
        platform.PlatformComponent(name="admission", depends_on=("monitoring",)),
        platform.PlatformComponent(name="apps", depends_on=("monitoring", "admission")),
    )


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            ["admission: monitoring"],
            "component 'admission' depends on 'monitoring', which is not a configured component",
        ),
        (["a: c", "b: a", "c: b"], "dependency cycle: a -> c -> b -> a"),
        (["a: a"], "dependency cycle: a -> a"),
        (["monitoring", "monitoring"], "component 'monitoring' is listed more than once"),
        (
            ["Monitoring"],
            "'Monitoring': allowed: 'name' or 'name: dependency, ...' with DNS-1123 label names"
            " of at most 50 characters",
        ),
    ],
)
def test_settings_bad_platform_components(entries: list[str], message: str) -> None:
    assert problems(platformComponents=entries) == [f"d1-fleet:platformComponents: {message}"]


@pytest.mark.parametrize(
    ("tenants", "message"),
    [
        (["backend", "backend"], "tenant 'backend' is listed more than once"),
        (["flux-system"], "tenant 'flux-system' is a reserved namespace"),
        (["default"], "tenant 'default' is a reserved namespace"),
        (["kube-public"], "tenant 'kube-public' is a reserved namespace"),
    ],
)
def test_settings_bad_tenants_name_the_tenant(tenants: list[str], message: str) -> None:
    (problem,) = problems(tenants=tenants)
    assert problem.startswith(f"d1-fleet:tenants: {message}"), problem


def test_settings_invalid_tenant_name_names_the_tenant() -> None:
    (problem,) = problems(tenants=["backend", "Front_End"])
    assert problem.startswith("d1-fleet:tenants[1]: 'Front_End' is invalid"), problem


def test_settings_apps_update_tenant_conflicts_with_image_automation() -> None:
    (problem,) = problems(tenants=["apps-update"], **AUTOMATION)
    assert problem == "d1-fleet:tenants: tenant 'apps-update' is the image automation namespace"


def test_settings_bad_automation_author_email() -> None:
    (problem,) = problems(automationAuthorEmail="bot")
    assert problem.startswith("d1-fleet:automationAuthorEmail: 'bot' is invalid")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("githubOwner", "acme org"),
        ("fleetRepository", "d1 fleet"),
        ("infraRepository", "d1/infra"),
        ("appsRepository", ""),
        ("githubAccessOwner", "maybe"),
        ("botUsername", "bot user"),
        ("botTeam", ""),
        ("botPushBranch", "main..x"),
        ("enterpriseUsername", ""),
        ("fluxRegistry", ""),
        ("imageAutomation", "sometimes"),
        ("multitenant", "perhaps"),
        ("networkPolicy", "2"),
        ("kubernetesDnsDomain", "Cluster.Local"),
        ("fluxReadyTimeoutSeconds", "5"),
        ("syncPullSecret", "Flux_System"),
        ("automationAuthorName", ""),
        ("tokenWarningDays", "400"),
    ],
)
def test_settings_other_keys_reject_bad_values_by_name(key: str, value: str) -> None:
    (problem,) = problems(**{key: value})
    assert problem.startswith(f"d1-fleet:{key}: {value!r} is invalid"), problem
