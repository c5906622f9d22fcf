"""`pulumi preview --json`, read: the engine's preview digest, in one place.

The digest is `PreviewDigest` in pulumi/pulumi `pkg/display/json.go` (`steps`, `diagnostics`,
`changeSummary`, `config`, `duration`; each step `op`, `urn`, `provider`, `oldState`, `newState`,
`diffReasons`, `replaceReasons`, `detailedDiff` of `{kind, inputDiff}`), filled by
`ShowPreviewDigest` in `pkg/backend/display/json.go` (secret values read "[secret]", the root
stack's step is always there, a diagnostic's message starts with its prefix such as "warning: ").
Op names are the `Op*` constants of `pkg/resource/deploy/step.go`. One digest is one stack's
preview; the stack is read from the URNs (`urn:pulumi:<stack>::<project>::<type>::<name>`).

Three readings, for three readers: `parse` checks the whole digest (`fleet review` gates on it),
`planned` lists each step's operation and object (the lifecycle scenario judges them), and
`change_counts` reads the summary alone (`fleet status`'s drift, where a digest that cannot tell
is a failed check, not an error). `live_only` and `declared_differences` tell drift in what the
program declares from the fields the API server writes on every object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from fleet.engine.cli import EngineError

# Fields the Kubernetes API server writes on every object (ObjectMeta's system fields and the
# status subresource); a program never declares them, so a change in them alone is not drift.
LIVE_ONLY: Final = frozenset(
    {
        "status",
        "metadata.resourceVersion",
        "metadata.managedFields",
        "metadata.uid",
        "metadata.generation",
        "metadata.creationTimestamp",
        "metadata.selfLink",
        "metadata.deletionTimestamp",
        "metadata.deletionGracePeriodSeconds",
        "metadata.ownerReferences",
    }
)
_SEGMENT: Final = re.compile(r"[^.\[\]]+|\[[^\]]*\]")


def _segments(path: str) -> list[str]:
    """`metadata.labels["a.b/c"]` as `metadata`, `labels`, `a.b/c` (detailedDiff's path syntax)."""
    return [m.strip('[]"') for m in _SEGMENT.findall(path)]


def live_only(path: str) -> bool:
    """Whether a property path lies in a field the server writes (`status.conditions[0]`...)."""
    parts = _segments(path)
    return any(".".join(parts[:n]) in LIVE_ONLY for n in range(1, len(parts) + 1))


def root(path: str) -> str:
    """The top-level property of a path (`data` of `data.CLUSTER_DOMAIN`)."""
    parts = _segments(path)
    return parts[0] if parts else path


def declared(path: str, inputs: Mapping[str, Any] | None) -> bool:
    """Whether a property path lies in what the program declares: its first key among the
    resource's inputs (every path when the inputs are unknown), and not a server-written field."""
    if live_only(path):
        return False
    parts = _segments(path)
    return inputs is None or (bool(parts) and parts[0] in inputs)


def declared_differences(
    inputs: Mapping[str, Any] | None,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    prefix: str = "",
) -> set[str]:
    """The paths, within what `inputs` declares (every key when None), where two outputs of one
    object differ; objects on both sides compared key by key, so server-written fields never
    count."""
    found: set[str] = set()
    for key in set(before) | set(after):
        path = f"{prefix}{key}"
        if live_only(path) or (inputs is not None and key not in inputs):
            continue
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            inner = inputs.get(key) if inputs is not None else None
            declares = inner if isinstance(inner, Mapping) else None
            found |= declared_differences(declares, old, new, f"{path}.")
        else:
            found.add(path)
    return found


class DigestError(EngineError):
    """A document that is not a preview digest this reader can read."""


class Op(StrEnum):
    """Step operations, as named in pulumi/pulumi pkg/resource/deploy/step.go."""

    SAME = "same"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    CREATE_REPLACEMENT = "create-replacement"
    DELETE_REPLACED = "delete-replaced"
    READ = "read"
    READ_REPLACEMENT = "read-replacement"
    REFRESH = "refresh"
    DISCARD = "discard"
    DISCARD_REPLACED = "discard-replaced"
    REMOVE_PENDING_REPLACE = "remove-pending-replace"
    IMPORT = "import"
    IMPORT_REPLACEMENT = "import-replacement"
    DIFF = "diff"
    EXTEND_PARAMETERIZE = "extend-parameterize"


@dataclass(frozen=True)
class Step:
    """One step of a preview digest, with the parts of its URN the review needs."""

    op: Op
    urn: str
    stack: str
    type: str
    name: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    diff_reasons: tuple[str, ...]
    replace_reasons: tuple[str, ...]
    detailed_diff: tuple[str, ...]  # the property paths `detailedDiff` names

    def state(self) -> Mapping[str, Any]:
        """The resource's properties: outputs (what exists) over inputs, new over old."""
        for side in (self.new, self.old):
            if side:
                outputs = side.get("outputs")
                inputs = side.get("inputs")
                if isinstance(outputs, Mapping) and outputs:
                    return outputs
                if isinstance(inputs, Mapping) and inputs:
                    return inputs
        return {}

    @property
    def protected(self) -> bool:
        return bool(self.old and self.old.get("protect"))

    @property
    def retained(self) -> bool:
        """Deleting it only drops it from the stack (`retainOnDelete`): the object stays."""
        return bool(self.old and self.old.get("retainOnDelete"))

    def label(self) -> str:
        """`Kind namespace/name` for Kubernetes objects, else the short type and Pulumi name."""
        state = self.state()
        metadata = state.get("metadata")
        if self.type.startswith("kubernetes:") and isinstance(metadata, Mapping):
            kind = str(state.get("kind") or self.type.rsplit(":", 1)[-1])
            name = metadata.get("name")
            namespace = metadata.get("namespace")
            if name:
                return f"{kind} `{namespace}/{name}`" if namespace else f"{kind} `{name}`"
        return f"{self.type.rsplit(':', 1)[-1]} `{self.name}`"


@dataclass(frozen=True)
class Diagnostic:
    stack: str
    severity: str
    message: str

    @property
    def about_expiry(self) -> bool:
        return "expire" in self.message.lower()


@dataclass
class Preview:
    """One stack's preview digest; `failure` says why it is not a complete, successful preview."""

    stack: str
    source: str
    steps: list[Step] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    change_summary: dict[str, int] = field(default_factory=dict)
    failure: tuple[str, ...] = ()


def parse_urn(urn: str) -> tuple[str, str, str]:
    """(stack, type, name) of `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        raise DigestError(f"not a Pulumi URN: {urn!r}")
    return parts[0].removeprefix("urn:pulumi:"), parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])


def parse(document: object, source: str) -> Preview:
    """One stack's preview from the decoded output of `pulumi preview --json`."""
    if not isinstance(document, dict):
        raise DigestError(f"{source}: not a preview digest (expected a JSON object)")
    raw_steps = document.get("steps") or []
    raw_diagnostics = document.get("diagnostics") or []
    if not isinstance(raw_steps, list) or not isinstance(raw_diagnostics, list):
        raise DigestError(f"{source}: `steps` and `diagnostics` must be lists")
    steps = [_step(raw, source) for raw in raw_steps]
    urns = [s.urn for s in steps] + [
        str(d["urn"]) for d in raw_diagnostics if isinstance(d, dict) and d.get("urn")
    ]
    names = {parse_urn(urn)[0] for urn in urns}
    errors = [
        _one_line(d.get("message"))
        for d in raw_diagnostics
        if isinstance(d, dict) and d.get("severity") == "error"
    ]
    if not names and errors:
        raise DigestError(
            f"{source}: the preview failed before it named its stack: {'; '.join(errors)}"
        )
    if len(names) != 1:
        found = ", ".join(sorted(names)) or "none"
        raise DigestError(f"{source}: expected the preview of one stack, found stacks: {found}")
    [stack] = names
    diagnostics = []
    for raw in raw_diagnostics:
        if isinstance(raw, dict):
            severity = str(raw.get("severity", ""))
            # The engine writes the diagnostic's prefix ("warning: ") into the message.
            message = str(raw.get("message", "")).strip().removeprefix(f"{severity}: ")
            if message:  # nothing to show a reader (an error still fails the preview below)
                diagnostics.append(Diagnostic(stack, severity, message))
    summary = document.get("changeSummary") or {}
    if not isinstance(summary, dict) or not all(isinstance(n, int) for n in summary.values()):
        raise DigestError(f"{source}: `changeSummary` must map each op to a count")
    counted = {str(k): n for k, n in summary.items()}
    failure = _failure(raw_diagnostics, counted, document.get("maybeCorrupt") is True)
    return Preview(stack, source, steps, diagnostics, counted, failure)


def _one_line(message: object) -> str:
    """A diagnostic's message without its "error: " prefix, on one line."""
    return " ".join(str(message or "").split()).removeprefix("error: ")


def _failure(
    raw_diagnostics: Sequence[object], summary: Mapping[str, int], maybe_corrupt: bool
) -> tuple[str, ...]:
    """Why a digest is not a complete, successful preview; empty when it is one.

    A preview that fails inside the engine still prints a digest (`ShowPreviewDigest`): the steps
    planned before it stopped, each error as a diagnostic (a resource's on its URN, then "preview
    failed" on none), and a `changeSummary` counting only the steps that ran, empty and so left
    out when none did or the preview was cancelled. A complete preview always counts at least the
    root stack. Policy violations are not in the digest, only the "preview failed" they cause.
    """
    reasons: list[str] = []
    for raw in raw_diagnostics:
        if isinstance(raw, dict) and raw.get("severity") == "error":
            urn = raw.get("urn")
            where = f"{parse_urn(urn)[2]}: " if isinstance(urn, str) and urn else ""
            reasons.append(where + (_one_line(raw.get("message")) or "an error without a message"))
    if reasons == ["preview failed"]:
        reasons = ["preview failed (a policy violation is not in the JSON digest: see the log)"]
    if not summary:
        reasons.append("no change summary: the engine stopped before the end of the preview")
    if maybe_corrupt:
        reasons.append("the engine reports resources that may be corrupt (maybeCorrupt)")
    return tuple(reasons)


def _step(raw: object, source: str) -> Step:
    if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str) or "op" not in raw:
        raise DigestError(f"{source}: a step without `op` and `urn`: {raw!r}")
    stack, type_, name = parse_urn(raw["urn"])
    try:
        op = Op(raw["op"])
    except ValueError:
        raise DigestError(f"{source}: unknown step op {raw['op']!r} at {raw['urn']}") from None
    old, new = raw.get("oldState"), raw.get("newState")
    detailed = raw.get("detailedDiff") or {}
    if not all(isinstance(state, dict | None) for state in (old, new)) or not (
        isinstance(detailed, dict) and all(isinstance(d, dict) for d in detailed.values())
    ):
        raise DigestError(f"{source}: the states and detailedDiff of {raw['urn']} must be objects")
    return Step(
        op=op,
        urn=raw["urn"],
        stack=stack,
        type=type_,
        name=name,
        old=old,
        new=new,
        diff_reasons=tuple(str(k) for k in raw.get("diffReasons") or ()),
        replace_reasons=tuple(str(k) for k in raw.get("replaceReasons") or ()),
        detailed_diff=tuple(str(k) for k in detailed),
    )


