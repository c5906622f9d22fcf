"""Bad configuration through the real `__main__.py`: every class of mistake is refused up front.

Each test runs the program with a stack file and bad values, and checks that the message names the
key and the value, says what is allowed, leaks no secret, and that nothing was registered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from fleet.program import conventions as c
from fleet.program.config import errors, formats, keys, model, parse, rules
from fleet.program.config.rules import base
from fleet.tools.offline import cli_config, mock, render
from tests.helpers import (
    APP_KEY,
    APPS_TOKEN,
    ENTERPRISE_TOKEN,
    PLATFORM_TOKEN,
    ROOT,
    TOKEN_KEYS,
    app_config,
    config_problems,
    push_token_for,
    stack_run,
    token_config,
)

SYNC = {
    "syncKind": "GitRepository",
    "syncUrl": "https://github.com/controlplaneio-fluxcd/d1-fleet.git",
    "syncRef": "refs/heads/main",
    "syncPath": "clusters/staging",
}


def rejected(
    stack: str,
    overrides: dict[str, str],
    drop: tuple[str, ...] = (),
    *,
    check_kube_access: bool = False,
    secrets: tuple[str, ...] = (),
) -> list[str]:
    """The problems the program lists for a config it refuses; asserts nothing was registered."""
    with pytest.raises(mock.ProgramError) as caught:
        stack_run(stack, overrides, drop, check_kube_access=check_kube_access)
    message = str(caught.value)
    assert caught.value.recording.resources == [], "a rejected config registered resources"
    for secret in (PLATFORM_TOKEN, APPS_TOKEN, *secrets):
        assert secret not in message, "a secret value appears in the message"
    assert "invalid stack configuration" in message, message
    return [line.removeprefix("  - ") for line in message.splitlines() if line.startswith("  - ")]


def only(problems: list[str], key: str) -> str:
    found = [
        p for p in problems if p.startswith(f"d1-fleet:{key}:") or p.startswith(f"d1-fleet:{key}[")
    ]
    assert len(found) == 1, problems
    return found[0]


# Values the cluster, Flux or the Flux Operator would refuse.


@pytest.mark.parametrize(
    ("overrides", "key", "value", "allowed"),
    [
        (
            {**SYNC, "syncUrl": "git@github.com:acme/d1-fleet.git"},
            "syncUrl",
            "git@github.com:acme/d1-fleet.git",
            "an http://, https:// or ssh:// Git URL",
        ),
        (
            {
                **SYNC,
                "syncKind": "OCIRepository",
                "syncUrl": "https://ghcr.io/acme/fleet",
                "syncRef": "latest",
            },
            "syncUrl",
            "https://ghcr.io/acme/fleet",
            "oci:// and a repository",
        ),
        (
            {
                **SYNC,
                "syncKind": "OCIRepository",
                "syncUrl": "oci://ghcr.io/acme/fleet:v1",
                "syncRef": "v1",
            },
            "syncUrl",
            "oci://ghcr.io/acme/fleet:v1",
            "without a tag (the tag goes in syncRef)",
        ),
        (
            {
                **SYNC,
                "syncKind": "Bucket",
                "syncUrl": "https://s3.amazonaws.com",
                "syncRef": "fleet",
            },
            "syncUrl",
            "https://s3.amazonaws.com",
            "no scheme",
        ),
        ({**SYNC, "syncRef": "main"}, "syncRef", "main", "refs/heads/<branch>"),
        (
            {
                **SYNC,
                "syncKind": "OCIRepository",
                "syncUrl": "oci://ghcr.io/acme/fleet",
                "syncRef": "v1 beta",
            },
            "syncRef",
            "v1 beta",
            "e.g. latest or v1.2.3",
        ),
        ({**SYNC, "syncPath": "../other"}, "syncPath", "../other", "a path inside it"),
        ({"gitBranch": "refs/heads/main"}, "gitBranch", "refs/heads/main", "not a full ref"),
        ({"botPushBranch": "feature/"}, "botPushBranch", "feature/", "a valid Git branch name"),
        (
            {"fluxRegistry": "https://ghcr.io/fluxcd"},
            "fluxRegistry",
            "https://ghcr.io/fluxcd",
            "without a scheme",
        ),
        (
            {"enterpriseRegistry": "GHCR.io/Acme Corp"},
            "enterpriseRegistry",
            "GHCR.io/Acme Corp",
            "lowercase path",
        ),
        (
            {"fluxArtifact": "oci://ghcr.io/x y:latest"},
            "fluxArtifact",
            "oci://ghcr.io/x y:latest",
            "oci://",
        ),
        (
            {"appsRepository": "d1-apps.git"},
            "appsRepository",
            "d1-apps.git",
            "without '.git' ('d1-apps')",
        ),
        (
            {"infraRepository": "https://github.com/acme/d1-infra"},
            "infraRepository",
            "https://github.com/acme/d1-infra",
            "not a URL",
        ),
        (
            {"fleetRepository": "acme/d1-fleet"},
            "fleetRepository",
            "acme/d1-fleet",
            "the owner is githubOwner",
        ),
    ],
)
def test_values_the_cluster_refuses_are_refused_first(
    overrides: dict[str, str], key: str, value: str, allowed: str
) -> None:
    problem = only(rejected("staging", overrides), key)
    assert repr(value) in problem, problem
    assert "allowed: " in problem, problem
    assert allowed in problem, problem


def test_good_sync_sources_of_each_kind_pass() -> None:
    for sync in (
        SYNC,
        {
            **SYNC,
            "syncUrl": "ssh://git@github.com/acme/d1-fleet.git",
            "syncRef": "refs/tags/v1.0.0",
        },
        {
            **SYNC,
            "syncKind": "OCIRepository",
            "syncUrl": "oci://ghcr.io/acme/fleet",
            "syncRef": "latest",
        },
        {**SYNC, "syncKind": "Bucket", "syncUrl": "minio.example.com:9000", "syncRef": "fleet"},
        {
            **SYNC,
            "syncKind": "Bucket",
            "syncProvider": "azure",
            "syncUrl": "https://acme.blob.core.windows.net",
            "syncRef": "fleet",
        },
    ):
        run = stack_run("staging", sync)
        (instance,) = run.of_type("kubernetes:fluxcd.controlplane.io/v1:FluxInstance")
        assert instance.inputs["spec"]["sync"]["url"] == sync["syncUrl"]


# Combinations that cannot work.


def test_missing_source_and_kustomize_controllers_blame_flux_components() -> None:
    problems = rejected("staging", {"fluxComponents": '["helm-controller"]'})
    found = [p for p in problems if p.startswith("d1-fleet:fluxComponents:")]
    assert len(found) == 2, problems
    assert "source-controller is missing; the stack declares GitRepository flux-infra" in found[0]
    assert "kustomize-controller is missing" in found[1]
    assert "allowed: a list that includes kustomize-controller" in found[1]


def test_upsert_without_forced_field_ownership_is_refused() -> None:
    """pulumi-kubernetes `provider/pkg/await/await.go` (`Creation`, `patchForce`): with
    `upsertExistingObjects` a create is a server-side apply, forced in preview when there is no live
    state but not in `up`, whose conflicts `handleSSAErr` reports; `enablePatchForce`
    (`forceFieldOwnership`) forces it in both."""
    problem = only(rejected("staging", {"upsertExistingObjects": "true"}), "upsertExistingObjects")
    assert "requires forceFieldOwnership: true" in problem
    assert "server-side apply conflict" in problem
    both = {"upsertExistingObjects": "true", "forceFieldOwnership": "true"}
    (provider,) = stack_run("staging", both).of_type("pulumi:providers:kubernetes")
    assert provider.inputs["enablePatchForce"] == "true"


def test_empty_component_list_is_refused() -> None:
    problems = rejected("prod-eu", {"fluxComponents": "[]"})
    assert any("source-controller is missing" in p for p in problems), problems


@pytest.mark.usefixtures("older_flux_lines")
def test_default_component_too_new_for_the_flux_version_blames_the_version() -> None:
    problem = only(rejected("prod-eu", {"fluxVersion": "2.6.x"}), "fluxVersion")
    assert "'2.6.x' is too old for source-watcher (in fluxComponents by default)" in problem
    assert "needs Flux 2.7 or later" in problem


@pytest.mark.usefixtures("older_flux_lines")
def test_chosen_component_too_new_for_the_flux_version_blames_the_components() -> None:
    components = '["source-controller", "kustomize-controller", "source-watcher"]'
    problems = rejected("prod-eu", {"fluxVersion": "2.6.x", "fluxComponents": components})
    assert "source-watcher" in only(problems, "fluxComponents")


@pytest.mark.usefixtures("older_flux_lines")
def test_image_automation_needs_the_flux_version_of_its_api() -> None:
    problem = only(rejected("staging", {"fluxVersion": "2.6.x"}), "imageAutomation")
    assert "needs Flux 2.7 or later (ImageUpdateAutomation image.toolkit.fluxcd.io/v1)" in problem
    assert "fluxVersion is '2.6.x'" in problem


def test_image_automation_gets_its_controllers_even_when_the_list_omits_them() -> None:
    run = stack_run("staging", {"fluxComponents": '["source-controller", "kustomize-controller"]'})
    (instance,) = run.of_type("kubernetes:fluxcd.controlplane.io/v1:FluxInstance")
    assert "image-automation-controller" in instance.inputs["spec"]["components"]


def test_git_sync_with_aws_needs_flux_2_9() -> None:
    problem = only(
        rejected("prod-eu", {**SYNC, "syncProvider": "aws", "fluxVersion": "2.7.x"}), "syncProvider"
    )
    assert "'aws' for a GitRepository needs Flux 2.9 or later" in problem


def test_unknown_registry_needs_a_variant() -> None:
    problem = only(
        rejected("prod-eu", {"fluxRegistry": "registry.example.com/flux"}), "fluxRegistry"
    )
    assert "'registry.example.com/flux'" in problem
    assert "together with fluxVariant" in problem
    run = stack_run(
        "prod-eu", {"fluxRegistry": "registry.example.com/flux", "fluxVariant": "upstream-alpine"}
    )
    assert run.resources


# Silent surprises.


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [("tenats", "tenants"), ("fluxVerison", "fluxVersion"), ("KubeContext", "kubeContext")],
)
def test_unknown_key_is_an_error_with_the_closest_known_key(typo: str, suggestion: str) -> None:
    problem = only(rejected("staging", {typo: "value-not-shown"}), typo)
    assert f"unknown key; did you mean {suggestion!r}?" in problem
    assert "value-not-shown" not in problem


def test_unknown_key_with_nothing_close_lists_where_the_keys_are() -> None:
    problem = only(rejected("staging", {"zzz": "1"}), "zzz")
    assert problem == (
        "d1-fleet:zzz: unknown key; allowed: the keys declared in Pulumi.yaml "
        "(see docs/configuration.md#configuration)"
    )


def test_keys_of_other_namespaces_are_left_alone() -> None:
    assert stack_run("staging", {"kubernetes:context": "elsewhere", "pulumi:tags": "x"}).resources


def test_optional_secret_keys_are_known_keys() -> None:
    assert "githubToken" in keys.config_keys()
    assert "enterpriseToken" in keys.config_keys()
    assert stack_run("prod-eu", {"githubToken": "ghs_" + "g" * 36}).resources


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "tenants",
            '["backend", "frontend", "backend"]',
            "tenant 'backend' is listed more than once",
        ),
        (
            "fluxComponents",
            '["source-controller", "kustomize-controller", "source-controller"]',
            "component 'source-controller' is listed more than once",
        ),
        (
            "runtimeInfo",
            '["REGION=eu", "TIER=1", "REGION=us"]',
            "key 'REGION' is set more than once",
        ),
        (
            "platformComponents",
            '["monitoring", "monitoring"]',
            "component 'monitoring' is listed more than once",
        ),
    ],
)
def test_duplicates_in_keyed_lists_are_errors(key: str, value: str, message: str) -> None:
    assert message in only(rejected("staging", {key: value}), key)


@pytest.mark.parametrize(
    "padded", [PLATFORM_TOKEN + "\n", f"  {PLATFORM_TOKEN}\t", f"\n{PLATFORM_TOKEN}\r\n"]
)
def test_token_whitespace_is_removed_before_it_is_stored(padded: str) -> None:
    run = stack_run("staging", {"platformToken": padded})
    secret = run.get("kubernetes:core/v1:Secret", "cluster-credentials-platform")
    data, wrapped = mock.unwrap_secret(secret.inputs["stringData"])
    assert wrapped
    assert data["password"] == data["token"] == PLATFORM_TOKEN


def test_token_with_whitespace_inside_is_refused_without_showing_it() -> None:
    bad = PLATFORM_TOKEN[:20] + " " + PLATFORM_TOKEN[20:]
    problem = only(rejected("staging", {"platformToken": bad}, secrets=(bad,)), "platformToken")
    assert problem.startswith("d1-fleet:platformToken: [secret] is invalid")


@pytest.mark.parametrize("key", ["platformToken", "appsToken"])
def test_classic_token_is_refused_for_the_fine_grained_keys_with_the_reason(key: str) -> None:
    classic = "ghp_" + "c" * 36
    problem = only(rejected("staging", {key: classic}, secrets=(classic,)), key)
    assert "a classic personal access token (ghp_...) is not accepted" in problem
    assert "the apps token is copied into every tenant namespace" in problem
    assert "allowed: a fine-grained token (github_pat_...)" in problem


def test_app_and_oauth_tokens_are_refused_for_the_fine_grained_keys() -> None:
    token = "ghs_" + "s" * 36
    problem = only(rejected("staging", {"appsToken": token}, secrets=(token,)), "appsToken")
    assert "allowed: a fine-grained personal access token" in problem


_PATCH_TARGET = "target: {kind: Deployment, name: helm-controller}\n"
_PATCH_BODY = "patch: |\n  - op: add\n    path: /spec/template/spec/containers/0/args/-\n    value: --concurrent=4\n"


def _stack_with_patches(tmp_path: Path, entry: str) -> Path:
    """A project folder whose staging stack file sets fluxPatches to one entry, as written."""
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    stack = (ROOT / "Pulumi.staging.yaml").read_text() + "  d1-fleet:fluxPatches:\n" + entry
    (tmp_path / "Pulumi.staging.yaml").write_text(stack)
    return tmp_path


def _cli_problems(project_dir: Path) -> list[str]:
    project = cli_config.load_project(cli_config.load_yaml((ROOT / "Pulumi.yaml").read_text()))
    config = cli_config.stack_file_config(project_dir / "Pulumi.staging.yaml")
    return cli_config.merge(project, "staging", config)[1]


def test_flux_patch_written_as_a_block_string_passes_the_cli_and_reaches_the_instance(
    tmp_path: Path,
) -> None:
    block = "".join(f"      {line}\n" for line in (_PATCH_TARGET + _PATCH_BODY).splitlines())
    project_dir = _stack_with_patches(tmp_path, "    - |\n" + block)
    assert _cli_problems(project_dir) == []
    run = stack_run("staging", project_dir=project_dir)
    instance = run.get("kubernetes:fluxcd.controlplane.io/v1:FluxInstance", "cluster-flux-instance")
    assert instance.inputs["spec"]["kustomize"]["patches"] == [
        {
            "target": {"kind": "Deployment", "name": "helm-controller"},
            "patch": "- op: add\n  path: /spec/template/spec/containers/0/args/-\n"
            "  value: --concurrent=4\n",
        }
    ]


def test_flux_patch_written_as_a_bare_mapping_is_refused_in_words(tmp_path: Path) -> None:
    mapping = "".join(
        f"{'    - ' if i == 0 else '      '}{line}\n"
        for i, line in enumerate((_PATCH_TARGET + _PATCH_BODY).splitlines())
    )
    project_dir = _stack_with_patches(tmp_path, mapping)
    # The CLI itself refuses it before the program runs ...
    assert _cli_problems(project_dir) == [
        "Stack 'staging' with configuration key 'd1-fleet:fluxPatches' must be of type "
        "'array<string>'"
    ]
    # ... and the offline tools, which run the program without the CLI, say why in words.
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", project_dir=project_dir)
    assert caught.value.recording.resources == []
    (problem,) = [
        line for line in str(caught.value).splitlines() if "d1-fleet:fluxPatches[0]" in line
    ]
    assert "fluxPatches is a list of strings" in problem
    assert "the Pulumi CLI refuses anything else" in problem
    assert "write the mapping as a block string after '- |'" in problem
    assert "allowed: a string holding a YAML or JSON mapping" in problem


# One run, every problem.


@pytest.mark.usefixtures("older_flux_lines")
def test_cross_key_checks_run_even_when_fields_are_invalid() -> None:
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    problems = rejected(
        "staging",
        {
            "clusterName": "Bad_Name",
            "platformComponents": '["a: b", "b: a"]',
            "tenants": '["backend", "kube-system"]',
            "appsTokenExpires": yesterday,
            "fluxVersion": "2.6.x",
            "syncUrl": "https://github.com/acme/x.git",
            "tenats": '["x"]',
            "tokenWarningDays": "many",
        },
    )
    keys = {p.split(":")[1].split("[")[0] for p in problems}
    assert keys >= {
        "clusterName",
        "platformComponents",
        "tenants",
        "appsToken",
        "fluxVersion",
        "imageAutomation",
        "syncKind",
        "syncRef",
        "syncPath",
        "tenats",
        "tokenWarningDays",
    }, problems
    assert f"the apps token expired on {yesterday}" in only(problems, "appsToken")
    assert "dependency cycle: a -> b -> a" in only(problems, "platformComponents")


def test_bad_list_entries_hide_none_of_the_lists_other_problems() -> None:
    problems = rejected(
        "staging",
        {
            "tenants": '["Bad_Name", "kube-system", "backend", "backend", 7]',
            "fluxComponents": '["helm-controller", "helm-controller", "bogus"]',
            "platformComponents": '["a: b", "b: a", "Bad Entry", "c: missing", "c", 3]',
            "runtimeInfo": '["lower=x", "TEAM=a", "TEAM=b"]',
        },
    )
    assert sorted(problems) == sorted(
        [
            "d1-fleet:tenants[0]: 'Bad_Name' is invalid: allowed: a DNS-1123 label (lowercase "
            "letters, digits and '-', starting and ending with a letter or digit, at most 63 "
            "characters)",
            "d1-fleet:tenants[4]: 7 is invalid: allowed: a text value",
            "d1-fleet:tenants: tenant 'backend' is listed more than once",
            "d1-fleet:tenants: tenant 'kube-system' is a reserved namespace (flux-system, default "
            "and kube-* are not allowed)",
            "d1-fleet:fluxComponents[2]: 'bogus' is invalid: allowed: "
            + ", ".join(c.FLUX_COMPONENTS),
            "d1-fleet:fluxComponents: component 'helm-controller' is listed more than once",
            "d1-fleet:fluxComponents: source-controller is missing; the stack declares "
            "GitRepository flux-infra, which source-controller serves; allowed: a list that "
            "includes source-controller",
            "d1-fleet:fluxComponents: kustomize-controller is missing; the stack declares the "
            "Kustomizations of platformComponents, tenants, imageAutomation, which "
            "kustomize-controller serves; allowed: a list that includes kustomize-controller",
            "d1-fleet:platformComponents[5]: 3 is invalid: allowed: a text value",
            "d1-fleet:platformComponents: 'Bad Entry': allowed: 'name' or 'name: dependency, ...' "
            "with DNS-1123 label names of at most 50 characters",
            "d1-fleet:platformComponents: component 'c' depends on 'missing', which is not a "
            "configured component",
            "d1-fleet:platformComponents: component 'c' is listed more than once",
            "d1-fleet:platformComponents: dependency cycle: a -> b -> a",
            "d1-fleet:runtimeInfo[0]: 'lower=x' is invalid: allowed: KEY=value with KEY in upper "
            "case letters, digits and '_'",
            "d1-fleet:runtimeInfo: key 'TEAM' is set more than once; allowed: each key once",
        ]
    ), problems


def test_a_list_whose_every_entry_is_bad_is_not_checked_further() -> None:
    # Nothing valid is left to check: "source-controller is missing" would only echo the typo.
    problems = rejected("staging", {"fluxComponents": '["source-controler"]'})
    assert problems == [
        "d1-fleet:fluxComponents[0]: 'source-controler' is invalid: allowed: "
        + ", ".join(c.FLUX_COMPONENTS)
    ]


def test_a_check_whose_input_is_invalid_is_skipped_not_guessed() -> None:
    problems = rejected("staging", {"fluxVersion": "latest"})
    assert len(problems) == 1
    assert problems[0].startswith("d1-fleet:fluxVersion: 'latest' is invalid")


# Messages people understand.


@pytest.mark.parametrize("value", ["2027-6-30", "30/06/2027", "2027-02-30", "20270630", "tomorrow"])
def test_bad_dates_say_yyyy_mm_dd(value: str) -> None:
    problem = only(rejected("staging", {"appsTokenExpires": value}), "appsTokenExpires")
    assert (
        problem
        == f"d1-fleet:appsTokenExpires: {value!r} is invalid: allowed: a date as YYYY-MM-DD, e.g. 2027-06-30"
    )


@pytest.mark.parametrize(
    "key", ["tenants", "platformComponents", "fluxComponents", "runtimeInfo", "fluxPatches"]
)
def test_a_list_given_as_a_string_asks_for_a_yaml_list(key: str) -> None:
    problem = only(rejected("staging", {key: "backend, frontend"}), key)
    assert problem == (
        f"d1-fleet:{key}: 'backend, frontend' is invalid: "
        "allowed: a YAML list such as [a, b], not a single string"
    )


# Wording of the validation library, and fragments only a regular expression contains.
_NOT_PLAIN = (
    "Input should",
    "String should",
    "Value error",
    "pydantic",
    "type=",
    "(?",
    "[^",
    "\\d",
    "\\s",
    ".*",
    "{0,",
    "[a-z",
    "[A-Z",
    "[0-9",
    "$'",
)
# Keys that accept any text on their own (the sync ones are checked against syncKind, invalid here).
_FREE_TEXT = {"kubeContext", "kubeconfig", "automationAuthorName", "syncUrl", "syncRef", "syncPath"}


def test_no_message_shows_a_regex_or_validation_library_wording() -> None:
    bad = {
        key: "x y\n" if kind != "array" else '[{"a": 1}]'
        for key, kind in keys.config_keys().items()
    }
    bad.update(
        {
            "tokenWarningDays": "1.5",
            "fluxReadyTimeoutSeconds": "-3",
            "botTeam": "",
            "runtimeInfo": "[1]",
        }
    )
    problems = rejected("staging", bad)
    named = {p.split(":")[1].split("[")[0] for p in problems}
    assert named == set(keys.config_keys()) - _FREE_TEXT
    for problem in problems:
        assert not any(fragment in problem for fragment in _NOT_PLAIN), problem
        assert "allowed: " in problem, problem


def test_missing_kubeconfig_file_is_reported_by_the_program(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    problem = only(
        rejected("staging", {"kubeconfig": missing}, check_kube_access=True), "kubeconfig"
    )
    assert problem.startswith(f"d1-fleet:kubeconfig: {missing!r} does not exist; allowed:")


def _kubeconfig(tmp_path: Path, *contexts: str) -> Path:
    path = tmp_path / "config"
    entries = "".join(f"  - name: {c}\n    context: {{cluster: {c}, user: u}}\n" for c in contexts)
    path.write_text(f"apiVersion: v1\nkind: Config\ncontexts:\n{entries}")
    return path


def test_missing_kube_context_is_reported_by_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path, "kind-a", "prod-us")))
    problem = only(rejected("staging", {}, check_kube_access=True), "kubeContext")
    assert "'staging' is not a context in" in problem
    assert "allowed: a context defined there (kind-a, prod-us)" in problem


def test_existing_kube_context_passes_the_program_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(_kubeconfig(tmp_path, "staging")))
    assert stack_run("staging", check_kube_access=True).resources
    config = _kubeconfig(tmp_path, "prod-eu")
    monkeypatch.delenv("KUBECONFIG")
    assert stack_run("prod-eu", {"kubeconfig": str(config)}, check_kube_access=True).resources


def test_kubeconfig_with_several_files_is_refused_with_the_file_to_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Python SDK hands $KUBECONFIG to the provider as its `kubeconfig`
    (pulumi_kubernetes/provider.py), and pulumi-kubernetes reads it as one path or as YAML
    (`provider/pkg/provider/util.go`, `parseKubeconfigString`; `provider.go`, `Configure` marks the
    cluster unreachable when that fails): a list of files must be refused before the run."""
    first = tmp_path / "a"
    first.mkdir()
    second = tmp_path / "b"
    second.mkdir()
    kind = _kubeconfig(first, "kind-a")
    real = _kubeconfig(second, "staging")
    monkeypatch.setenv("KUBECONFIG", f"{kind}:{real}")
    problem = only(rejected("staging", {}, check_kube_access=True), "kubeconfig")
    assert f"KUBECONFIG lists 2 files ({kind}:{real})" in problem
    assert f"set kubeconfig to one file (the one that holds 'staging': {real})" in problem
    assert "kubectl config view --flatten" in problem
    # The way out it names works: the one file as `kubeconfig`, KUBECONFIG left as it is.
    assert stack_run("staging", {"kubeconfig": str(real)}, check_kube_access=True).resources


