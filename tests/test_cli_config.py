"""Pulumi.yaml and every stack config, checked the way the Pulumi CLI checks them before a run.

The mock runtime skips the CLI's project schema and its merge of stack config with the project's
`config:` block, so a stack the CLI refuses would still pass the other tests. Here: Pulumi.yaml
against the CLI's own schema (pulumi v3.259.0), then the merge rules for each committed stack, a
stack written as the README's "Adding a cluster" says and the config the ephemeral fleet writes.
Each planted defect must be reported with the CLI's wording.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleet import cli
from fleet.program.config import keys
from fleet.tools.ephemeral.overrides import ClusterTarget, load_base, read_tokens
from fleet.tools.ephemeral.runner import plan
from fleet.tools.offline import cli_config as cc
from fleet.tools.offline import mock, schemas
from tests.helpers import ROOT, doc

SECRETS = frozenset(f"d1-fleet:{key}" for key in keys.SECRET_KEYS)
TOKEN_ENV = {
    "FLEET_PLATFORM_TOKEN": "github_pat_" + "P" * 40,
    "FLEET_PLATFORM_TOKEN_EXPIRES": "2099-01-31",
    "FLEET_APPS_TOKEN": "github_pat_" + "A" * 82,
    "FLEET_APPS_TOKEN_EXPIRES": "2099-01-31",
    "FLEET_APPS_PUSH_TOKEN": "github_pat_" + "W" * 82,
    "FLEET_APPS_PUSH_TOKEN_EXPIRES": "2099-01-31",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    # Fetched and verified into the cache when FLEET_SCHEMAS_DIR is unset; fails, never skips.
    document = json.loads((schemas.schemas_dir() / "pulumi" / "project.json").read_text())
    assert isinstance(document, dict)
    return document


def project_document(text: str | None = None) -> dict[str, Any]:
    document = cc.load_yaml(text if text is not None else (ROOT / "Pulumi.yaml").read_text())
    assert isinstance(document, dict)
    return document


@pytest.fixture(scope="module")
def project(schema: dict[str, Any]) -> cc.Project:
    return cc.load_project(project_document(), schema)


def stack_file(name: str) -> dict[str, Any]:
    return cc.stack_file_config(ROOT / f"Pulumi.{name}.yaml")


def problems(project: cc.Project, name: str, config: dict[str, Any]) -> list[str]:
    return cc.merge(project, name, config, secret_keys=SECRETS)[1]


def test_pulumi_yaml_passes_the_cli_project_schema(schema: dict[str, Any]) -> None:
    assert cc.schema_problems(project_document(), schema) == []


@pytest.mark.parametrize("stack", mock.known_stacks(ROOT))
def test_every_committed_stack_passes_the_cli_merge_rules(stack: str, project: cc.Project) -> None:
    assert problems(project, stack, stack_file(stack)) == []


def readme_new_stack() -> dict[str, Any]:
    section = doc("first-run.md").split("## Adding a cluster", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "README's 'Adding a cluster' shows a stack file"
    document = cc.load_yaml(block.group(1))
    assert isinstance(document, dict)
    return dict(document["config"])


def test_a_stack_written_as_the_readme_says_passes(project: cc.Project) -> None:
    config = readme_new_stack()
    assert problems(project, "prod-us", config) == []
    merged, _ = cc.merge(project, "prod-us", config)
    assert merged["d1-fleet:fluxVersion"].text == "2.7.x", "the README pins the fleet's line"
    assert merged["d1-fleet:tokenWarningDays"].text == "14", "defaults are applied"


def test_the_config_the_ephemeral_fleet_writes_passes(project: cc.Project) -> None:
    [item] = plan(
        load_base(ROOT, "staging"),
        prefix="eph",
        run_id="7-1",
        base_stack="staging",
        targets=[ClusterTarget("kind-a")],
        tokens=read_tokens(TOKEN_ENV),
        created=datetime.now(UTC),
    )
    # As save_stack_settings writes it: the plain config as YAML, no token among it.
    written = cc.load_yaml(yaml.safe_dump({"config": dict(item.config.plain)}))["config"]
    assert not SECRETS & set(written)
    assert problems(project, item.name, written) == []


def test_offline_runs_see_the_defaults_the_cli_applies() -> None:
    config = mock.stack_config(ROOT, "staging")
    assert config["d1-fleet:tokenWarningDays"] == "14"
    assert config["d1-fleet:multitenant"] == "true"
    assert config["d1-fleet:kubeconfig"] == ""
    assert json.loads(config["d1-fleet:tenants"]) == ["backend", "frontend"]
    assert config["d1-fleet:fluxVersion"] == "2.7.x", "the stack's own value wins"


# Planted defects, each reported with the CLI's wording.


def test_a_missing_required_key(project: cc.Project) -> None:
    config = {k: v for k, v in stack_file("staging").items() if k != "d1-fleet:clusterName"}
    assert problems(project, "staging", config) == [
        "Stack 'staging' is missing configuration value 'd1-fleet:clusterName'"
    ]
    del config["d1-fleet:githubOwner"], config["d1-fleet:gitBranch"]
    assert problems(project, "staging", config) == [
        "Stack 'staging' is missing configuration values "
        "'d1-fleet:clusterName', 'd1-fleet:gitBranch' and 'd1-fleet:githubOwner'"
    ]


def test_required_keys_are_exactly_the_ones_without_a_default(project: cc.Project) -> None:
    [message] = problems(project, "empty", {})
    assert message == (
        "Stack 'empty' is missing configuration values 'd1-fleet:clusterDomain', "
        "'d1-fleet:clusterName', 'd1-fleet:environment', 'd1-fleet:gitBranch', "
        "'d1-fleet:githubOwner' and 'd1-fleet:operatorChartVersion'"
    )


def test_descriptions_saying_default_do_not_count(schema: dict[str, Any]) -> None:
    # Without `default:`, every optional key is required again, whatever its description says.
    document = project_document()
    for spec in document["config"].values():
        spec.pop("default", None)
    [message] = problems(cc.load_project(document, schema), "staging", stack_file("staging"))
    assert message.startswith("Stack 'staging' is missing configuration values ")
    assert "'d1-fleet:appsRepository'" in message
    assert message.count("'d1-fleet:") > 30


def test_a_token_in_plain_text(project: cc.Project) -> None:
    config = {**stack_file("staging"), "d1-fleet:platformToken": TOKEN_ENV["FLEET_PLATFORM_TOKEN"]}
    assert problems(project, "staging", config) == [
        "Stack 'staging' with configuration key 'd1-fleet:platformToken' must be encrypted as it's secret"
    ]
    encrypted = {**config, "d1-fleet:platformToken": {"secure": "v1:AAAA"}}
    assert problems(project, "staging", encrypted) == []


def test_a_declared_secret_with_a_default_is_merged_in_plain_text(schema: dict[str, Any]) -> None:
    # Why the optional tokens are not declared: the CLI writes the default unencrypted, then refuses it.
    document = project_document()
    document["config"]["d1-fleet:githubToken"] = {"type": "string", "secret": True, "default": ""}
    declared = cc.load_project(document, schema)
    assert cc.merge(declared, "staging", stack_file("staging"))[1] == [
        "Stack 'staging' with configuration key 'd1-fleet:githubToken' must be encrypted as it's secret"
    ]


def test_an_integer_that_is_not_one(project: cc.Project) -> None:
    base = stack_file("staging")
    bad = cc.load_yaml("d1-fleet:tokenWarningDays: 14.5\n")
    assert problems(project, "staging", {**base, **bad}) == [
        "Stack 'staging' with configuration key 'd1-fleet:tokenWarningDays' must be of type 'integer'"
    ]
    for good in ("14", "14.0", "'14'", "-3"):
        value = cc.load_yaml(f"d1-fleet:tokenWarningDays: {good}\n")
        assert problems(project, "staging", {**base, **value}) == [], good


def test_a_boolean_that_is_not_one(project: cc.Project) -> None:
    base = stack_file("staging")
    for bad in ("yes", "'True'", "1", "on"):
        value = cc.load_yaml(f"d1-fleet:multitenant: {bad}\n")
        assert problems(project, "staging", {**base, **value}) == [
            "Stack 'staging' with configuration key 'd1-fleet:multitenant' must be of type 'boolean'"
        ], bad
    for good in ("true", "false", "True", "'false'"):
        value = cc.load_yaml(f"d1-fleet:multitenant: {good}\n")
        assert problems(project, "staging", {**base, **value}) == [], good


def test_an_array_whose_items_have_the_wrong_type(project: cc.Project) -> None:
    config = {**stack_file("staging"), **cc.load_yaml("d1-fleet:tenants: [backend, 12]\n")}
    assert problems(project, "staging", config) == [
        "Stack 'staging' with configuration key 'd1-fleet:tenants' must be of type 'array<string>'"
    ]
    config = {**stack_file("staging"), "d1-fleet:tenants": "backend"}
    assert problems(project, "staging", config) == [
        "Stack 'staging' with configuration key 'd1-fleet:tenants' must be of type 'array<string>'"
    ]


def test_a_typed_key_in_another_packages_namespace(schema: dict[str, Any]) -> None:
    document = project_document()
    document["config"]["kubernetes:context"] = {"type": "string", "description": "x"}
    with pytest.raises(cc.ProjectError) as caught:
        cc.load_project(document, schema)
    assert caught.value.problems == [
        "Configuration key 'kubernetes:context' is not namespaced by the project "
        "and should not define a type"
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"default": "x"},
            "Configuration key 'kubernetes:context' is not namespaced by the project and should "
            "not define a default value. Did you mean to use the 'value' attribute instead of 'default'?",
        ),
        (
            {"description": "x"},
            "Configuration key 'kubernetes:context' is namespaced and must provide an attribute 'value'",
        ),
    ],
)
def test_other_namespaces_take_only_a_value(
    spec: dict[str, Any], message: str, schema: dict[str, Any]
) -> None:
    document = project_document()
    document["config"]["kubernetes:context"] = spec
    with pytest.raises(cc.ProjectError) as caught:
        cc.load_project(document, schema)
    assert caught.value.problems == [message]
    document["config"]["kubernetes:context"] = {"value": "kind-a"}
    assert cc.load_project(document, schema).config["kubernetes:context"].has_value


@pytest.mark.parametrize(
    ("key", "spec", "message"),
    [
        (
            "d1-fleet:tokenWarningDays",
            {"type": "integer", "default": "two weeks"},
            "The default value specified for configuration key 'd1-fleet:tokenWarningDays' "
            "is not of the expected type 'integer'",
        ),
        (
            "d1-fleet:botTeam",
            {"type": "string", "default": 14},
            "The default value specified for configuration key 'd1-fleet:botTeam' "
            "is not of the expected type 'string'",
        ),
        (
            "d1-fleet:tenants",
            {"type": "array"},
            "The configuration key 'd1-fleet:tenants' declares an array but does not specify "
            "the underlying type via the 'items' attribute",
        ),
        (
            "d1-fleet:botTeam",
            {"type": "string", "default": "a", "value": "b"},
            "project config 'd1-fleet:botTeam' cannot have both a 'default' and 'value' attribute",
        ),
    ],
)
def test_declarations_the_cli_refuses_to_load(
    key: str, spec: dict[str, Any], message: str, schema: dict[str, Any]
) -> None:
    document = project_document()
    document["config"][key] = spec
    with pytest.raises(cc.ProjectError) as caught:
        cc.load_project(document, schema)
    assert caught.value.problems == [message]


def test_the_project_schema_rejects_an_unknown_attribute(schema: dict[str, Any]) -> None:
    document = project_document()
    document["config"]["d1-fleet:botTeam"]["required"] = True
    with pytest.raises(cc.ProjectError) as caught:
        cc.load_project(document, schema)
    [message] = caught.value.problems
    assert message.startswith("could not validate 'Pulumi.yaml': #/config/d1-fleet:botTeam")


def test_short_keys_belong_to_the_project(project: cc.Project) -> None:
    config = {
        k.removeprefix("d1-fleet:"): v for k, v in stack_file("staging").items()
    } | cc.load_yaml("multitenant: yes\n")
    assert problems(project, "staging", config) == [
        "Stack 'staging' with configuration key 'd1-fleet:multitenant' must be of type 'boolean'"
    ]


def test_pulumi_yaml_is_generated_from_the_settings_model() -> None:
    from fleet.tools.offline import project_file  # noqa: PLC0415

    assert project_file.check(ROOT) == []


def test_the_generator_reports_a_default_that_drifted(tmp_path: Path) -> None:
    from fleet.tools.offline import project_file  # noqa: PLC0415

    (tmp_path / "docs").mkdir()
    for name in ("Pulumi.yaml", "docs/configuration.md"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    path = tmp_path / "Pulumi.yaml"
    path.write_text(path.read_text().replace("default: 14\n", "default: 21\n", 1))
    assert project_file.check(tmp_path) == [
        "d1-fleet:tokenWarningDays: default is 21; the settings model and docs/configuration.md say 14"
    ]
    path.write_text(project_file.render(tmp_path))
    assert project_file.check(tmp_path) == []


def test_pulumi_yaml_command_exits_1_on_drift_and_2_without_a_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fleet.cli import main  # noqa: PLC0415

    (tmp_path / "docs").mkdir()
    for name in ("Pulumi.yaml", "docs/configuration.md"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    path = tmp_path / "Pulumi.yaml"
    path.write_text(path.read_text().replace("default: 14\n", "default: 21\n", 1))
    assert main(["pulumi-yaml", "--check", "--project-dir", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "d1-fleet:tokenWarningDays: default is 21" in captured.out
    assert "python -m fleet pulumi-yaml --write" in captured.err
    with pytest.raises(SystemExit) as caught:
        main(["pulumi-yaml", "--project-dir", str(tmp_path)])
    assert caught.value.code == 2
    assert "one of the arguments --check --write is required" in capsys.readouterr().err


def test_a_key_given_twice_in_a_stack_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI decodes stack files with gopkg.in/yaml.v3, which refuses a mapping key given twice
    (`decode.go`: "mapping key ... already defined at line N"); PyYAML alone keeps the last."""
    project = tmp_path / "p"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    stack_file = project / "Pulumi.staging.yaml"
    stack_file.write_text(
        "config:\n  d1-fleet:environment: staging\n  d1-fleet:environment: production\n"
    )
    with pytest.raises(yaml.YAMLError, match="'d1-fleet:environment' already defined at line 2"):
        cc.stack_file_config(stack_file)
    assert cli.main(["preview", "-s", "staging", "--project-dir", str(project)]) == 2
    error = capsys.readouterr().err
    assert f"{stack_file} is not valid YAML at line 3" in error
    assert "already defined at line 2" in error


def test_a_key_outside_config_is_refused(tmp_path: Path) -> None:
    """The CLI reads a stack file into `ProjectStack` (pulumi sdk/go/common/workspace/loaders.go,
    `LoadProjectStackBytes`), which has no field for any other top-level key and drops it
    silently: a config key indented one level too little would be lost."""
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = (ROOT / "Pulumi.staging.yaml").read_text()
    (tmp_path / "Pulumi.staging.yaml").write_text(text + "d1-fleet:tenants: '[\"backend\"]'\n")
    assert cc.stack_problems(tmp_path, "staging", frozenset()) == [
        "Pulumi.staging.yaml: `d1-fleet:tenants` is outside `config:`, where the Pulumi CLI "
        "ignores it; indent it under `config:`"
    ]
