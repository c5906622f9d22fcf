"""Whether the kubeconfig file and kube context a stack names exist on this machine.

The Kubernetes provider only fails on them once it needs the cluster, half-way through a run, and
`pulumi preview`, CI and the Automation API run the program without `make up`'s preflight; so the
program checks them itself, before anything is registered. Tools that run the program with no
cluster (render, check, diff under the mock runtime) switch the check off through `ENABLED`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml

# Off only while a tool runs the program offline (fleet.tools.offline.mock).
ENABLED: ContextVar[bool] = ContextVar("fleet_kube_access_check", default=True)
_SHOWN_CONTEXTS = 10


def kubeconfig_paths(env: Mapping[str, str], configured: str | None) -> list[Path]:
    """The files the Kubernetes provider reads: `kubeconfig`, else $KUBECONFIG, else ~/.kube/config."""
    if configured:
        return [Path(configured).expanduser()]
    if env.get("KUBECONFIG"):
        return [Path(p).expanduser() for p in env["KUBECONFIG"].split(os.pathsep) if p]
    return [Path(env.get("HOME", "~")).expanduser() / ".kube" / "config"]


def problems(
    kubeconfig: str | None, context: str | None, env: Mapping[str, str]
) -> list[tuple[str, str]]:
    """(key, message) for a kubeconfig file that is missing or unreadable or a context it lacks."""
    paths = kubeconfig_paths(env, kubeconfig)
    if kubeconfig and not paths[0].is_file():
        return [
            (
                "kubeconfig",
                f"{kubeconfig!r} does not exist; allowed: the path of a kubeconfig file on this "
                "machine (or unset it to use KUBECONFIG or ~/.kube/config with kubeContext)",
            )
        ]
    if not kubeconfig and len(paths) > 1:
        return [_several_paths(paths, context)]
    contexts: list[str] = []
    for path in paths:
        if not path.is_file():
            continue
        try:
            document: Any = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError):
            key = "kubeconfig" if kubeconfig else "kubeContext"
            return [(key, f"{str(path)!r} is not a readable kubeconfig file")]
        entries = document.get("contexts") if isinstance(document, dict) else None
        contexts.extend(
            str(entry["name"])
            for entry in entries or []
            if isinstance(entry, dict) and "name" in entry
        )
    if context and context not in set(contexts):
        where = ", ".join(str(p) for p in paths)
        known = ", ".join(sorted(contexts)[:_SHOWN_CONTEXTS]) or "none"
        return [
            (
                "kubeContext",
                f"{context!r} is not a context in {where}; allowed: a context defined there "
                f"({known}); add it, e.g. with your cloud's get-credentials command, or set "
                "kubeconfig",
            )
        ]
    return []


def _several_paths(paths: list[Path], context: str | None) -> tuple[str, str]:
    """KUBECONFIG with several files: kubectl merges them, the Kubernetes provider does not.

    The Python SDK passes $KUBECONFIG to the provider as its `kubeconfig` input, and
    pulumi-kubernetes (`provider/pkg/provider/util.go`, `parseKubeconfigString`) reads that as one
    file path or as kubeconfig YAML: a list of paths is neither, and the provider marks the
    cluster unreachable.
    """
    holding = [str(p) for p in paths if context and context in _contexts(p)]
    target = f" (the one that holds {context!r}: {holding[0]})" if len(holding) == 1 else ""
    listed = os.pathsep.join(str(p) for p in paths)
    return (
        "kubeconfig",
        f"KUBECONFIG lists {len(paths)} files ({listed}); the Kubernetes provider reads "
        "KUBECONFIG as a single file (or as kubeconfig YAML) and would treat the cluster as "
        f"unreachable; allowed: set kubeconfig to one file{target}, or merge them "
        f"(KUBECONFIG={listed} kubectl config view --flatten > merged.yaml) and point "
        "KUBECONFIG at merged.yaml",
    )


def _contexts(path: Path) -> set[str]:
    try:
        document: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return set()
    entries = document.get("contexts") if isinstance(document, dict) else None
    return {
        str(entry["name"]) for entry in entries or [] if isinstance(entry, dict) and "name" in entry
    }
