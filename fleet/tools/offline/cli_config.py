"""The Pulumi CLI's rules for Pulumi.yaml and stack config, applied offline.

Before it runs a program, the CLI (v3.259.0) loads Pulumi.yaml, checks it against its project
schema and its own declaration rules, then merges each stack's config with the project's
`config:` block: a project key without `default:` or `value:` that the stack lacks is required;
a typed key declared `secret: true` must be encrypted; a typed key's value must parse as its type.
The mock runtime the tests use skips all of this, so this module restates those rules (from
pulumi/pulumi `pkg/workspace/config.go` and `sdk/go/common/workspace/project.go`) with the CLI's
own messages, to catch a stack the real CLI would refuse.

Not covered: ESC environments (this project uses none), config keys that are property paths
(`a.b`, `a[0]`; none are declared) and the type of encrypted values, which only the stack's
secrets provider can decrypt (a `decrypt` callback may supply them).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

TYPES: Final = ("string", "integer", "boolean", "object", "array")
_INT64 = 2**63


class ProjectError(ValueError):
    """Pulumi.yaml would not load: the CLI's messages, in the order it checks."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Items:
    type: str
    items: Items | None = None


@dataclass(frozen=True)
class Declaration:
    """One entry of Pulumi.yaml's `config:` block, after the CLI's shorthand rewrite."""

    key: str  # as written in Pulumi.yaml
    type: str | None = None
    items: Items | None = None
    default: Any = None
    has_default: bool = False
    value: Any = None
    has_value: bool = False
    secret: bool = False

    @property
    def type_name(self) -> str:
        """The type as the CLI names it in messages, e.g. `array<string>`."""
        return _type_name(self.type or "", self.items)


@dataclass(frozen=True)
class Project:
    name: str
    config: Mapping[str, Declaration]

    def full_key(self, key: str) -> str:
        """A project key as the stack key it refers to (`name` means `<project>:name`)."""
        return key if ":" in key else f"{self.name}:{key}"

    def owns(self, key: str) -> bool:
        return ":" not in key or key.startswith(f"{self.name}:")


@dataclass(frozen=True)
class StackValue:
    """A stack config value as the CLI holds it: text, or JSON text for lists and maps."""

    text: str
    is_object: bool = False
    secure: bool = False


# YAML 1.2 core schema, as the CLI's YAML library reads it: `yes`, `on` and `no` stay strings.
class _CoreLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A key given twice is refused, as gopkg.in/yaml.v3 refuses it (`decode.go`: "mapping
        key ... already defined"), where PyYAML would silently keep the last value."""
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"mapping key {key!r} already defined at line {seen[key]}",
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


_YAML11_ONLY = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")
_CoreLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML11_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_CoreLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(text: str) -> Any:
    """YAML decoded the way the CLI decodes Pulumi.yaml and stack files."""
    return yaml.load(text, Loader=_CoreLoader)


def schema_problems(
    document: Any, schema: Mapping[str, Any], file: str = "Pulumi.yaml"
) -> list[str]:
    """Pulumi.yaml against the CLI's project schema (`could not validate` errors)."""
    import jsonschema  # noqa: PLC0415 (a development requirement; render needs only runtime ones)

    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"could not validate '{file}': #/{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path)))
    ]


def load_project(document: Mapping[str, Any], schema: Mapping[str, Any] | None = None) -> Project:
    """Pulumi.yaml as the CLI loads it; raises ProjectError with the CLI's messages.

    The CLI stops at the first declaration error, in map order; here every one is reported.
    """
    if schema is not None and (problems := schema_problems(document, schema)):
        raise ProjectError(problems)
    name = str(document.get("name", ""))
    raw = document.get("config")
    declared: dict[str, Declaration] = {}
    problems = []
    for written, entry in (raw if isinstance(raw, dict) else {}).items():
        key = str(written)
        owned = ":" not in key or key.startswith(f"{name}:")
        # Shorthand: `key: value` is a default for the project's keys, a value for others.
        shorthand = {"default": entry} if owned else {"value": entry}
        spec = entry if isinstance(entry, dict) else shorthand
        declaration = Declaration(
            key=key,
            type=spec.get("type"),
            items=_items(spec.get("items")),
            default=spec.get("default"),
            has_default="default" in spec,
            value=spec.get("value"),
            has_value="value" in spec,
            secret=bool(spec.get("secret", False)),
        )
        problems.extend(_declaration_problems(declaration, owned))
        declared[key] = declaration
    if problems:
        raise ProjectError(problems)
    return Project(name, declared)


