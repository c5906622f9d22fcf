"""The floor program: what registering a stack's resources costs the Pulumi SDK alone.

A `Plan` is the shape of what the real program registered (types, names, parents, inputs,
protect, providers), taken from one mocked run. The floor replays it with the same SDK classes
(`pulumi_kubernetes`' typed resources and `CustomResource`, `pulumi_github`'s resources, plain
`ComponentResource`s with the program's type tokens), so it registers the same resources with the
same URNs and inputs, without settings, component code or `depends_on`. The program's time over
the floor's is the program's own cost.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from fleet.tools.offline import mock

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
# Set by the typed classes themselves, never passed by a caller.
_SET_BY_CLASS = frozenset({"apiVersion", "kind"})


@dataclass(frozen=True)
class Entry:
    """One registration to replay; `parent` indexes an earlier entry, -1 for the stack."""

    type: str
    name: str
    parent: int
    custom: bool
    protect: bool
    inputs: dict[str, Any]


Plan = list[Entry]


def plan_of(recording: mock.Recording) -> Plan:
    """The shape of a recorded run, in registration order (parents before their children)."""
    index = {r.urn: i for i, r in enumerate(recording.resources)}
    return [
        Entry(r.type, r.name, index.get(r.parent, -1), r.custom, r.protect, r.inputs)
        for r in recording.resources
    ]


def to_json(plan: Plan) -> list[dict[str, Any]]:
    return [e.__dict__ for e in plan]


def from_json(data: list[dict[str, Any]]) -> Plan:
    return [Entry(**e) for e in data]


def modules(plan: Plan) -> set[str]:
    """The SDK modules whose classes the floor uses for `plan`, as the program imports them."""
    found: set[str] = set()
    for entry in plan:
        if not entry.custom:
            continue
        package, module, name = entry.type.split(":")
        if package == "pulumi":  # providers: pulumi:providers:<package>
            found.add(f"pulumi_{name}")
        elif package == "github":
            found.add("pulumi_github")
        elif package == "kubernetes":
            group, _, version = module.rpartition("/")
            found.add(
                f"pulumi_kubernetes.{group.split('.')[0]}.{version}"
                if _is_typed_kubernetes(group)
                else "pulumi_kubernetes.apiextensions"
            )
    return found


def _is_typed_kubernetes(group: str) -> bool:
    """Kubernetes' own groups and Helm have typed SDK classes; CRDs' kinds do not."""
    return group in ("core", "helm.sh") or group.endswith(".k8s.io")


def _snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


def _live(value: Any) -> Any:
    """Recorded secret markers back into secret Outputs, as the program passed them."""
    inner, secret = mock.unwrap_secret(value)
    if secret:
        return pulumi.Output.secret(inner)
    if isinstance(inner, Mapping):
        return {k: _live(v) for k, v in inner.items()}
    if isinstance(inner, list):
        return [_live(v) for v in inner]
    return inner


def _typed_class(type_: str) -> type[pulumi.CustomResource] | None:
    """The SDK class registering `type_`, or None for custom resources of CRDs."""
    package, module, kind = type_.split(":")
    if package == "github":
        found: Any = getattr(importlib.import_module("pulumi_github"), kind)
        return found  # type: ignore[no-any-return]
    if package != "kubernetes":
        return None
    group, _, version = module.rpartition("/")
    if _is_typed_kubernetes(group):
        sdk = importlib.import_module("pulumi_kubernetes")
        found = getattr(getattr(getattr(sdk, group.split(".")[0]), version), kind)
        return found  # type: ignore[no-any-return]
    return None


_PARAMETERS: dict[type, frozenset[str]] = {}


def _parameters(cls: type[pulumi.CustomResource]) -> frozenset[str]:
    """Keyword arguments `cls` takes (read once per class)."""
    if cls not in _PARAMETERS:
        _PARAMETERS[cls] = frozenset(inspect.signature(cls._internal_init).parameters)  # type: ignore[attr-defined]
    return _PARAMETERS[cls]


def _factory(entry: Entry) -> Callable[[str, pulumi.ResourceOptions], pulumi.Resource]:
    """A constructor for `entry` with the same SDK path the program takes."""
    inputs = {k: v for k, v in entry.inputs.items()}
    if entry.type.startswith("pulumi:providers:"):
        package = entry.type.split(":")[2]
        return lambda name, opts: pulumi.ProviderResource(package, name, _live(inputs), opts)
    if not entry.custom:
        return lambda name, opts: pulumi.ComponentResource(entry.type, name, None, opts)
    cls = _typed_class(entry.type)
    if cls is None:
        k8s = importlib.import_module("pulumi_kubernetes")
        api_version, kind = inputs.pop("apiVersion"), inputs.pop("kind")
        return lambda name, opts: k8s.apiextensions.CustomResource(
            name, api_version=api_version, kind=kind, opts=opts, **_live(inputs)
        )
    accepted = _parameters(cls)
    kwargs = {
        _snake(k): v for k, v in inputs.items() if k not in _SET_BY_CLASS and _snake(k) in accepted
    }
    return lambda name, opts: cls(name, opts=opts, **_live(kwargs))


def program(plan: Plan) -> Callable[[], None]:
    """A Pulumi program registering `plan`: top-level components carry the plan's providers."""
    factories = [_factory(e) for e in plan]

    def run() -> None:
        made: list[pulumi.Resource] = []
        providers = [
            make(e.name, pulumi.ResourceOptions())
            for e, make in zip(plan, factories, strict=True)
            if e.type.startswith("pulumi:providers:")
        ]
        providers_iter = iter(providers)
        for entry, make in zip(plan, factories, strict=True):
            if entry.type.startswith("pulumi:providers:"):
                made.append(next(providers_iter))
                continue
            parent = made[entry.parent] if entry.parent >= 0 else None
            opts = pulumi.ResourceOptions(parent=parent, protect=entry.protect or None)
            if parent is None:
                opts.providers = providers  # type: ignore[assignment]
            made.append(make(entry.name, opts))
        for resource in made:
            if isinstance(resource, pulumi.ComponentResource):
                resource.register_outputs({})

    return run