def test_offline_render_needs_no_kube_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert render.render_stack(ROOT, "staging", token_config()).objects
    with pytest.raises(mock.ProgramError):
        stack_run("staging", check_kube_access=True)


# Scale: every check over a user list is linear and iterative.


def test_a_5000_long_dependency_chain_passes_and_a_5000_long_cycle_is_a_clean_error() -> None:
    chain = ["c0", *(f"c{i}: c{i - 1}" for i in range(1, 5000))]
    settings = parse.parse({**_staging_raw(), "platformComponents": chain})
    assert settings.platform[-1].depends_on == ("c4998",)
    cycle = ["c0: c4999", *chain[1:]]
    problem = only(
        rejected("staging", {"platformComponents": json.dumps(cycle)}), "platformComponents"
    )
    assert problem.startswith("d1-fleet:platformComponents: dependency cycle: c0 -> c4999 -> c4998")
    assert problem.endswith("(5000 components)")


def test_checks_over_long_lists_answer_with_every_problem() -> None:
    tenants = [f"t{i}" for i in range(50_000)] + ["t7"]
    components = [f"p{i}" for i in range(20_000)]
    with pytest.raises(errors.ConfigError) as caught:
        parse.parse(
            {**_staging_raw(), "tenants": tenants, "platformComponents": [*components, "p0"]}
        )
    assert caught.value.problems == [
        "d1-fleet:tenants: tenant 't7' is listed more than once",
        "d1-fleet:platformComponents: component 'p0' is listed more than once",
    ]