def _items(raw: Any) -> Items | None:
    if not isinstance(raw, dict):
        return None
    return Items(str(raw.get("type")), _items(raw.get("items")))


def _declaration_problems(d: Declaration, owned: bool) -> list[str]:  # noqa: PLR0911 (one per rule)
    if d.has_default and d.has_value:
        return [f"project config '{d.key}' cannot have both a 'default' and 'value' attribute"]
    if owned:
        if d.type == "array" and d.items is None:
            return [
                f"The configuration key '{d.key}' declares an array "
                "but does not specify the underlying type via the 'items' attribute"
            ]
        if d.type is not None and d.has_default and not valid(d.type, d.items, d.default):
            return [
                f"The default value specified for configuration key '{d.key}' "
                f"is not of the expected type '{d.type_name}'"
            ]
        return []
    if d.type is not None:
        return [
            f"Configuration key '{d.key}' is not namespaced by the project "
            "and should not define a type"
        ]
    if d.has_default:
        return [
            f"Configuration key '{d.key}' is not namespaced by the project and should not define "
            "a default value. Did you mean to use the 'value' attribute instead of 'default'?"
        ]
    if not d.has_value:
        return [f"Configuration key '{d.key}' is namespaced and must provide an attribute 'value'"]
    return []


def valid(type_: str, items: Items | None, value: Any) -> bool:  # noqa: PLR0911 (one per type)
    """Whether `value` (a decoded YAML/JSON value, or config text) is of the declared type."""
    if type_ == "string":
        return isinstance(value, str)
    if type_ == "integer":
        if isinstance(value, bool):
            return False
        if isinstance(value, int):
            return True
        if isinstance(value, float):
            return math.isfinite(value) and value == math.trunc(value)
        return (
            isinstance(value, str)
            and re.fullmatch(r"[+-]?[0-9]+", value) is not None
            and -_INT64 <= int(value) < _INT64
        )
    if type_ == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_ == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or items is None:
        return False
    return all(valid(items.type, items.items, item) for item in value)


def _type_name(type_: str, items: Items | None) -> str:
    if items is None:
        return type_
    return f"array<{_type_name(items.type, items.items)}>"


def _text(value: Any) -> str:
    """A YAML scalar as the CLI stores it: JSON text for booleans and numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return "" if value is None else str(value)


def _has_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_has_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secure(v) for v in value)
    return False


def stack_value(raw: Any) -> StackValue:
    """One value of a stack file's `config:` mapping, as the CLI holds it."""
    if isinstance(raw, dict) and set(raw) == {"secure"}:
        return StackValue(text="", secure=True)
    if isinstance(raw, dict | list):
        return StackValue(json.dumps(raw), is_object=True, secure=_has_secure(raw))
    return StackValue(_text(raw))


def stack_values(project: Project, config: Mapping[str, Any]) -> dict[str, StackValue]:
    """A stack file's `config:` mapping by full key (short keys belong to the project)."""
    return {
        (str(k) if ":" in str(k) else f"{project.name}:{k}"): stack_value(v)
        for k, v in config.items()
    }


def project_value(raw: Any) -> StackValue:
    """A project `default:`/`value:` as the CLI writes it into the stack config (never secure)."""
    if isinstance(raw, str | bool | int) and not isinstance(raw, float):
        return StackValue(_text(raw) if isinstance(raw, bool) else str(raw))
    return StackValue(json.dumps(raw), is_object=True)


def _missing_message(stack: str, keys: list[str]) -> str:
    keys = sorted(keys)
    if len(keys) == 1:
        listed = f"'{keys[0]}'"
    else:
        listed = ", ".join(f"'{k}'" for k in keys[:-1]) + f" and '{keys[-1]}'"
    return f"Stack '{stack}' is missing configuration {'values' if len(keys) > 1 else 'value'} {listed}"


def apply_defaults(project: Project, values: Mapping[str, str]) -> dict[str, str]:
    """Plain stack values (full keys) with the project's defaults and values for keys they lack.

    What the CLI hands a program after the merge (its `ApplyProjectConfig`), without the checks.
    """
    applied = dict(values)
    for key in sorted(project.config):
        full = project.full_key(key)
        fallback = _declared_value(project.config[key])
        if full not in applied and fallback is not None:
            applied[full] = fallback.text
    return applied