@dataclass(frozen=True)
class Planned:
    """One step as the lifecycle scenario reads it: the operation, and the object's type and name."""

    op: str
    urn: str
    type: str
    name: str
    namespace: str | None

    @property
    def logical_name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


def planned(document: Mapping[str, Any]) -> list[Planned]:
    """The steps of a digest, leniently: any op, the type from the state, else from the URN."""
    found: list[Planned] = []
    for raw in document.get("steps") or []:
        state = raw.get("newState") or raw.get("oldState") or {}
        meta = (state.get("inputs") or {}).get("metadata") or {}
        found.append(
            Planned(
                op=str(raw["op"]),
                urn=str(raw["urn"]),
                type=str(state.get("type") or raw["urn"].split("::")[2].rsplit("$", 1)[-1]),
                name=str(meta.get("name", "")),
                namespace=meta.get("namespace"),
            )
        )
    return found


def change_counts(text: str) -> dict[str, int] | None:
    """The digest's `changeSummary` counts (ints only); None when the preview could not tell:
    not JSON, not an object, an error diagnostic, or no summary at all."""
    try:
        digest = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(digest, dict):
        return None
    diagnostics = digest.get("diagnostics") or []
    if any(isinstance(d, dict) and d.get("severity") == "error" for d in diagnostics):
        return None
    if "changeSummary" not in digest:
        return None
    summary = digest.get("changeSummary")
    if not isinstance(summary, dict):
        return {}
    counts = {str(k): v for k, v in summary.items() if isinstance(v, int)}
    server_written = sum(1 for s in digest.get("steps") or [] if _server_written_update(s))
    if server_written and counts.get(Op.UPDATE):
        counts[Op.UPDATE] = max(0, counts[Op.UPDATE] - server_written)
    return counts


def _server_written_update(step: object) -> bool:
    """An update whose every difference is a field the server writes: not drift."""
    if not isinstance(step, dict) or step.get("op") != Op.UPDATE:
        return False
    detailed = step.get("detailedDiff")
    paths = list(detailed) if isinstance(detailed, dict) and detailed else []
    paths = paths or [str(r) for r in step.get("diffReasons") or []]
    return bool(paths) and all(live_only(p) for p in paths)
