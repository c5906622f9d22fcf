"""The README documents every config key and starts with the two commands."""

from __future__ import annotations

import re
from pathlib import Path

from fleet.program import conventions as c
from fleet.program.config import keys, kube_access, rules
from tests.helpers import ROOT

README = (ROOT / "README.md").read_text()


def test_readme_documents_every_config_key() -> None:
    missing = [key for key in keys.config_keys() if f"| `{key}` |" not in README]
    assert not missing


def test_readme_first_screen_has_the_run_and_test_commands() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make up STACK=staging", "make test"]
    assert README.index("```sh") < 1200


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_settings_checks_table_lists_every_key_and_every_cross_key_check() -> None:
    table = (ROOT / "docs" / "settings-checks.md").read_text()
    assert "(docs/settings-checks.md)" in README
    missing = [key for key in keys.config_keys() if f"`{key}`" not in table]
    assert not missing
    ids = [check.__name__.removeprefix("_") for _, check in rules._CHECKS]
    assert [i for i in ids if f"| `{i}` |" not in table] == []


def test_settings_checks_table_states_the_supported_flux_minors() -> None:
    table = (ROOT / "docs" / "settings-checks.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| `fluxVersion` |"))
    first, last = min(c.SUPPORTED_FLUX_MINORS), max(c.SUPPORTED_FLUX_MINORS)
    assert f"with a supported minor: {first} to {last} " in row, row


def test_readme_first_run_says_in_order_what_to_set_and_what_is_said_when_missing(
    tmp_path: Path,
) -> None:
    assert README.index("## First run") > README.index("```sh")
    section = " ".join(README.split("## First run", 1)[1].split("\n## ", 1)[0].split())
    steps = [
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
        "FLEET_PLATFORM_TOKEN_EXPIRES",
        "kubeContext",
    ]
    positions = [section.index(step) for step in steps]
    assert positions == sorted(positions)
    for message in (
        "the Pulumi CLI is not on PATH",
        "PULUMI_CONFIG_PASSPHRASE_FILE) is not set",
        "no token; run",
        "set the token's expiry date (YYYY-MM-DD) in config or",
        "Stack 'staging' is missing configuration value 'd1-fleet:clusterName'",
    ):
        assert message in section, message
    # The kube context message as the program prints it, for the README's example kubeconfig.
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("contexts:\n  - name: prod-eu\n  - name: kind-dev\n")
    ((key, message),) = kube_access.problems(None, "staging", {"KUBECONFIG": str(kubeconfig)})
    shown = f"d1-fleet:{key}: {message}".replace(str(kubeconfig), "/home/you/.kube/config")
    assert shown in section


def test_readme_layout_names_every_module_of_the_program_and_the_tools() -> None:
    layout = README.split("## Repository layout", 1)[1].split("\n## ", 1)[0]
    for package in ("program", "tools"):
        modules = [p.stem for p in (ROOT / "fleet" / package).glob("*.py") if p.stem != "__init__"]
        assert len(modules) > 8
        assert [m for m in modules if f"`{m}`" not in layout] == [], package


def test_pulumi_yaml_names_every_undeclared_secret_key() -> None:
    text = (ROOT / "Pulumi.yaml").read_text()
    comments = " ".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    assert [k for k in keys.SECRET_KEYS if k not in comments] == []
    assert [k for k in keys.SECRET_KEYS if f"d1-fleet:{k}:" in text] == []
