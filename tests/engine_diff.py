"""What a change between two runs of the program does to each resource, as the engine would plan
it: the changed input paths per engine URN, and which of them pulumi-kubernetes replaces on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.tools.offline.mock import Recording, Registration, engine_urn
from fleet.tools.offline.render import plain

# Fields whose change makes pulumi-kubernetes replace the object: always metadata.name/namespace;
# a Secret's type; with enableSecretMutable / enableConfigMapMutable off, also data and stringData
# (provider/pkg/provider/diff.go, forceNewProperties).
ALWAYS_REPLACES = ("apiVersion", "kind", "metadata.name", "metadata.namespace")


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found.update(leaves(inner, f"{prefix}.{key}" if prefix else str(key)))
        return found or {prefix: {}}
    if isinstance(value, list):
        found = {}
        for i, inner in enumerate(value):
            found.update(leaves(inner, f"{prefix}[{i}]"))
        return found or {prefix: []}
    return {prefix: value}


def changes(before: Recording, after: Recording, stack: str) -> dict[str, set[str]]:
    """Engine URN -> changed input paths, for resources in both runs (inputs, deps, options)."""
    old = {engine_urn(before, r, stack): r for r in before.resources}
    new = {engine_urn(after, r, stack): r for r in after.resources}
    changed: dict[str, set[str]] = {}
    for urn in old.keys() & new.keys():
        a, b = old[urn], new[urn]
        paths = {
            path
            for path in leaves(plain(a.inputs)).keys() | leaves(plain(b.inputs)).keys()
            if leaves(plain(a.inputs)).get(path) != leaves(plain(b.inputs)).get(path)
        }
        if set(a.dependencies) != set(b.dependencies):
            paths.add("<dependencies>")
        for option in ("protect", "provider", "parent"):
            if getattr(a, option) != getattr(b, option):
                paths.add(f"<{option}>")
        if paths:
            changed[urn] = paths
    return changed


def replaces(resource: Registration, paths: set[str], provider: Registration) -> set[str]:
    """The changed paths that would replace `resource` instead of updating it."""
    kind = resource.inputs.get("kind")
    forcing = [*ALWAYS_REPLACES]
    if kind == "Secret":
        forcing.append("type")
        if provider.inputs.get("enableSecretMutable") != "true":
            forcing += ["data", "stringData"]
    if kind == "ConfigMap" and provider.inputs.get("enableConfigMapMutable") != "true":
        forcing += ["data", "binaryData"]
    return {p for p in paths if any(p == f or p.startswith(f"{f}.") for f in forcing)}