class _Counted(str):
    """A name that counts how often it is compared: a check that scans a list per entry
    (`list.count`, `in` on a list) compares each entry with every other one."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        _Counted.comparisons += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_checks_over_long_lists_compare_each_name_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = 5_000
    split = formats.split_component

    def counted_split(entry: str) -> tuple[str, tuple[str, ...]]:
        name, deps = split(entry)
        return _Counted(name), tuple(_Counted(dep) for dep in deps)

    monkeypatch.setattr(formats, "split_component", counted_split)
    chain = ["p0", *(f"p{i}: p{i - 1}" for i in range(1, size))]
    values = {
        **dict(parse.parse(_staging_raw())),
        "tenants": (*(_Counted(f"t{i}") for i in range(size)), _Counted("t7")),
        "flux_components": tuple(_Counted(name) for name in c.DEFAULT_COMPONENTS),
        "platform_components": (*chain, "p0"),
    }
    _Counted.comparisons = 0
    defaults = {n: f.default for n, f in model.Settings.model_fields.items() if not f.is_required()}
    problems = rules.run(rules.Values(values, defaults, date.today()))
    assert problems == [
        ("tenants", "tenant 't7' is listed more than once"),
        ("platformComponents", "component 'p0' is listed more than once"),
    ]
    # Linear checks compare a name with a few fixed ones (reserved namespaces), and equal names
    # once; a scan per entry would make about size**2 / 2 comparisons.
    assert _Counted.comparisons < 10 * size, _Counted.comparisons


def _staging_raw() -> dict[str, object]:
    config = {**mock.stack_config(ROOT, "staging"), **token_config()}
    config.update(push_token_for(config))
    short = {key.removeprefix("d1-fleet:"): value for key, value in config.items()}
    # As the program reads it: JSON arrays decoded, Pulumi.yaml's "" defaults left unset.
    return parse.read(short.get, short)


def test_unknown_keys_are_found_in_the_config_the_engine_passes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The Pulumi CLI hands a program its whole config as JSON in PULUMI_CONFIG.
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"d1-fleet:tenats": '["payments"]'}))
    problem = only(rejected("staging", {}), "tenats")
    assert "did you mean 'tenants'?" in problem


# Hub mode (`spokes`).

_SPOKE = (
    "server=https://{name}.example.com:6443, environment=staging, rotated={day}, context={name}"
)


def spoke(name: str, day: date | None = None, **fields: str) -> str:
    entry = _SPOKE.format(name=name, day=(day or date.today()).isoformat())
    return f"{name}: " + ", ".join([entry, *(f"{k}={v}" for k, v in fields.items())])


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("staging", "'<name>: server=https://"),
        ("Staging: server=https://a.example.com", "DNS-1123 label"),
        (spoke("a", colour="blue"), "'colour' in spoke a"),
        ("a: server=https://a.example.com, environment=staging, context=a", "needs rotated"),
        (
            "a: server=https://a.example.com, environment=staging, rotated=2026-01-01",
            "needs context or kubeconfig",
        ),
        (spoke("a").replace("https://a.example.com:6443", "http://a"), "server must be https://"),
        (spoke("a").replace("environment=staging", "environment=dev"), "staging or production"),
        (spoke("a").replace(f"rotated={date.today().isoformat()}", "rotated=soon"), "YYYY-MM-DD"),
        (spoke("a", chain="apps>tenants"), "each once, in that order"),
        (spoke("a", chain="tenants>mystery"), "each once, in that order"),
        (spoke("a", chain="tenants>tenants"), "each once, in that order"),
    ],
)
def test_spoke_entries_are_refused_with_what_is_allowed(entry: str, says: str) -> None:
    problem = only(rejected("staging", {"spokes": json.dumps([entry])}), "spokes")
    assert problem.startswith("d1-fleet:spokes[0]:"), problem
    assert says in problem, problem
    assert "allowed: " in problem, problem


@pytest.mark.parametrize(
    ("entries", "says"),
    [
        ([spoke("a"), spoke("a")], "spoke 'a' is listed more than once"),
        ([spoke("flux-system")], "names a namespace the hub already uses"),
        ([spoke("kube-public")], "names a namespace the hub already uses"),
        ([spoke("backend")], "names a namespace the hub already uses"),
        (
            [spoke("a", date.today() + timedelta(days=1))],
            "is in the future",
        ),
        (
            [spoke("a", date.today() - timedelta(days=91))],
            f"set rotated={date.today().isoformat()} in its entry and run pulumi up",
        ),
    ],
)
def test_spoke_cross_checks_name_the_spoke_and_the_way_out(entries: list[str], says: str) -> None:
    problems = rejected("staging", {"spokes": json.dumps(entries)})
    assert any(p.startswith("d1-fleet:spokes:") and says in p for p in problems), problems


def test_spoke_token_max_age_is_configurable() -> None:
    old = spoke("a", date.today() - timedelta(days=91))
    problems = rejected(
        "staging", {"spokes": json.dumps([old]), "spokeTokenMaxAgeDays": "30", "environment": "x"}
    )
    assert any("spokeTokenMaxAgeDays 30" in p for p in problems), problems
    assert stack_run(
        "staging", {"spokes": json.dumps([old]), "spokeTokenMaxAgeDays": "120"}
    ).resources


def test_spokes_need_the_helm_controller() -> None:
    components = json.dumps(["source-controller", "kustomize-controller"])
    problems = rejected(
        "staging", {"spokes": json.dumps([spoke("a")]), "fluxComponents": components}
    )
    assert any("helm-controller is missing; the spokes' chain needs it" in p for p in problems)


def test_a_spoke_token_close_to_renewal_warns_with_the_way_out() -> None:
    close = spoke("a", date.today() - timedelta(days=85))
    run = stack_run("staging", {"spokes": json.dumps([close])})
    assert any(
        "token of spoke a is due for renewal" in w and f"rotated={date.today().isoformat()}" in w
        for w in run.warnings
    ), run.warnings
    fresh = stack_run("staging", {"spokes": json.dumps([spoke("a")])}).warnings
    assert [w for w in fresh if "spokes" in w] == [], fresh


def test_a_spoke_context_missing_from_its_kubeconfig_is_reported(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(json.dumps({"contexts": [{"name": "staging"}, {"name": "a"}]}))
    spokes = [spoke("a", kubeconfig=str(kubeconfig)), spoke("gone", kubeconfig=str(kubeconfig))]
    problems = rejected(
        "staging",
        {"spokes": json.dumps(spokes), "kubeconfig": str(kubeconfig)},
        check_kube_access=True,
    )
    assert [p for p in problems if p.startswith("d1-fleet:spokes:")] == [
        f"d1-fleet:spokes: spoke gone: 'gone' is not a context in {kubeconfig}; allowed: a "
        "context defined there (a, staging); add it, e.g. with your cloud's get-credentials "
        "command, or set kubeconfig"
    ], problems


# Keys set without effect, and values Flux, kustomize or GitHub would refuse later.


@pytest.mark.parametrize(
    ("overrides", "key", "switch"),
    [
        ({"receiverHost": "hooks.example.com"}, "receiverHost", "receivers is false"),
        ({"receiverTokenLength": "64"}, "receiverTokenLength", "receivers is false"),
        ({"receiverIngress": "false"}, "receiverIngress", "receivers is false"),
        (
            {"receivers": "true", "receiverIngress": "false", "receiverTlsSecret": "hooks-tls"},
            "receiverTlsSecret",
            "receiverIngress is false",
        ),
        ({"syncInterval": "5m"}, "syncInterval", "without syncKind"),
        ({"botPushBranch": "release"}, "botPushBranch", "botPushAccess is none"),
        ({"enterpriseRegistry": "registry.example.com"}, "enterpriseRegistry", "enterpriseToken"),
        ({"enterpriseUsername": "someone"}, "enterpriseUsername", "enterpriseToken"),
    ],
)
def test_a_key_without_effect_under_the_other_settings_is_reported(
    overrides: dict[str, str], key: str, switch: str
) -> None:
    problem = only(rejected("staging", overrides), key)
    assert "has no effect" in problem, problem
    assert switch in problem, problem
    assert "remove the key" in problem, problem


def test_keys_at_their_defaults_or_with_their_switch_on_are_not_reported() -> None:
    stack_run("staging", {"receivers": "true", "receiverHost": "hooks.example.com"})
    stack_run("staging", {"receivers": "true", "receiverHost": "hooks.svc.example.com"})
    stack_run("staging", {"receiverIngress": "true", "botPushBranch": "main"})


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"receiverHost": "flux-webhook.flux-system.svc.cluster.local"}, "receiverHost"),
        ({"receiverHost": "hooks.cluster.local"}, "receiverHost"),
        ({"receiverHost": "webhook-receiver.flux-system.svc"}, "receiverHost"),
        (
            {"kubernetesDnsDomain": "corp.internal", "receiverHost": "flux.corp.internal"},
            "receiverHost",
        ),
        ({"clusterDomain": "preview.cluster.local"}, "clusterDomain"),
    ],
)
def test_a_receiver_host_inside_the_cluster_dns_domain_is_refused(
    overrides: dict[str, str], key: str
) -> None:
    problem = only(rejected("staging", {"receivers": "true", **overrides}), key)
    assert "which GitHub cannot reach" in problem, problem
    assert "allowed: a public DNS name" in problem, problem


def _patch_problem(patch: dict[str, object]) -> str:
    return only(
        rejected("staging", {"fluxPatches": json.dumps([json.dumps(patch)])}), "fluxPatches"
    )


def test_a_patch_whose_inner_text_is_not_yaml_is_refused() -> None:
    """Flux's kustomize decodes the inner patch as YAML (a strategic merge mapping or a JSON 6902
    list); text that is neither would fail inside the cluster, on the FluxInstance's reconcile."""
    problem = _patch_problem(
        {"patch": "- op: add\n  path: [/spec", "target": {"kind": "Deployment"}}
    )
    assert "'patch' text is not a patch kustomize can apply" in problem, problem
    assert "does not parse as YAML" in problem, problem
    assert "allowed: a strategic merge patch" in problem, problem
    assert "plain value" in _patch_problem({"patch": "just words"})


