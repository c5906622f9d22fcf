"""What the tier compares: the engine's state against what the API server holds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.real_engine.kube import Discovery, Obj

SECRET_SIG = "4dabf18193072939515e22adb298388d"
# Resources that are not one Kubernetes object: the provider itself and the Helm release (whose
# objects Helm owns; the test checks its workload separately).
NOT_OBJECTS = ("pulumi:providers:", "kubernetes:helm.sh/v3:Release")


def kube_resources(state: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every Kubernetes object of a stack's `pulumi stack export`, skipping providers and releases."""
    for resource in state["deployment"].get("resources", []):
        kind: str = resource["type"]
        if kind.startswith("kubernetes:") and not kind.startswith(NOT_OBJECTS):
            yield resource


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def mismatches(declared: Any, live: Any, path: str = "") -> Iterator[str]:
    """Where `live` does not hold what `declared` says (extra live fields are the server's own)."""
    if is_secret(declared):
        return
    if isinstance(declared, dict):
        if not isinstance(live, dict):
            yield f"{path}: declared a mapping, live holds {live!r}"
            return
        for key, value in declared.items():
            if key.startswith("pulumi.com/") or key == "__inputs":
                continue
            if key not in live:
                yield f"{path}.{key}: missing on the server"
            else:
                yield from mismatches(value, live[key], f"{path}.{key}")
    elif isinstance(declared, list):
        if not isinstance(live, list) or len(live) != len(declared):
            yield f"{path}: declared {declared!r}, live holds {live!r}"
            return
        for i, (d, actual) in enumerate(zip(declared, live, strict=True)):
            yield from mismatches(d, actual, f"{path}[{i}]")
    elif declared != live and str(declared) != str(live):
        yield f"{path}: declared {declared!r}, live holds {live!r}"


def compare(resource: dict[str, Any], discovery: Discovery) -> tuple[Obj | None, list[str]]:
    """The live object of one state resource and how it differs from the declared inputs."""
    inputs = resource["inputs"]
    live = discovery.live(resource["outputs"])
    if live is None:
        return None, [f"{resource['urn']}: not in the API server"]
    declared = {k: v for k, v in inputs.items() if k not in ("apiVersion", "kind", "stringData")}
    problems = [f"{resource['urn']}{p}" for p in mismatches(declared, live)]
    if "stringData" in inputs and not is_secret(inputs["stringData"]):
        written = set(live.get("data") or {})
        if set(inputs["stringData"]) - written:
            problems.append(f"{resource['urn']}: stringData keys missing from the live Secret")
    uid = resource["outputs"].get("metadata", {}).get("uid")
    if uid and uid != live["metadata"]["uid"]:
        problems.append(f"{resource['urn']}: state uid {uid}, live uid {live['metadata']['uid']}")
    return live, problems
