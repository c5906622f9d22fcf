"""Preview digests in the engine's exact shape, built from what the program declares.

`pulumi preview --json` prints a `PreviewDigest` (pulumi/pulumi `pkg/display/json.go`), filled by
`ShowPreviewDigest` in `pkg/backend/display/json.go`: `same` steps are left out except the root
stack's, which is always there; a replacement shows as its one logical `replace` step; states are
`apitype.ResourceV3` with secret values as "[secret]"; `detailedDiff` is always present (null when
the step has none); a diagnostic's message is its prefix ("warning: ") and text. Op names are
those of `pkg/resource/deploy/step.go`.

A plan here is the difference between two runs of the real program under mocks (before and after
a config change), so every URN, type, name and input in a fixture is one the program registers.
The mock echoes inputs as outputs; a real provider adds live fields the review does not read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fleet.program import conventions as c
from fleet.tools.offline import mock

Json = dict[str, Any]


def masked(value: Any) -> Any:
    """`value` as the digest shows it: every secret replaced by "[secret]"."""
    plain, secret = mock.unwrap_secret(value)
    if secret:
        return "[secret]"
    if isinstance(plain, dict):
        return {k: masked(v) for k, v in plain.items()}
    if isinstance(plain, list):
        return [masked(v) for v in plain]
    return plain


def plain(value: Any) -> Any:
    """`value` with the SDK's secret markers removed, for comparing two runs."""
    inner, _ = mock.unwrap_secret(value)
    if isinstance(inner, dict):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, list):
        return [plain(v) for v in inner]
    return inner


def root_urn(stack: str) -> str:
    return f"urn:pulumi:{stack}::{c.PROJECT}::pulumi:pulumi:Stack::{c.PROJECT}-{stack}"


class Run:
    """One program run, its registrations addressed by the URNs the engine gives them."""

    def __init__(self, recording: mock.Recording, stack: str) -> None:
        self.recording = recording
        self.stack = stack
        self.by_urn = {
            mock.engine_urn(recording, r, stack): r for r in recording.resources if r.custom
        }
        self._engine = {r.urn: mock.engine_urn(recording, r, stack) for r in recording.resources}

    def urn(self, type_: str, name: str) -> str:
        return self._engine[self.recording.get(type_, name).urn]

    def state(self, urn: str, inputs: Mapping[str, Any] | None = None) -> Json:
        """The `ResourceV3` the digest shows for `urn` (`inputs` in place of the recorded ones)."""
        r = self.by_urn[urn]
        declared = dict(r.inputs if inputs is None else inputs)
        state: Json = {
            "urn": urn,
            "custom": True,
            "id": f"{r.name}-id",
            "type": r.type,
            "inputs": masked(declared),
            "outputs": masked(declared),
            "parent": self._engine.get(r.parent, root_urn(self.stack)),
            "provider": self.provider(urn),
        }
        if r.protect:
            state["protect"] = True
        if r.retain_on_delete:
            state["retainOnDelete"] = True
        return state

    def provider(self, urn: str) -> str:
        reference = self.by_urn[urn].provider
        provider_urn, _, provider_id = reference.rpartition("::")
        return f"{self._engine.get(provider_urn, provider_urn)}::{provider_id}"


def leaf_paths(a: Any, b: Any, prefix: str = "") -> list[str]:
    """Property paths where `a` and `b` differ, as `detailedDiff` keys them."""
    if isinstance(a, dict) and isinstance(b, dict):
        paths: list[str] = []
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                paths += leaf_paths(a.get(key), b.get(key), f"{prefix}{key}.")
        return paths
    return [prefix.rstrip(".")]


def step(  # noqa: PLR0917 (one positional argument per field of the engine's PreviewStep)
    op: str,
    urn: str,
    provider: str,
    old: Json | None = None,
    new: Json | None = None,
    diff_reasons: Iterable[str] = (),
    replace_reasons: Iterable[str] = (),
    detailed: Mapping[str, str] | None = None,
) -> Json:
    """A `PreviewStep`, with `omitempty` fields left out when empty as the engine does."""
    found: Json = {"op": op, "urn": urn}
    if provider:
        found["provider"] = provider
    if old is not None:
        found["oldState"] = old
    if new is not None:
        found["newState"] = new
    if diff_reasons:
        found["diffReasons"] = list(diff_reasons)
    if replace_reasons:
        found["replaceReasons"] = list(replace_reasons)
    found["detailedDiff"] = (
        None
        if detailed is None
        else {k: {"kind": kind, "inputDiff": False} for k, kind in detailed.items()}
    )
    return found


def root_step(stack: str) -> Json:
    root = {"urn": root_urn(stack), "custom": False, "type": "pulumi:pulumi:Stack"}
    return step("same", root_urn(stack), "", old=root, new=root)