@pytest.mark.parametrize("name", ["helm-controller[", "(?=helm)controller", "(a)\\1"])
def test_a_patch_target_name_that_is_no_re2_regex_is_refused(name: str) -> None:
    """kustomize compiles target group/version/kind/name/namespace with Go's regexp, anchored
    (kubernetes-sigs/kustomize api/types/selector.go, NewSelectorRegex and anchorRegex); what RE2
    refuses, including Perl's lookaround and backreferences, is refused first."""
    problem = _patch_problem({"patch": "a: 1", "target": {"kind": "Deployment", "name": name}})
    assert "is not a regular expression kustomize can use" in problem, problem
    assert "allowed: an RE2 expression" in problem, problem


def test_a_patch_target_regex_kustomize_accepts_passes() -> None:
    patch = {"patch": "a: 1", "target": {"kind": "Deploy(ment)?", "name": "(helm|kustomize)-.*"}}
    stack_run("staging", {"fluxPatches": json.dumps([json.dumps(patch)])})


def test_automation_author_without_image_automation_is_reported() -> None:
    problem = only(
        rejected("prod-eu", {"automationAuthorName": "Release Bot"}), "automationAuthorName"
    )
    assert "has no effect while imageAutomation is false" in problem, problem


@pytest.mark.parametrize(
    "chart",
    [
        "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator:0.58.1",
        "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator@sha256:" + "a" * 64,
        "oci://ghcr.io/controlplaneio-fluxcd/charts/other-chart",
        "https://ghcr.io/controlplaneio-fluxcd/charts/flux-operator",
        "charts/flux-operator",
    ],
)
def test_operator_chart_outside_the_two_forms_is_refused(chart: str) -> None:
    problem = only(rejected("staging", {"operatorChart": chart}), "operatorChart")
    assert "an oci:// chart repository ending in /flux-operator" in problem
    assert "local chart folder" in problem


