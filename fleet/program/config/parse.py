"""Raw config values to `Settings`: each key on its own, then the rules, every problem at once.

Every key is validated by its type, then every cross-key rule whose inputs are valid runs, so one
`ConfigError` lists every problem; messages are in plain words (what is allowed), never the
validation library's, and never show a secret value.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from fleet.program import conventions as c
from fleet.program.config import keys, rules
from fleet.program.config.errors import ConfigError
from fleet.program.config.model import Settings


def read(get: Callable[[str], str | None], configured: Iterable[str]) -> dict[str, Any]:
    """The raw value of every known key and every `configured` key that is set, via `Config.get`.

    `configured` are all the keys the stack sets in the project's namespace, known or not, so
    `parse` can name the ones it does not know. Array values arrive as JSON text and are decoded here; a value
    that is not JSON stays a string, which `parse` reports as "not a YAML list".
    """
    kinds = keys.config_keys()
    empty_is_unset = keys.unset_when_empty()
    raw: dict[str, Any] = {}
    # Known keys are always asked for: a reader may find values `configured` does not list.
    for key in dict.fromkeys([*kinds, *configured]):
        value = get(key)
        # An empty string on a key without a default is the "not set" default Pulumi.yaml declares.
        if value is None or (value == "" and key in empty_is_unset):
            continue
        if kinds.get(key) == "array":
            try:
                raw[key] = json.loads(value)
            except ValueError:
                raw[key] = value
        else:
            raw[key] = value
    return raw


def parse(
    raw: Mapping[str, Any],
    *,
    today: date | None = None,
    secret: Iterable[str] = (),
    project: str = c.PROJECT,
) -> Settings:
    """Validate raw config values (strings, or lists for array keys) into `Settings`.

    Every key is validated on its own, then every cross-key check whose inputs are valid runs, so
    one `ConfigError` lists every problem. Values of `SECRET_KEYS` and of `secret` keys never
    appear in a message.
    """
    hidden = keys.SECRET_KEYS | set(secret)
    problems = [f"{project}:{p}" for p in unknown_keys(raw)]
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        key = field.alias or name
        if key not in raw:
            if field.is_required():
                problems.append(f"{project}:{key}: missing required key")
            else:
                values[name] = field.get_default(call_default_factory=True)
            continue
        try:
            values[name] = adapter(name).validate_python(raw[key])
        except ValidationError as err:
            problems.extend(_describe(err, key, raw[key], hidden, project))
            valid = _valid_entries(name, raw[key], err)
            if valid:
                values[name] = valid
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
        if not field.is_required()
    }
    found = rules.run(rules.Values(values, defaults, today or date.today()))
    problems.extend(f"{project}:{key}: {message}" for key, message in found)
    if problems:
        raise ConfigError(problems)
    return Settings.model_construct(**values)


def _valid_entries(name: str, value: Any, err: ValidationError) -> tuple[Any, ...] | None:
    """The entries of a list that passed their own validation, so one bad entry hides nothing.

    The list's cross checks (duplicates, reserved names, missing controllers, cycles) then run on
    what is left. None when the value is no list, or no entry of it is valid: its checks are
    skipped, as for any invalid key.
    """
    if not isinstance(value, list):
        return None
    bad = set()
    for error in err.errors(include_url=False):
        loc = error["loc"]
        if not loc or not isinstance(loc[0], int):
            return None
        bad.add(loc[0])
    good = [entry for index, entry in enumerate(value) if index not in bad]
    if not good:
        return None
    try:
        valid: tuple[Any, ...] = adapter(name).validate_python(good)
    except ValidationError:
        return None
    return valid


def unknown_keys(raw: Mapping[str, Any]) -> list[str]:
    """A problem for each key the program does not know, with the closest known key."""
    known = keys.config_keys()
    by_lower = {key.lower(): key for key in known}
    problems = []
    for key in raw:
        if key in known:
            continue
        close = difflib.get_close_matches(key.lower(), by_lower, n=1, cutoff=0.6)
        hint = f"did you mean {by_lower[close[0]]!r}? " if close else ""
        problems.append(
            f"{key}: unknown key; {hint}allowed: the keys declared in Pulumi.yaml "
            "(see docs/configuration.md#configuration)"
        )
    return problems


@functools.cache
def adapter(name: str) -> TypeAdapter[Any]:
    field = Settings.model_fields[name]
    if not field.metadata:
        return TypeAdapter(field.annotation)  # type: ignore[arg-type]
    return TypeAdapter(Annotated[field.annotation, *field.metadata])  # type: ignore[arg-type]


def _describe(
    err: ValidationError, key: str, value: Any, hidden: set[str] | frozenset[str], project: str
) -> list[str]:
    problems: list[str] = []
    for error in err.errors(include_url=False):
        index = next((part for part in error["loc"] if isinstance(part, int)), None)
        where = f"{project}:{key}" + (f"[{index}]" if index is not None else "")
        if key in hidden:
            shown = "[secret]"
        elif index is not None and isinstance(value, list) and index < len(value):
            shown = repr(value[index])
        else:
            shown = repr(value)
        problems.append(f"{where}: {shown} is invalid: {_plain(error)}")
        if index is None:
            break  # one message per scalar key, even when several rules fail
    return problems


_LIST = "allowed: a YAML list such as [a, b], not a single string"
_WHOLE = "allowed: a whole number"
# Plain words for the validation library's error types (by type, given the error's context).
_PLAIN: dict[str, Callable[[dict[str, Any]], str]] = {
    "tuple_type": lambda _: _LIST,
    "list_type": lambda _: _LIST,
    "iterable_type": lambda _: _LIST,
    "bool_parsing": lambda _: "allowed: true or false",
    "bool_type": lambda _: "allowed: true or false",
    "int_parsing": lambda _: _WHOLE,
    "int_type": lambda _: _WHOLE,
    "int_from_float": lambda _: _WHOLE,
    "greater_than_equal": lambda ctx: f"{_WHOLE} of at least {ctx['ge']}",
    "less_than_equal": lambda ctx: f"{_WHOLE} of at most {ctx['le']}",
    "enum": lambda ctx: f"allowed: {ctx['expected']}",
    "string_too_short": lambda ctx: f"allowed: at least {ctx['min_length']} character(s)",
    "string_too_long": lambda ctx: f"allowed: at most {ctx['max_length']} characters",
    "string_type": lambda _: "allowed: a text value",
}


def _plain(error: Any) -> str:
    """The error in plain words: what is allowed, never the validation library's wording."""
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    describe = _PLAIN.get(error["type"])
    if describe is None:
        return "not a value this key accepts; see docs/configuration.md#configuration"
    return describe(error.get("ctx") or {})
