"""Kubernetes manifests as files: object identity, file names and a diff-friendly YAML form.

A render is reviewed and diffed by people, so the same objects must always give the same bytes:
keys sorted, block style, multi-line strings (FluxInstance patches) as literal blocks, no anchors,
and one file per object named after what it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import yaml

# Stands for the namespace part of a cluster-scoped object's file name; '_' is not valid in a
# namespace name, so it can never collide with a real one.
CLUSTER_SCOPE: Final = "_cluster"

_UNSAFE = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True, order=True)
class ObjectRef:
    """What identifies one Kubernetes object; orders objects by kind, namespace, name."""

    kind: str
    namespace: str
    name: str
    api_version: str

    @classmethod
    def of(cls, manifest: Mapping[str, Any], fallback_name: str = "") -> ObjectRef:
        """The reference of `manifest`; `fallback_name` stands in when the name is auto-assigned."""
        metadata = manifest.get("metadata") or {}
        return cls(
            kind=str(manifest.get("kind", "")),
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name") or fallback_name),
            api_version=str(manifest.get("apiVersion", "")),
        )

    @property
    def id(self) -> str:
        """`Kind/namespace/name`, or `Kind/name` when cluster-scoped: how messages name the object."""
        parts = (self.kind, self.namespace, self.name) if self.namespace else (self.kind, self.name)
        return "/".join(parts)

    @property
    def filename(self) -> str:
        """`<kind>-<namespace>-<name>.yaml`, lower case; `_cluster` for cluster-scoped objects."""
        parts = (self.kind, self.namespace or CLUSTER_SCOPE, self.name)
        return "-".join(_UNSAFE.sub("_", p.lower()) for p in parts) + ".yaml"


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never emits anchors and keeps multi-line strings readable."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(document: Any) -> str:
    """`document` as block-style YAML with sorted keys and no line folding."""
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=True,
        default_flow_style=False,
        allow_unicode=True,
        width=2**16,
    )