def test_operator_chart_digest_with_a_local_folder_is_refused() -> None:
    overrides = {
        "operatorChart": "/srv/charts/flux-operator",
        "operatorChartDigest": "sha256:" + "b" * 64,
    }
    problem = only(rejected("staging", overrides), "operatorChartDigest")
    assert "operatorChart must be an oci:// repository" in problem


# The threat model's guarantees hold without the policy pack: these runs load no pack at all.

_ARGS = "/spec/template/spec/containers/0/args/-"


def _args_patch(argument: str) -> str:
    patch = {
        "target": {"kind": "Deployment", "name": "kustomize-controller"},
        "patch": json.dumps([{"op": "add", "path": _ARGS, "value": argument}]),
    }
    return json.dumps([json.dumps(patch)])


@pytest.mark.parametrize(
    ("overrides", "key", "says"),
    [
        ({"multitenant": "false"}, "multitenant", "lifts Flux's tenant lockdown"),
        ({"networkPolicy": "false"}, "networkPolicy", "keep tenant pods away"),
        (
            {"fluxPatches": _args_patch("--no-cross-namespace-refs=false")},
            "fluxPatches",
            "sets --no-cross-namespace-refs=false",
        ),
        (
            {"fluxPatches": _args_patch("--default-service-account=kustomize-controller")},
            "fluxPatches",
            "sets --default-service-account=kustomize-controller",
        ),
    ],
)
def test_tenant_lockdown_is_held_by_the_program_without_the_pack(
    overrides: dict[str, str], key: str, says: str
) -> None:
    """The Flux Operator's multitenant profile appends --no-cross-namespace-refs,
    --no-remote-bases and --default-service-account to the controllers' arguments
    (controlplaneio-fluxcd/flux-operator internal/builder/profiles.go, `GetProfileMultitenant`),
    and a later argument of the same flag wins. Without them a tenant's ImageUpdateAutomation may
    name flux-system's GitRepository and push to the platform repository: a bare `pulumi up` (no
    policy pack) must refuse the stack, not only `flux-instance-lockdown`."""
    problem = only(rejected("staging", overrides), key)
    assert says in problem, problem
    assert "allowed: " in problem, problem


def test_a_patch_leaving_the_lockdown_flags_alone_passes() -> None:
    # d1's own patches repeat --no-remote-bases=true.
    run = stack_run("staging", {"fluxPatches": _args_patch("--no-remote-bases=true")})
    (instance,) = run.of_type("kubernetes:fluxcd.controlplane.io/v1:FluxInstance")
    cluster = instance.inputs["spec"]["cluster"]
    assert (cluster["multitenant"], cluster["networkPolicy"]) == (True, True)


_OTHER_TOKEN = "github_pat_" + "O" * 82


@pytest.mark.parametrize(
    ("overrides", "key", "wider"),
    [
        ({"appsToken": PLATFORM_TOKEN}, "appsToken", "platformToken"),
        ({"appsToken": f" {PLATFORM_TOKEN}\n"}, "appsToken", "platformToken"),
        (
            {"imageAutomation": "true", "appsPushToken": APPS_TOKEN},
            "appsToken",
            "appsPushToken",
        ),
        (
            {"imageAutomation": "true", "appsPushToken": PLATFORM_TOKEN},
            "appsPushToken",
            "platformToken",
        ),
        ({"githubToken": PLATFORM_TOKEN}, "platformToken", "githubToken"),
    ],
)
def test_credentials_of_different_reach_are_never_one_value(
    overrides: dict[str, str], key: str, wider: str
) -> None:
    """Each credential is written where its own reach stops: `flux-apps` is copied into every
    tenant namespace, image automation's push token into apps-update alone. The same value under
    a narrower key would put the wider credential there."""
    expires = {"appsPushTokenExpires": "2099-01-01"} if "appsPushToken" in overrides else {}
    problem = only(rejected("staging", {**overrides, **expires}), key)
    assert f"holds the same value as {wider}" in problem, problem
    assert "allowed: " in problem, problem


def test_distinct_credentials_pass() -> None:
    stack_run(
        "staging",
        {
            "imageAutomation": "true",
            "appsPushToken": _OTHER_TOKEN,
            "appsPushTokenExpires": "2099-01-01",
        },
    )


def test_the_second_apps_key_is_never_the_first_apps_key() -> None:
    """Tenant namespaces hold the second App's key; the first App's reaches the platform
    repository and bypasses its rule. The same key re-wrapped (other line breaks) is the same."""
    from tests.helpers import APP_KEY, TOKEN_KEYS, app_config  # noqa: PLC0415

    head, *body, tail = APP_KEY.strip().splitlines()
    joined = "".join(body)
    rewrapped = "\n".join([head, *(joined[i : i + 76] for i in range(0, len(joined), 76)), tail])
    config = app_config(githubAppsPrivateKey=rewrapped)
    problem = only(rejected("staging", config, TOKEN_KEYS), "githubAppsPrivateKey")
    assert "holds the same value as githubAppPrivateKey" in problem, problem


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"spokes": json.dumps([spoke("staging-1")])}, "spoke staging-1 is the hub itself"),
        (
            {"spokes": json.dumps([spoke("a").replace("context=a", "context=staging")])},
            "spoke a is the hub itself",
        ),
        (
            {
                "spokes": json.dumps(
                    [spoke("a"), spoke("b").replace("b.example.com:6443", "A.example.com:6443")]
                )
            },
            "spoke b has the API server of spoke a",
        ),
        (
            {
                "spokes": json.dumps(
                    [
                        spoke("a").replace("a.example.com:6443", "a.example.com"),
                        spoke("b").replace("b.example.com:6443", "a.example.com:443"),
                    ]
                )
            },
            "spoke b has the API server of spoke a",
        ),
    ],
)
def test_a_spoke_is_never_the_hub_nor_another_spokes_api_server(
    overrides: dict[str, str], says: str
) -> None:
    """The hub's Flux has cluster-admin on the hub, and a spoke's chain prunes what it applied:
    a spoke that is the hub, or two spokes on one API server, would let one chain undo another's
    work under different accounts."""
    problems = rejected("staging", overrides)
    assert any(p.startswith("d1-fleet:spokes:") and says in p for p in problems), problems


# Boundaries and branches of each check, read from the problems the configuration check lists.

_NO_WATCHER = json.dumps([n for n in c.DEFAULT_COMPONENTS if n != "source-watcher"])


def test_a_stack_without_kube_context_or_kubeconfig_is_refused() -> None:
    assert config_problems("staging", drop=("kubeContext",)) == [
        "d1-fleet:kubeContext: set kubeContext (or kubeconfig) so this stack can only reach its "
        "own cluster"
    ]
    assert config_problems("staging", {"kubeconfig": "/srv/kube/staging"}, ("kubeContext",)) == []