def _declared_value(declaration: Declaration) -> StackValue | None:
    """What the CLI writes for a key the stack leaves out: its `default:`, else its `value:`."""
    if declaration.has_default:
        return project_value(declaration.default)
    if declaration.has_value:
        return project_value(declaration.value)
    return None


def merge(
    project: Project,
    stack: str,
    config: Mapping[str, Any],
    *,
    secret_keys: frozenset[str] = frozenset(),
    decrypt: Callable[[StackValue], str] | None = None,
) -> tuple[dict[str, StackValue], list[str]]:
    """The stack's config after the project's defaults, and the CLI's objections to it.

    Missing required keys are reported together and stop the check, as in the CLI. The CLI then
    stops at the first secret or type error; here every one is listed, in the CLI's key order.
    `secret_keys` (full keys) get the CLI's secret rule although they are not declared: this
    project keeps its tokens out of Pulumi.yaml but still wants them encrypted when a stack file
    holds them.
    """
    merged = stack_values(project, config)
    missing: list[str] = []
    for key in sorted(project.config):
        declaration = project.config[key]
        full = project.full_key(key)
        if full in merged:
            continue
        fallback = _declared_value(declaration)
        if fallback is not None:
            merged[full] = fallback
        elif project.owns(key):
            missing.append(key)
    if missing:
        return merged, [_missing_message(stack, missing)]
    problems: list[str] = []
    declared = {project.full_key(key) for key in project.config}
    for key in sorted(secret_keys - declared):
        if key in merged and not merged[key].secure:
            problems.append(
                f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret"
            )
    for key in sorted(project.config):
        declaration = project.config[key]
        if declaration.type is None:
            continue
        value = merged.get(project.full_key(key), StackValue(""))
        if declaration.secret and not value.secure:
            problems.append(
                f"Stack '{stack}' with configuration key '{key}' must be encrypted as it's secret"
            )
            continue
        if value.secure and decrypt is None:
            continue
        text = decrypt(value) if value.secure and decrypt is not None else value.text
        content: Any = json.loads(text) if value.is_object else text
        if not valid(declaration.type, declaration.items, content):
            problems.append(
                f"Stack '{stack}' with configuration key '{key}' must be of type "
                f"'{declaration.type_name}'"
            )
    return merged, problems


def check_files(
    project_dir: Path,
    stacks: Mapping[str, Mapping[str, Any]],
    schema: Mapping[str, Any],
    *,
    secret_keys: frozenset[str] = frozenset(),
) -> list[str]:
    """Pulumi.yaml, then each named stack config, as `pulumi preview` would check them."""
    document = load_yaml((project_dir / "Pulumi.yaml").read_text())
    try:
        project = load_project(document, schema)
    except ProjectError as error:
        return error.problems
    problems: list[str] = []
    for name, config in stacks.items():
        problems.extend(merge(project, name, config, secret_keys=secret_keys)[1])
    return problems


# The fields of a stack file (pulumi sdk/go/common/workspace/project.go, `ProjectStack`); the CLI
# ignores any other key, so a config key written outside `config:` would be silently lost.
STACK_FILE_FIELDS: Final = frozenset(
    {"secretsprovider", "encryptedkey", "encryptionsalt", "config", "environment"}
)


def misplaced_keys(path: Path) -> list[str]:
    """A problem for each top-level key of a stack file that the CLI would silently ignore."""
    document = load_yaml(path.read_text()) or {}
    if not isinstance(document, dict):
        return []
    return [
        f"{path.name}: `{key}` is outside `config:`, where the Pulumi CLI ignores it; indent it "
        "under `config:`"
        for key in document
        if key not in STACK_FILE_FIELDS
    ]


def stack_file_config(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a `Pulumi.<stack>.yaml`, decoded as the CLI decodes it."""
    document = load_yaml(path.read_text()) or {}
    config = document.get("config") or {}
    return dict(config) if isinstance(config, dict) else {}


def stack_problems(project_dir: Path, stack: str, secret_keys: frozenset[str]) -> list[str]:
    """What the Pulumi CLI would refuse in Pulumi.yaml or `Pulumi.<stack>.yaml` before it runs."""
    try:
        project = load_project(load_yaml((project_dir / "Pulumi.yaml").read_text()) or {})
    except ProjectError as error:
        return error.problems
    path = project_dir / f"Pulumi.{stack}.yaml"
    config = stack_file_config(path)
    return [*misplaced_keys(path), *merge(project, stack, config, secret_keys=secret_keys)[1]]
