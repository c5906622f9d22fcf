"""The `config:` block of Pulumi.yaml, generated from the settings model.

The Pulumi CLI treats every project key declared without `default:` as required and refuses a
stack that lacks one, so each optional key must carry its default in Pulumi.yaml, and that default
must be the program's. Generating the block from `fleet.program.config.model` keeps the two from
drifting: `python -m fleet pulumi-yaml --write` after adding or changing a key, `--check` in tests.

Descriptions are kept from the current Pulumi.yaml; a key it does not have yet takes the meaning
from the configuration table in docs/configuration.md. Secret keys are never declared (see `UNDECLARED`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, Final

import yaml

from fleet.program import conventions as c
from fleet.program.config import keys, model
from fleet.program.config.sources import TOKENS

# A declared secret key must be set, encrypted, on every stack (a `default:` would be stored in
# plain text and refused), which rules out tokens that come from the environment or are optional.
UNDECLARED: Final = keys.SECRET_KEYS
# Required by the program, but they may come from the environment (FLEET_*_TOKEN_EXPIRES), so the
# CLI must not demand them: declared with the "not set" default.
FROM_ENVIRONMENT: Final = frozenset(source.expires_key for source in TOKENS)
HEADER: Final = (
    "# Generated from fleet/program/config/model.py by `python -m fleet pulumi-yaml --write`.\n"
    "# Keys without `default:` are required: the CLI names each one a stack lacks. An empty string\n"
    "# means not set. The secret keys platformToken, appsToken, enterpriseToken, githubToken,\n"
    "# githubAppPrivateKey, githubAppsPrivateKey and appsPushToken are deliberately not declared:\n"
    "# set them with `pulumi config set --secret` or export FLEET_PLATFORM_TOKEN, FLEET_APPS_TOKEN,\n"
    "# FLEET_ENTERPRISE_TOKEN, GITHUB_TOKEN, FLEET_GITHUB_APP_PRIVATE_KEY,\n"
    "# FLEET_GITHUB_APPS_PRIVATE_KEY, FLEET_APPS_PUSH_TOKEN (docs/first-run.md, Tokens).\n"
)


class ProjectFileError(ValueError):
    """Pulumi.yaml cannot be generated (a key has no description anywhere)."""


def key(name: str) -> str:
    return f"{c.PROJECT}:{name}"


def pulumi_default(name: str) -> tuple[bool, Any]:
    """(has a default, the default as Pulumi.yaml declares it) for one settings key."""
    field = model.Settings.model_fields[_field_name(name)]
    if name in FROM_ENVIRONMENT:
        return True, ""
    if field.is_required():
        return False, None
    value = field.default
    if value is None:
        return True, ""
    if isinstance(value, Enum):
        return True, value.value
    if isinstance(value, tuple):
        return True, [item.value if isinstance(item, Enum) else item for item in value]
    return True, value


def declarations(descriptions: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Every declared key (full name) with its type, items, description and default."""
    declared: dict[str, dict[str, Any]] = {}
    missing: list[str] = []
    for name, kind in keys.config_keys().items():
        if name in UNDECLARED:
            continue
        entry: dict[str, Any] = {"type": kind}
        if kind == "array":
            entry["items"] = {"type": "string"}
        description = descriptions.get(name)
        if not description:
            missing.append(name)
        entry["description"] = description
        has_default, default = pulumi_default(name)
        if has_default:
            entry["default"] = default
        declared[key(name)] = entry
    if missing:
        raise ProjectFileError(
            "no description for "
            + ", ".join(missing)
            + ": add a row to the table of docs/configuration.md (| `key` | type | meaning |)"
        )
    return declared


def projects(checkout: Path) -> list[Path]:
    """The project folders sharing the checkout's program: the checkout and each example that
    has its own Pulumi.yaml (examples/hub), all declaring the same `config:` block."""
    examples = sorted(p.parent for p in checkout.glob("examples/*/Pulumi.yaml"))
    return [checkout, *examples]


def descriptions(project_dir: Path) -> dict[str, str]:
    """Descriptions by short key: the meaning column of docs/configuration.md's table, else
    Pulumi.yaml's.

    That page documents every key, so it is the one source; Pulumi.yaml repeats it for
    `pulumi config` and IDEs, and `--check` reports where the two have drifted apart.
    """
    found: dict[str, str] = {}
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    for full, spec in (project.get("config") or {}).items():
        if isinstance(spec, dict) and spec.get("description"):
            found[str(full).removeprefix(f"{c.PROJECT}:")] = str(spec["description"])
    reference = project_dir / "docs" / "configuration.md"
    if reference.is_file():
        for match in re.finditer(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", reference.read_text(), re.M):
            found[match.group(1)] = match.group(2).strip()
    return found


def render(project_dir: Path, checkout: Path | None = None) -> str:
    """Pulumi.yaml with its `config:` block generated; everything above the block is kept.

    `checkout` (default: `project_dir`) is where the descriptions come from, for an example
    project that runs the checkout's program.
    """
    text = (project_dir / "Pulumi.yaml").read_text()
    head, found, _ = text.partition("\nconfig:\n")
    if not found:
        head = text.rstrip("\n")
    block = yaml.safe_dump(
        declarations(descriptions(checkout or project_dir)),
        sort_keys=False,
        width=1_000_000,
        allow_unicode=True,
        default_flow_style=False,
    )
    indented = "".join(f"  {line}\n" for line in block.splitlines())
    comment = "".join(f"  {line}\n" for line in HEADER.splitlines())
    return f"{head}\nconfig:\n{comment}{indented}"


def check(project_dir: Path, checkout: Path | None = None) -> list[str]:
    """Why Pulumi.yaml differs from what the settings model generates (empty when it does not)."""
    expected = yaml.safe_load(render(project_dir, checkout))["config"]
    actual = (yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}).get("config") or {}
    problems = [f"{k}: not declared" for k in expected if k not in actual]
    problems += [
        f"{k}: not a settings key (or a secret key, never declared)"
        for k in actual
        if k not in expected
    ]
    for k in expected:
        if k in actual and actual[k] != expected[k]:
            for attribute in ("type", "items", "default", "secret", "value", "description"):
                want, have = expected[k].get(attribute), actual[k].get(attribute)
                if want != have:
                    problems.append(
                        f"{k}: {attribute} is {have!r}; the settings model and docs/configuration.md say {want!r}"
                    )
    if not problems and render(project_dir, checkout) != (project_dir / "Pulumi.yaml").read_text():
        problems.append("Pulumi.yaml is not formatted as generated")
    return problems


def _field_name(alias: str) -> str:
    return next(n for n, f in model.Settings.model_fields.items() if (f.alias or n) == alias)