def test_upsert_without_forced_field_ownership_says_why_preview_passes() -> None:
    assert config_problems("staging", {"upsertExistingObjects": "true"}) == [
        "d1-fleet:upsertExistingObjects: requires forceFieldOwnership: true: without it pulumi up "
        "fails with a server-side apply conflict on every field another manager (the flux CLI, "
        "kustomize-controller) set differently, while pulumi preview passes"
    ]


def test_upsert_with_forced_field_ownership_and_a_digest_on_an_oci_chart_pass() -> None:
    both = {"upsertExistingObjects": "true", "forceFieldOwnership": "true"}
    assert config_problems("staging", both) == []
    assert config_problems("staging", {"forceFieldOwnership": "true"}) == []
    assert config_problems("staging", {"operatorChartDigest": "sha256:" + "b" * 64}) == []


@pytest.mark.usefixtures("older_flux_lines")
def test_wait_for_termination_needs_flux_2_6() -> None:
    older = {"deletionPolicy": "WaitForTermination", "fluxComponents": _NO_WATCHER}
    assert config_problems("prod-eu", {**older, "fluxVersion": "2.6.x"}) == []
    assert config_problems("prod-eu", {**older, "fluxVersion": "2.5.x"}) == [
        "d1-fleet:deletionPolicy: WaitForTermination requires Flux 2.6 or later"
    ]
    assert config_problems("prod-eu", {"fluxComponents": _NO_WATCHER, "fluxVersion": "2.5.x"}) == []


def test_receivers_need_the_notification_controller() -> None:
    components = json.dumps([n for n in c.DEFAULT_COMPONENTS if n != "notification-controller"])
    assert config_problems("prod-eu", {"receivers": "true", "fluxComponents": components}) == [
        "d1-fleet:fluxComponents: receivers need the notification-controller component"
    ]
    assert config_problems("prod-eu", {"fluxComponents": components}) == []


@pytest.mark.parametrize("host", ["cluster.local", "hooks.cluster.local", "hooks.flux-system.svc"])
def test_a_receiver_host_in_the_cluster_domain_is_refused(host: str) -> None:
    problems = config_problems("staging", {"receivers": "true", "receiverHost": host})
    assert problems == [
        f"d1-fleet:receiverHost: {host!r} is a name inside the cluster "
        "(kubernetesDnsDomain 'cluster.local', or a Service's .svc name), which GitHub cannot "
        "reach; allowed: a public DNS name that routes to the receiver's Ingress or load balancer"
    ]


@pytest.mark.parametrize("host", ["notcluster.local", "hooks.svc.example.com", "svc.example.com"])
def test_a_receiver_host_sharing_a_suffix_with_the_cluster_domain_passes(host: str) -> None:
    assert config_problems("staging", {"receivers": "true", "receiverHost": host}) == []


def test_a_receiver_host_is_checked_only_with_receivers() -> None:
    problems = config_problems("staging", {"clusterDomain": "cluster.local"})
    assert problems == [], problems


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("receiverTokenSpecial", "-_"),
        ("receiverIngressClass", "nginx"),
        ("receiverTlsSecret", "hooks-tls"),
    ],
)
def test_receiver_keys_without_receivers_have_no_effect(key: str, value: str) -> None:
    assert config_problems("staging", {key: value}) == [
        f"d1-fleet:{key}: has no effect while receivers is false; set receivers: true, or remove "
        "the key"
    ]


def test_ingress_keys_without_the_ingress_have_no_effect() -> None:
    off = {"receivers": "true", "receiverIngress": "false"}
    assert config_problems("staging", {**off, "receiverIngressClass": "nginx"}) == [
        "d1-fleet:receiverIngressClass: has no effect while receiverIngress is false (no Ingress "
        "is declared); set it, or remove the key"
    ]
    on = {"receivers": "true", "receiverIngressClass": "nginx", "receiverTlsSecret": "hooks-tls"}
    assert config_problems("staging", on) == []


def test_switched_keys_with_their_switch_on_pass() -> None:
    sync = {
        "syncKind": "GitRepository",
        "syncUrl": "https://github.com/acme/d1-fleet.git",
        "syncRef": "refs/heads/main",
        "syncPath": "clusters/staging",
        "syncInterval": "5m",
    }
    assert config_problems("staging", sync) == []
    assert config_problems("prod-eu", {"botPushBranch": "release"}) == []
    enterprise = {
        "enterpriseToken": ENTERPRISE_TOKEN,
        "enterpriseTokenExpires": "2099-01-01",
        "enterpriseRegistry": "registry.example.com",
        "enterpriseUsername": "someone",
    }
    assert config_problems("staging", enterprise) == []
    author = {"automationAuthorName": "Bot", "automationAuthorEmail": "bot@example.com"}
    assert config_problems("staging", author) == []
    assert config_problems("prod-eu", {"automationAuthorEmail": "bot@example.com"}) == [
        "d1-fleet:automationAuthorEmail: has no effect while imageAutomation is false; set "
        "imageAutomation: true, or remove the key"
    ]


def test_the_push_branch_is_reported_by_its_full_message() -> None:
    assert config_problems("staging", {"botPushBranch": "release"}) == [
        "d1-fleet:botPushBranch: has no effect while botPushAccess is none (no branch rule is "
        "declared); set botPushAccess, or remove the key"
    ]
    assert config_problems("staging", {"syncInterval": "5m"}) == [
        "d1-fleet:syncInterval: has no effect without syncKind (the FluxInstance does not sync); "
        "set the sync keys, or remove the key"
    ]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"platformComponents": '["monitoring"]', "tenants": "[]"}, "platformComponents"),
        ({"platformComponents": "[]", "tenants": '["backend"]'}, "tenants"),
        (
            {"platformComponents": "[]", "tenants": "[]", "imageAutomation": "true"},
            "imageAutomation",
        ),
        (
            {
                "platformComponents": "[]",
                "tenants": "[]",
                "syncKind": "GitRepository",
                "syncUrl": "https://github.com/acme/d1-fleet.git",
                "syncRef": "refs/heads/main",
                "syncPath": "clusters/prod",
            },
            "syncKind",
        ),
    ],
)
def test_kustomize_controller_is_missing_for_each_kind_of_kustomization(
    overrides: dict[str, str], reason: str
) -> None:
    only_source = {"fluxComponents": '["source-controller"]', **overrides}
    assert config_problems("prod-eu", only_source) == [
        f"d1-fleet:fluxComponents: kustomize-controller is missing; the stack declares the "
        f"Kustomizations of {reason}, which kustomize-controller serves; allowed: a list that "
        "includes kustomize-controller"
    ]


def test_a_stack_without_kustomizations_needs_only_source_controller() -> None:
    bare = {"fluxComponents": '["source-controller"]', "platformComponents": "[]", "tenants": "[]"}
    assert config_problems("prod-eu", bare) == []


def test_runtime_keys_sharing_a_prefix_are_distinct() -> None:
    info = '["REGION=eu", "REGION_NAME=europe", "TIER=a=b"]'
    assert config_problems("staging", {"runtimeInfo": info}) == []


def test_a_runtime_key_is_what_comes_before_the_first_equals_sign() -> None:
    assert config_problems("staging", {"runtimeInfo": '["A=x=1", "A=y=2"]'}) == [
        "d1-fleet:runtimeInfo: key 'A' is set more than once; allowed: each key once"
    ]


def test_missing_controllers_name_every_kind_that_needs_them() -> None:
    assert config_problems("prod-eu", {"fluxComponents": '["kustomize-controller"]'}) == [
        "d1-fleet:fluxComponents: source-controller is missing; the stack declares GitRepository "
        "flux-infra, which source-controller serves; allowed: a list that includes "
        "source-controller"
    ]
    assert config_problems("prod-eu", {"fluxComponents": '["source-controller"]'}) == [
        "d1-fleet:fluxComponents: kustomize-controller is missing; the stack declares the "
        "Kustomizations of platformComponents, tenants, which kustomize-controller serves; "
        "allowed: a list that includes kustomize-controller"
    ]


@pytest.mark.parametrize(
    "registry", ["ghcr.io/fluxcd/", "fluxcd", "ghcr.io/controlplaneio-fluxcd/distroless-fips"]
)
def test_known_registries_need_no_variant(registry: str) -> None:
    assert config_problems("staging", {"fluxRegistry": registry}) == []


@pytest.mark.parametrize(
    "registry", ["ghcr.io/fluxcd-mirror", "ghcr.io/fluxcd/extra/", "MIRROR.EXAMPLE.BOX"]
)
def test_registries_sharing_a_known_prefix_need_a_variant(registry: str) -> None:
    assert config_problems("staging", {"fluxRegistry": registry}) == [
        f"d1-fleet:fluxRegistry: {registry.rstrip('/')!r} is not a registry the Flux Operator "
        "knows the variant of; allowed: fluxcd, ghcr.io/fluxcd, ghcr.io/controlplaneio-fluxcd/"
        "alpine, ghcr.io/controlplaneio-fluxcd/distroless, ghcr.io/controlplaneio-fluxcd/"
        "distroless-fips, 709825985650.dkr.ecr.us-east-1.amazonaws.com/controlplane/fluxcd, or "
        "any registry together with fluxVariant"
    ]