def plan(
    before: mock.Recording,
    after: mock.Recording,
    stack: str,
    *,
    replace: Mapping[str, Iterable[str]] | None = None,
    edit: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
    warnings: Iterable[str] = (),
    config: Mapping[str, str] | None = None,
) -> Json:
    """The digest of a preview that takes the stack from `before` to `after`.

    `replace` names resources (Pulumi names) whose change the provider cannot make in place, with
    the keys that force it; `edit(urn, inputs)` changes an `after` resource's inputs, for changes
    no config key makes.
    """
    old_run, new_run = Run(before, stack), Run(after, stack)
    replacing = {k: tuple(v) for k, v in (replace or {}).items()}
    steps = [root_step(stack)]
    summary: dict[str, int] = {"same": 1}

    def count(op: str) -> None:
        summary[op] = summary.get(op, 0) + 1

    for urn in new_run.by_urn:
        registration = new_run.by_urn[urn]
        inputs = dict(registration.inputs)
        if edit is not None:
            inputs = edit(urn, inputs)
        new = new_run.state(urn, inputs)
        if urn not in old_run.by_urn:
            steps.append(step("create", urn, new_run.provider(urn), new=new))
            count("create")
            continue
        old_inputs = plain(old_run.by_urn[urn].inputs)
        if old_inputs == plain(inputs):
            count("same")
            continue
        old = old_run.state(urn)
        paths = leaf_paths(old_inputs, plain(inputs))
        top = sorted({p.split(".")[0] for p in paths})
        if registration.name in replacing:
            keys = replacing[registration.name]
            detailed = {p: "update-replace" if p.split(".")[0] in keys else "update" for p in paths}
            steps.append(step("replace", urn, new_run.provider(urn), old, new, top, keys, detailed))
            count("replace")
        else:
            detailed = dict.fromkeys(paths, "update")
            steps.append(step("update", urn, new_run.provider(urn), old, new, top, (), detailed))
            count("update")
    for urn in old_run.by_urn:
        if urn not in new_run.by_urn:
            steps.append(step("delete", urn, old_run.provider(urn), old=old_run.state(urn)))
            count("delete")
    return digest(steps, summary, warnings, config)


def digest(
    steps: list[Json],
    summary: Mapping[str, int],
    warnings: Iterable[str] = (),
    config: Mapping[str, str] | None = None,
) -> Json:
    """A whole `PreviewDigest`; `omitempty` fields left out when empty."""
    found: Json = {}
    if config:
        found["config"] = dict(config)
    found["steps"] = steps
    diagnostics = [{"message": f"warning: {w}\n", "severity": "warning"} for w in warnings]
    if diagnostics:
        found["diagnostics"] = diagnostics
    found["duration"] = 2_500_000_000  # nanoseconds: Go's time.Duration
    found["changeSummary"] = dict(summary)
    return found


def refreshed(
    recording: mock.Recording,
    stack: str,
    *,
    live: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]],
    deleted: Iterable[str] = (),
) -> Json:
    """The digest of `pulumi preview --refresh` on a stack whose program did not change.

    Each resource gets the `refresh` step the engine shows before the program runs; its
    `oldState` is what the last `up` recorded (the engine serialises the step before reading the
    live object, so `detailedDiff` is null). `live[urn]` turns the recorded outputs into what the
    read found, which the program's `update` then starts from; a `deleted` URN was not found, and
    the program creates it again.
    """
    run = Run(recording, stack)
    gone = set(deleted)
    steps = [root_step(stack)]
    summary: dict[str, int] = {"same": 1}
    for urn in run.by_urn:
        state = run.state(urn)
        steps.append(step("refresh", urn, run.provider(urn), old=state, new=state))
    for urn in run.by_urn:
        declared = run.state(urn)
        if urn in gone:
            steps.append(step("create", urn, run.provider(urn), new=declared))
            summary["create"] = summary.get("create", 0) + 1
        elif urn in live:
            found = {**declared, "outputs": live[urn](dict(declared["outputs"]))}
            paths = leaf_paths(found["outputs"], declared["inputs"])
            top = sorted({p.split(".")[0] for p in paths})
            detailed = dict.fromkeys(paths, "update")
            steps.append(step("update", urn, run.provider(urn), found, declared, top, (), detailed))
            summary["update"] = summary.get("update", 0) + 1
        else:
            summary["same"] += 1
    return digest(steps, summary)


def failed(complete: Json, at: str, error: str) -> Json:
    """The digest of the same preview when the engine fails at the step for `at`.

    As pulumi's own event streams of failed previews show them
    (`pkg/engine/lifecycletest/testdata/output/TestProtect/1`, `TestMissingRead/-0-0-preview`), and
    `ShowPreviewDigest` keeps them: the steps planned before the failure, the error on its URN,
    then "preview failed" on none; the summary counts only the steps that ran (the root stack's
    among them) and is left out when it is empty.
    """
    urns = [s["urn"] for s in complete["steps"]]
    kept = complete["steps"][: urns.index(at)]
    summary: dict[str, int] = {}
    for ran in kept:
        summary[ran["op"]] = summary.get(ran["op"], 0) + 1
    found: Json = {key: complete[key] for key in ("config",) if key in complete}
    found["steps"] = kept
    found["diagnostics"] = [
        *complete.get("diagnostics", []),
        {"urn": at, "message": f"error: {error}\n", "severity": "error"},
        {"message": "error: preview failed\n", "severity": "error"},
    ]
    found["duration"] = complete["duration"]
    if summary:
        found["changeSummary"] = summary
    return found
