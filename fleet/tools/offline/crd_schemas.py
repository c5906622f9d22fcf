"""The Flux CRDs' and the operator chart's schemas as JSON Schema, so one validator checks them all.

A CRD's `openAPIV3Schema` is OpenAPI, not JSON Schema: its Kubernetes extensions (int-or-string,
preserve-unknown-fields, embedded resources, CEL rules) are translated here, once, for
`conformance` to validate rendered objects with.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Crd:
    """One CustomResourceDefinition, reduced to what validation needs."""

    group: str
    kind: str
    scope: str
    versions: Mapping[str, Mapping[str, Any]]  # served version -> openAPIV3Schema

    def cel(self, version: str) -> Iterator[tuple[tuple[str, ...], str, str]]:
        """(path, message, rule) of every CEL rule in `version`'s schema."""
        yield from _cel(self.versions[version], ())


def _cel(
    node: Mapping[str, Any], path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], str, str]]:
    for rule in node.get("x-kubernetes-validations") or ():
        yield path, str(rule.get("message") or rule.get("messageExpression", "")), rule["rule"]
    for name, child in (node.get("properties") or {}).items():
        yield from _cel(child, (*path, name))
    if isinstance(node.get("items"), Mapping):
        yield from _cel(node["items"], (*path, "[]"))
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from _cel(node["additionalProperties"], (*path, "{}"))


def _is_true(node: Mapping[str, Any], key: str) -> bool:
    return node.get(key) is True


def crd_json_schema(node: Mapping[str, Any], *, structural: bool = True) -> dict[str, Any]:
    """An `openAPIV3Schema` as a strict JSON Schema (draft 2020-12).

    Objects of the structural tree reject unknown fields unless they declare their own
    `additionalProperties` or `x-kubernetes-preserve-unknown-fields`, as the API server's strict
    field validation does. `anyOf`/`allOf`/`oneOf`/`not` branches only add value rules in a
    structural schema, so they are left open. `nullable`, `x-kubernetes-int-or-string` and
    OpenAPI 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` become their JSON Schema forms;
    other `x-kubernetes-*` keys are dropped (CEL rules are checked by `fleet.tools.offline.cel_rules`).
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "description"):
            continue
        if key == "properties":
            out[key] = {n: crd_json_schema(s, structural=structural) for n, s in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            out[key] = crd_json_schema(value, structural=structural)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [crd_json_schema(s, structural=False) for s in value]
        elif key == "not":
            out[key] = crd_json_schema(value, structural=False)
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
            bound = "minimum" if key == "exclusiveMinimum" else "maximum"
            if value and bound in node:
                out[key] = node[bound]
        else:
            out[key] = value
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        bound = "minimum" if key == "exclusiveMinimum" else "maximum"
        if node.get(key) is True:
            out.pop(bound, None)
    if _is_true(node, "x-kubernetes-int-or-string") and "anyOf" not in out:
        out["type"] = ["integer", "string"]
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    if _is_true(node, "nullable"):
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if (
        structural
        and node.get("type") == "object"
        and "additionalProperties" not in node
        and not _is_true(node, "x-kubernetes-preserve-unknown-fields")
    ):
        if _is_true(node, "x-kubernetes-embedded-resource"):
            props = out.setdefault("properties", {})
            for implicit in ("apiVersion", "kind", "metadata"):
                props.setdefault(implicit, {})
        out["additionalProperties"] = False
    return out


def values_json_schema(node: Mapping[str, Any], *, merged: bool = True) -> dict[str, Any]:
    """A chart's values schema, for the values a release passes rather than the merged result.

    Helm validates user values coalesced with the chart's values.yaml, which is not available
    offline. Maps merge with those defaults, so a `required` key under a map is supplied by the
    chart unless the user deletes it with null (rejected separately); `required` is dropped there.
    Lists replace the chart's lists whole, so `required` inside list items is kept. Objects that
    list their properties reject unknown keys: Helm would ignore a misspelled key silently.
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "required" and merged:
            continue
        if key == "properties":
            out[key] = {n: values_json_schema(s, merged=merged) for n, s in value.items()}
        elif key == "additionalProperties" and isinstance(value, Mapping):
            out[key] = values_json_schema(value, merged=merged)
        elif key == "items" and isinstance(value, Mapping):
            out[key] = values_json_schema(value, merged=False)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [values_json_schema(s, merged=merged) for s in value]
        else:
            out[key] = value
    if "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def parse_crd(document: Mapping[str, Any]) -> Crd:
    spec = document["spec"]
    return Crd(
        group=spec["group"],
        kind=spec["names"]["kind"],
        scope=spec.get("scope", "Namespaced"),
        versions={
            v["name"]: v["schema"]["openAPIV3Schema"]
            for v in spec["versions"]
            if v.get("served", True)
        },
    )