@pytest.mark.usefixtures("older_flux_lines")
def test_source_watcher_and_image_automation_pass_from_their_flux_version() -> None:
    assert config_problems("staging", {"fluxVersion": "2.7.x"}) == []
    problems = config_problems("prod-eu", {"fluxVersion": "2.6.x"})
    assert problems == [
        "d1-fleet:fluxVersion: fluxVersion '2.6.x' is too old for source-watcher (in "
        "fluxComponents by default), which needs Flux 2.7 or later; allowed: fluxVersion 2.7.x "
        "or later, or fluxComponents without source-watcher"
    ]
    chosen = config_problems(
        "prod-eu",
        {
            "fluxVersion": "2.6.x",
            "fluxComponents": '["source-controller", "kustomize-controller", "source-watcher"]',
        },
    )
    assert chosen == [
        "d1-fleet:fluxComponents: fluxVersion '2.6.x' is too old for source-watcher (in "
        "fluxComponents), which needs Flux 2.7 or later; allowed: fluxVersion 2.7.x or later, "
        "or fluxComponents without source-watcher"
    ]


@pytest.mark.parametrize("name", ["kubernetes", "defaults", "flux", "apps-update"])
def test_tenants_sharing_a_prefix_with_reserved_names_pass(name: str) -> None:
    assert config_problems("prod-eu", {"tenants": json.dumps([name])}) == []


@pytest.mark.parametrize("name", ["default", "flux-system", "kube-public"])
def test_reserved_tenant_names_are_refused(name: str) -> None:
    assert config_problems("prod-eu", {"tenants": json.dumps([name])}) == [
        f"d1-fleet:tenants: tenant {name!r} is a reserved namespace (flux-system, default and "
        "kube-* are not allowed)"
    ]


def test_the_image_automation_namespace_is_no_tenant_with_image_automation() -> None:
    assert config_problems("staging", {"tenants": '["backend", "apps-update"]'}) == [
        "d1-fleet:tenants: tenant 'apps-update' is the image automation namespace"
    ]


def test_a_component_name_of_50_characters_passes_and_51_is_refused() -> None:
    assert config_problems("prod-eu", {"platformComponents": json.dumps(["a" * 50])}) == []
    long = "a" * 51
    assert config_problems("prod-eu", {"platformComponents": json.dumps([long])}) == [
        f"d1-fleet:platformComponents: {long!r}: allowed: 'name' or 'name: dependency, ...' with "
        "DNS-1123 label names of at most 50 characters"
    ]
    dep = json.dumps(["a", f"b: {long}"])
    assert len(config_problems("prod-eu", {"platformComponents": dep})) == 1


def _components(entries: list[str]) -> list[str]:
    return config_problems("prod-eu", {"platformComponents": json.dumps(entries)})


def test_shared_and_ordered_dependencies_are_no_cycle() -> None:
    assert _components(["a: b, c", "b: d", "c: d", "d"]) == []
    assert _components(["d", "c: d", "b: c, d", "a: b"]) == []


@pytest.mark.parametrize(
    ("entries", "shown"),
    [
        (["a: a"], "a -> a"),
        (["x: a", "a: b", "b: a"], "a -> b -> a"),
        (["a", "a: b", "b: a"], "a -> b -> a"),
        (["d", "a: b", "b: c, d", "c: a"], "a -> b -> c -> a"),
    ],
)
def test_a_dependency_cycle_is_shown_from_where_it_closes(entries: list[str], shown: str) -> None:
    problems = _components(entries)
    assert f"d1-fleet:platformComponents: dependency cycle: {shown}" in problems, problems


def test_a_component_listed_twice_keeps_the_dependencies_of_both_entries() -> None:
    assert _components(["a: b", "a", "b: a"]) == [
        "d1-fleet:platformComponents: component 'a' is listed more than once",
        "d1-fleet:platformComponents: dependency cycle: a -> b -> a",
    ]


def test_a_bad_component_entry_hides_none_of_the_entries_after_it() -> None:
    assert _components(["Bad Entry", "c: missing", "d"]) == [
        "d1-fleet:platformComponents: 'Bad Entry': allowed: 'name' or 'name: dependency, ...' "
        "with DNS-1123 label names of at most 50 characters",
        "d1-fleet:platformComponents: component 'c' depends on 'missing', which is not a "
        "configured component",
    ]


def test_a_cycle_after_components_already_searched_is_found() -> None:
    problems = _components(["a: b", "b", "c: d", "d: c"])
    assert problems == ["d1-fleet:platformComponents: dependency cycle: c -> d -> c"]


def test_a_dependency_on_an_unknown_component_is_named_without_a_cycle() -> None:
    assert _components(["a: missing", "b: a"]) == [
        "d1-fleet:platformComponents: component 'a' depends on 'missing', which is not a "
        "configured component"
    ]


def test_a_cycle_of_seven_components_is_shown_whole_and_of_eight_cut() -> None:
    seven = [f"c{i}: c{(i + 1) % 7}" for i in range(7)]
    assert _components(seven)[-1] == (
        "d1-fleet:platformComponents: dependency cycle: "
        "c0 -> c1 -> c2 -> c3 -> c4 -> c5 -> c6 -> c0"
    )
    eight = [f"c{i}: c{(i + 1) % 8}" for i in range(8)]
    assert _components(eight)[-1] == (
        "d1-fleet:platformComponents: dependency cycle: "
        "c0 -> c1 -> c2 -> c3 -> ... -> c7 -> c0 (8 components)"
    )


def test_a_spoke_token_is_accepted_on_its_due_day_and_refused_the_day_after() -> None:
    today = date.today()
    due = spoke("a", today - timedelta(days=90))
    assert config_problems("staging", {"spokes": json.dumps([due])}, today=today) == []
    late = config_problems(
        "staging", {"spokes": json.dumps([due])}, today=today + timedelta(days=1)
    )
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert late == [
        f"d1-fleet:spokes: spoke a: its token was due for renewal on {today.isoformat()} "
        f"(spokeTokenMaxAgeDays 90); renew it: set rotated={tomorrow} in its entry and run "
        "pulumi up"
    ]


def test_a_spoke_rotated_today_passes_and_tomorrow_is_refused() -> None:
    today = date.today()
    assert config_problems("staging", {"spokes": json.dumps([spoke("a", today)])}) == []
    tomorrow = today + timedelta(days=1)
    problems = config_problems("staging", {"spokes": json.dumps([spoke("a", tomorrow)])})
    assert problems == [
        f"d1-fleet:spokes: spoke a: rotated {tomorrow.isoformat()} is in the future; allowed: the "
        "date the token was last renewed (today when renewing it)"
    ]


@pytest.mark.parametrize("name", ["kubernetes", "defaults", "backends"])
def test_spoke_names_sharing_a_prefix_with_the_hubs_namespaces_pass(name: str) -> None:
    assert config_problems("staging", {"spokes": json.dumps([spoke(name)])}) == []


def test_the_image_automation_namespace_is_no_spoke_with_image_automation() -> None:
    entries = json.dumps([spoke("apps-update")])
    (problem,) = config_problems("staging", {"spokes": entries})
    assert problem.startswith("d1-fleet:spokes: spoke 'apps-update' names a namespace the hub")
    assert config_problems("prod-eu", {"spokes": entries}) == []


def test_a_spoke_listed_thrice_is_reported_once() -> None:
    assert config_problems("staging", {"spokes": json.dumps([spoke("a")] * 3)}) == [
        "d1-fleet:spokes: spoke 'a' is listed more than once; allowed: each spoke once"
    ]


def test_spokes_need_each_controller_of_their_chain() -> None:
    entries = json.dumps([spoke("a")])
    problems = config_problems(
        "staging", {"spokes": entries, "fluxComponents": '["helm-controller"]'}
    )
    spoke_problems = [p for p in problems if "the spokes' chain" in p]
    assert spoke_problems == [
        f"d1-fleet:fluxComponents: {name} is missing; the spokes' chain needs it; allowed: a list "
        f"that includes {name}"
        for name in ("source-controller", "kustomize-controller")
    ], problems
    assert (
        config_problems(
            "staging", {"fluxComponents": '["source-controller", "kustomize-controller"]'}
        )
        == []
    )


@pytest.mark.parametrize(
    "argument",
    [
        "--no-cross-namespace-refs",
        "--no-cross-namespace-refs=1",
        "--no-remote-bases=T",
        "--no-remote-bases=TRUE",
        "--default-service-account=default",
    ],
)
def test_a_patch_repeating_the_lockdown_values_passes(argument: str) -> None:
    assert config_problems("staging", {"fluxPatches": _args_patch(argument)}) == []


@pytest.mark.parametrize(
    ("argument", "flag", "value", "allowed"),
    [
        ("--no-remote-bases=0", "no-remote-bases", "0", "true"),
        ("--no-cross-namespace-refs=yes", "no-cross-namespace-refs", "yes", "true"),
        ("--default-service-account=", "default-service-account", "", "default"),
        ("--default-service-account=defaults", "default-service-account", "defaults", "default"),
    ],
)
def test_a_patch_overriding_a_lockdown_flag_names_the_entry_and_value(
    argument: str, flag: str, value: str, allowed: str
) -> None:
    assert config_problems("staging", {"fluxPatches": _args_patch(argument)}) == [
        f"d1-fleet:fluxPatches[0]: sets --{flag}={value}, overriding the tenant lockdown's "
        f"(multitenant: true); allowed: --{flag} only with the lockdown's value ({allowed}), or "
        "not at all"
    ]


def test_the_default_service_account_follows_the_tenant_setting() -> None:
    chosen = {"tenantDefaultServiceAccount": "tenant-sa"}
    argument = _args_patch("--default-service-account=tenant-sa")
    assert config_problems("staging", {**chosen, "fluxPatches": argument}) == []
    (problem,) = config_problems(
        "staging", {**chosen, "fluxPatches": _args_patch("--default-service-account=default")}
    )
    assert "only with the lockdown's value (tenant-sa)" in problem


def test_the_lockdown_switches_are_refused_with_their_full_reason() -> None:
    assert config_problems("staging", {"multitenant": "false", "networkPolicy": "false"}) == [
        "d1-fleet:multitenant: false lifts Flux's tenant lockdown: a tenant's Flux objects could "
        "use flux-system's sources and credentials (an ImageUpdateAutomation pushing to the "
        "platform repository) and run as the controllers; allowed: true",
        "d1-fleet:networkPolicy: false drops the network policies that keep tenant pods away "
        "from the Flux controllers; allowed: true",
    ]


def test_every_credential_sharing_a_wider_ones_value_is_named_once() -> None:
    overrides = {
        "enterpriseToken": APPS_TOKEN,
        "enterpriseTokenExpires": "2099-01-01",
        "githubToken": PLATFORM_TOKEN,
    }
    assert config_problems("prod-eu", overrides) == [
        "d1-fleet:platformToken: holds the same value as githubToken, which reaches more (each is "
        "written where its own reach is meant to stop); allowed: a credential of its own",
        "d1-fleet:enterpriseToken: holds the same value as appsToken, which reaches more (each is "
        "written where its own reach is meant to stop); allowed: a credential of its own",
    ]


def test_a_spoke_reached_like_the_hub_only_in_both_fields_is_the_hub() -> None:
    own = spoke("a").replace("context=a", "context=staging")
    assert config_problems("staging", {"spokes": json.dumps([own + ", kubeconfig=/k/a"])}) == []
    assert config_problems("staging", {"spokes": json.dumps([own])}) == [
        "d1-fleet:spokes: spoke a is the hub itself (its name is clusterName, or Pulumi reaches "
        "it with the hub's kubeContext and kubeconfig); allowed: another cluster"
    ]
    problems = config_problems(
        "staging", {"spokes": json.dumps([spoke("prod-eu")]), "clusterName": "prod-eu"}
    )
    assert problems == [
        "d1-fleet:spokes: spoke prod-eu is the hub itself (its name is clusterName, or Pulumi "
        "reaches it with the hub's kubeContext and kubeconfig); allowed: another cluster"
    ]


def test_spokes_on_other_hosts_or_ports_are_other_api_servers() -> None:
    a = spoke("a").replace("a.example.com:6443", "api.example.com:6443")
    b = spoke("b").replace("b.example.com:6443", "api.example.com:7443")
    assert config_problems("staging", {"spokes": json.dumps([a, b])}) == []
    assert config_problems("staging", {"spokes": json.dumps([spoke("a"), spoke("b")])}) == []


def test_a_server_without_a_port_is_the_same_api_server_on_443() -> None:
    a = spoke("a").replace("a.example.com:6443", "api.example.com")
    b = spoke("b").replace("b.example.com:6443", "API.example.com:443")
    assert config_problems("staging", {"spokes": json.dumps([a, b])}) == [
        "d1-fleet:spokes: spoke b has the API server of spoke a (https://API.example.com:443); "
        "allowed: one spoke per API server"
    ]


def test_a_topics_checks_report_in_the_order_declared_and_only_with_valid_inputs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = base.Rules()

    @table.reads("tenants")
    def first(v: base.Values) -> Iterator[base.Problem]:
        yield ("tenants", f"{len(v['tenants'])} tenants")

    @table.reads("tenants", "flux_version")
    def skipped(v: base.Values) -> Iterator[base.Problem]:
        yield ("fluxVersion", "not reached: fluxVersion was invalid")

    @table.reads()
    def last(v: base.Values) -> Iterator[base.Problem]:
        yield ("clusterName", "last")

    monkeypatch.setattr(rules, "CHECKS", tuple(table.checks))
    values = base.Values({"tenants": ("a", "b")}, {}, date.today())
    assert rules.run(values) == [("tenants", "2 tenants"), ("clusterName", "last")]


def test_a_key_counts_as_chosen_only_when_it_differs_from_its_default() -> None:
    values = base.Values({"tenants": ("a",), "network_policy": True}, {"tenants": ()}, date.today())
    assert values.changed("tenants")
    assert not values.changed("flux_version")
    assert values.changed("network_policy")  # no default: whatever is set was chosen
    assert not base.Values({"tenants": ()}, {"tenants": ()}, date.today()).changed("tenants")
    assert values.has("tenants", "network_policy")
    assert not values.has("tenants", "flux_version")


def test_duplicates_are_named_once_each_in_the_order_of_the_checks() -> None:
    overrides = {
        "tenants": '["a", "b", "a", "b", "a"]',
        "fluxComponents": json.dumps([*c.DEFAULT_COMPONENTS[:2], *c.DEFAULT_COMPONENTS]),
        "runtimeInfo": '["A=1", "AB=2", "A=3"]',
    }
    first, second = c.DEFAULT_COMPONENTS[:2]
    assert config_problems("staging", overrides) == [
        f"d1-fleet:fluxComponents: component {first!r} is listed more than once",
        f"d1-fleet:fluxComponents: component {second!r} is listed more than once",
        "d1-fleet:runtimeInfo: key 'A' is set more than once; allowed: each key once",
        "d1-fleet:tenants: tenant 'a' is listed more than once",
        "d1-fleet:tenants: tenant 'b' is listed more than once",
    ]


@pytest.mark.parametrize("name", ["backend", "kube-system", "default"])
def test_a_spoke_named_like_a_hub_namespace_is_refused_with_what_is_allowed(name: str) -> None:
    assert config_problems("staging", {"spokes": json.dumps([spoke(name)])}) == [
        f"d1-fleet:spokes: spoke {name!r} names a namespace the hub already uses (flux-system, "
        "default, kube-*, a tenant, apps-update); allowed: another DNS-1123 label"
    ]


def test_a_digest_on_a_local_chart_and_registry_keys_without_a_token_say_why() -> None:
    local = {
        "operatorChart": "/srv/charts/flux-operator",
        "operatorChartDigest": "sha256:" + "b" * 64,
    }
    assert config_problems("staging", local) == [
        "d1-fleet:operatorChartDigest: pins an OCI manifest, so operatorChart must be an oci:// "
        "repository, not a local folder"
    ]
    assert config_problems("staging", {"enterpriseUsername": "someone"}) == [
        "d1-fleet:enterpriseUsername: has no effect without enterpriseToken (no registry login is "
        "declared); set the token (FLEET_ENTERPRISE_TOKEN), or remove the key"
    ]


@pytest.mark.usefixtures("older_flux_lines")
def test_a_flux_version_too_old_for_the_defaults_blames_the_version_for_each() -> None:
    assert config_problems("staging", {"fluxVersion": "2.6.x"}) == [
        "d1-fleet:fluxVersion: fluxVersion '2.6.x' is too old for source-watcher (in "
        "fluxComponents by default), which needs Flux 2.7 or later; allowed: fluxVersion 2.7.x "
        "or later, or fluxComponents without source-watcher",
        "d1-fleet:imageAutomation: true needs Flux 2.7 or later (ImageUpdateAutomation "
        "image.toolkit.fluxcd.io/v1), but fluxVersion is '2.6.x'; allowed: fluxVersion 2.7.x or "
        "later, or imageAutomation false",
    ]


def test_a_receiver_host_derived_from_the_cluster_domain_blames_the_cluster_domain() -> None:
    problems = config_problems("staging", {"receivers": "true", "clusterDomain": "cluster.local"})
    assert problems == [
        "d1-fleet:clusterDomain: 'flux-webhook.cluster.local' is a name inside the cluster "
        "(kubernetesDnsDomain 'cluster.local', or a Service's .svc name), which GitHub cannot "
        "reach; allowed: a public DNS name that routes to the receiver's Ingress or load balancer"
    ]


def test_the_second_apps_key_rewrapped_is_still_the_first_apps_key() -> None:
    head, *body, tail = APP_KEY.strip().splitlines()
    joined = "".join(body)
    rewrapped = "\n".join([head, *(joined[i : i + 76] for i in range(0, len(joined), 76)), tail])
    config = app_config(githubAppsPrivateKey=rewrapped)
    assert config_problems("staging", config, TOKEN_KEYS) == [
        "d1-fleet:githubAppsPrivateKey: holds the same value as githubAppPrivateKey, which "
        "reaches more (each is written where its own reach is meant to stop); allowed: a "
        "credential of its own"
    ]
    assert config_problems("staging", app_config(), TOKEN_KEYS) == []
