"""`fleet review`: the fleet's previews as one Markdown summary for review, and the gate on them.

Reads what `pulumi preview --json` prints, the engine's preview digest: `PreviewDigest` in
pulumi/pulumi `pkg/display/json.go` (`steps`, `diagnostics`, `changeSummary`, `config`,
`duration`; each step `op`, `urn`, `provider`, `oldState`, `newState`, `diffReasons`,
`replaceReasons`, `detailedDiff` of `{kind, inputDiff}`), filled by `ShowPreviewDigest` in
`pkg/backend/display/json.go` (secret values read "[secret]", the root stack's step is always
there, a diagnostic's message starts with its prefix such as "warning: "). Op names are the
`Op*` constants of `pkg/resource/deploy/step.go`. One file is one stack's preview; the stack is
read from the URNs (`urn:pulumi:<stack>::<project>::<type>::<name>`).

This module owns what a planned step means for running workloads, which steps are risky, drift
found by `--refresh`, the Markdown, and the exit status: 1 when a preview did not complete (on any
stack, acknowledged or not) or a risky step is planned on a production stack without
`--acknowledge`, 0 otherwise, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, TextIO

from fleet.tools import offline, stacks

PROJECT_DIR: Final = Path(__file__).resolve().parents[2]

# The first line of every summary: how the workflow finds its own pull request comment again.
MARKER: Final = "<!-- fleet-review -->"
# The pull request label the preview workflow turns into `--acknowledge`.
ACK_LABEL: Final = "fleet/destructive-ok"
# GitHub refuses comments longer than 65536 characters; the collapsed details go first.
MAX_CHARS: Final = 60_000


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


# What a replacement looks like in the digest: the logical `replace` step by default, its two
# halves with `--show-replacement-steps`.
REPLACING: Final = frozenset({Op.REPLACE, Op.CREATE_REPLACEMENT, Op.DELETE_REPLACED})
DELETING: Final = frozenset({Op.DELETE})
# Steps that change nothing on the cluster or in GitHub; counted, never listed.
QUIET: Final = frozenset({Op.SAME, Op.READ, Op.REFRESH, Op.DISCARD, Op.DISCARD_REPLACED})

STACK_TYPE: Final = "pulumi:pulumi:Stack"
SECRET: Final = "kubernetes:core/v1:Secret"
CONFIG_MAP: Final = "kubernetes:core/v1:ConfigMap"
NAMESPACE: Final = "kubernetes:core/v1:Namespace"
KUSTOMIZATION: Final = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
FLUX_INSTANCE: Final = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
HELM_RELEASE: Final = "kubernetes:helm.sh/v3:Release"
FLUX_GROUP_SUFFIX: Final = ".toolkit.fluxcd.io/"

# GitHub objects that decide what the Flux bot may read and push; what deleting each takes away.
GITHUB_ACCESS: Final[Mapping[str, str]] = {
    "github:index/team:Team": "the bot team goes, and with it every repository permission it grants",
    "github:index/teamMembership:TeamMembership": "the bot leaves its team: its tokens lose the "
    "team's repository access",
    "github:index/teamRepository:TeamRepository": "the team loses its permission on the "
    "repository: Flux can no longer read it (or push to it)",
    "github:index/branchProtection:BranchProtection": "the branch rule goes: anyone with write "
    "access may push to the branch",
    "github:index/repositoryRuleset:RepositoryRuleset": "the ruleset goes: pull requests are no "
    "longer required on the branch",
}

# Flux Kustomization `spec.deletionPolicy` (kustomize-controller API v1): what deleting the
# Kustomization does to the objects it applied.
DELETION_POLICY: Final[Mapping[str, str]] = {
    "Delete": "deletes everything it applied (deletionPolicy Delete)",
    "WaitForTermination": "deletes everything it applied and waits until it is gone "
    "(deletionPolicy WaitForTermination)",
    "Orphan": "leaves what it applied running, no longer reconciled (deletionPolicy Orphan)",
}


class ReviewError(Exception):
    """A file that is not a preview digest this command can read (exit 2)."""


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
    detailed_diff: Mapping[str, str]

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


@dataclass(frozen=True)
class Drift:
    """A live object that differs from the stack's state, as `--refresh` read it."""

    stack: str
    label: str
    keys: tuple[str, ...]
    then: str


@dataclass
class Preview:
    """One stack's preview digest; `failure` says why it is not a complete, successful preview."""

    stack: str
    source: str
    steps: list[Step] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    change_summary: dict[str, int] = field(default_factory=dict)
    failure: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """A step that matters for running workloads: what it means, and whether the gate stops it."""

    step: Step
    meaning: str
    risky: bool


def parse_urn(urn: str) -> tuple[str, str, str]:
    """(stack, type, name) of `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`."""
    parts = urn.split("::")
    if len(parts) < 4 or not parts[0].startswith("urn:pulumi:"):
        raise ReviewError(f"not a Pulumi URN: {urn!r}")
    return parts[0].removeprefix("urn:pulumi:"), parts[2].rsplit("$", 1)[-1], "::".join(parts[3:])


def parse(document: object, source: str) -> Preview:
    """One stack's preview from the decoded output of `pulumi preview --json`."""
    if not isinstance(document, dict):
        raise ReviewError(f"{source}: not a preview digest (expected a JSON object)")
    raw_steps = document.get("steps") or []
    raw_diagnostics = document.get("diagnostics") or []
    if not isinstance(raw_steps, list) or not isinstance(raw_diagnostics, list):
        raise ReviewError(f"{source}: `steps` and `diagnostics` must be lists")
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
        raise ReviewError(
            f"{source}: the preview failed before it named its stack: {'; '.join(errors)}"
        )
    if len(names) != 1:
        found = ", ".join(sorted(names)) or "none"
        raise ReviewError(f"{source}: expected the preview of one stack, found stacks: {found}")
    [stack] = names
    diagnostics = []
    for raw in raw_diagnostics:
        if isinstance(raw, dict):
            severity = str(raw.get("severity", ""))
            # The engine writes the diagnostic's prefix ("warning: ") into the message.
            message = str(raw.get("message", "")).strip().removeprefix(f"{severity}: ")
            diagnostics.append(Diagnostic(stack, severity, message))
    summary = document.get("changeSummary") or {}
    if not isinstance(summary, dict) or not all(isinstance(n, int) for n in summary.values()):
        raise ReviewError(f"{source}: `changeSummary` must map each op to a count")
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
        raise ReviewError(f"{source}: a step without `op` and `urn`: {raw!r}")
    stack, type_, name = parse_urn(raw["urn"])
    try:
        op = Op(raw["op"])
    except ValueError:
        raise ReviewError(f"{source}: unknown step op {raw['op']!r} at {raw['urn']}") from None
    old, new = raw.get("oldState"), raw.get("newState")
    detailed = raw.get("detailedDiff") or {}
    if not all(isinstance(state, dict | None) for state in (old, new)) or not (
        isinstance(detailed, dict) and all(isinstance(d, dict) for d in detailed.values())
    ):
        raise ReviewError(f"{source}: the states and detailedDiff of {raw['urn']} must be objects")
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
        detailed_diff={str(k): str(d.get("kind", "")) for k, d in detailed.items()},
    )


def load(path: str, stdin: TextIO = sys.stdin) -> Preview:
    """Parse a digest file, or standard input for `-`."""
    try:
        text = stdin.read() if path == "-" else Path(path).read_text()
    except OSError as error:
        raise ReviewError(f"{path}: {error.strerror or error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ReviewError(f"{path}: not JSON ({error})") from error
    return parse(document, "stdin" if path == "-" else path)


def _kustomization_deletion(step: Step) -> str:
    spec = step.state().get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    if spec.get("suspend") is True:
        return "deletes nothing it applied (suspended)"
    policy = str(spec.get("deletionPolicy") or "MirrorPrune")
    if policy in DELETION_POLICY:
        return DELETION_POLICY[policy]
    if spec.get("prune") is True:
        return f"garbage-collects everything it applied (deletionPolicy {policy}, prune: true)"
    return f"leaves what it applied in place (deletionPolicy {policy}, prune: false)"


def _config_object(step: Step) -> Change | None:
    what = "Secret" if step.type == SECRET else "ConfigMap"
    if step.op == Op.UPDATE:
        return Change(step, f"{what} updated in place; readers see the new value", False)
    if step.op in REPLACING:
        reasons = ", ".join(f"`{r}`" for r in step.replace_reasons)
        because = f" ({reasons} cannot change in place)" if reasons else ""
        return Change(
            step,
            f"{what} deleted, then created again{because}: Flux cannot authenticate or "
            "substitute from it in between",
            True,
        )
    if step.op in DELETING:
        return Change(step, f"{what} deleted: whatever references it fails", True)
    return None


def _flux(step: Step) -> Change | None:
    """Namespaces and Flux objects: what their deletion takes with it."""
    if step.op not in DELETING | REPLACING:
        return None
    if step.type == NAMESPACE:
        return Change(
            step,
            "namespace deleted: every object in it goes, workloads included, whatever the "
            "Kustomizations' deletionPolicy",
            True,
        )
    if step.type == KUSTOMIZATION:
        return Change(step, f"Kustomization deleted: {_kustomization_deletion(step)}", True)
    return Change(step, "Flux object deleted: what it reconciles is no longer kept", True)


def _operator(step: Step) -> Change | None:
    """The FluxInstance and the operator's Helm release: updates roll Flux, deletions remove it."""
    instance = step.type == FLUX_INSTANCE
    if step.op in DELETING | REPLACING:
        if instance:
            return Change(step, "FluxInstance deleted: the operator uninstalls Flux", True)
        return Change(
            step, "Flux Operator release uninstalled: nothing manages Flux meanwhile", True
        )
    if step.op != Op.UPDATE:
        return None
    if instance:
        keys = ", ".join(f"`{k}`" for k in sorted(step.detailed_diff) or step.diff_reasons)
        return Change(step, f"Flux reconfigured by the operator ({keys})", False)
    return Change(step, "Flux Operator upgraded by Helm", False)


def _github(step: Step) -> Change | None:
    if step.op in DELETING | REPLACING:
        return Change(step, GITHUB_ACCESS[step.type], True)
    if step.op == Op.UPDATE:
        keys = ", ".join(f"`{k}`" for k in step.diff_reasons)
        return Change(step, f"GitHub access changed ({keys})", False)
    return None


def meaning(step: Step) -> Change | None:
    """What `step` does to running workloads, or None when it is not worth a row of its own."""
    if step.type in (SECRET, CONFIG_MAP):
        return _config_object(step)
    if step.type in (NAMESPACE, KUSTOMIZATION) or FLUX_GROUP_SUFFIX in step.type:
        return _flux(step)
    if step.type in (FLUX_INSTANCE, HELM_RELEASE):
        return _operator(step)
    if step.type in GITHUB_ACCESS:
        return _github(step)
    return None


def changes(preview: Preview) -> tuple[list[Change], list[Step]]:
    """The steps worth a row (with their meaning), and the other steps that change something."""
    notable: list[Change] = []
    rest: list[Step] = []
    for step in preview.steps:
        if step.op in QUIET or step.type == STACK_TYPE:
            continue
        change = meaning(step)
        if change is None:
            rest.append(step)
        elif step.op in DELETING and step.retained:
            # The engine skips the provider's delete for these: nothing on the cluster changes.
            kept = "Pulumi stops managing it, the object stays (retainOnDelete)"
            notable.append(Change(step, kept, False))
        elif change.risky and step.protected:
            # The engine refuses to delete or replace a protected resource, in preview too.
            note = "; protected: `pulumi up` refuses until `protect` is lifted"
            notable.append(Change(step, change.meaning + note, True))
        else:
            notable.append(change)
    return notable, rest


def drift(preview: Preview) -> list[Drift]:
    """Live objects that differ from the stack's state, as read by `pulumi preview --refresh`.

    A `refresh` step records the state before the read (`oldState`); the step the program then
    plans for the same URN starts from what was read. Where the two differ, or the refresh step
    carries a diff of its own, the object changed outside Pulumi; a resource the program then
    creates again was deleted outside Pulumi.
    """
    found: list[Drift] = []
    refreshed: dict[str, Step] = {}
    planned: dict[str, Step] = {}
    for step in preview.steps:
        if step.op == Op.REFRESH:
            refreshed.setdefault(step.urn, step)
        elif step.urn in refreshed:
            planned.setdefault(step.urn, step)
    for urn, before in refreshed.items():
        after = planned.get(urn)
        keys: set[str] = set(before.diff_reasons) | {k.split(".")[0] for k in before.detailed_diff}
        if after is not None and after.op == Op.CREATE:
            found.append(
                Drift(
                    before.stack,
                    before.label(),
                    (),
                    "deleted outside Pulumi; this plan creates it again",
                )
            )
            continue
        if after is not None and after.old is not None and before.old is not None:
            keys |= _differing(before.old.get("outputs"), after.old.get("outputs"))
        if not keys:
            continue
        if after is not None and after.op in (Op.UPDATE, *REPLACING):
            then = f"this plan overwrites it ({after.op})"
        else:
            then = "this plan keeps the live value"
        found.append(Drift(before.stack, before.label(), tuple(sorted(keys)), then))
    return found


def _differing(a: object, b: object) -> set[str]:
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return set()
    return {str(k) for k in set(a) | set(b) if a.get(k) != b.get(k)}


def counts(preview: Preview) -> Counter[str]:
    """Steps per op as the engine counted them (`changeSummary`), else as listed."""
    if preview.change_summary:
        return Counter(preview.change_summary)
    return Counter(str(s.op) for s in preview.steps if s.type != STACK_TYPE)


@dataclass(frozen=True)
class Review:
    markdown: str
    blocked: tuple[Change, ...]
    acknowledged: bool
    failed: tuple[str, ...] = ()  # stacks whose preview did not complete

    @property
    def exit_code(self) -> int:
        """1 on a failed preview whatever the acknowledgement: its plan is not the whole plan."""
        return 1 if self.failed or (self.blocked and not self.acknowledged) else 0


def production_stacks(
    project_dir: Path, names: Iterable[str], extra: Iterable[str] = ()
) -> set[str]:
    """Which of `names` are production: the stack file's environment, or named by `--production`.

    A stack without a stack file here counts as production, so the gate fails closed.
    """
    listed = set(stacks.listing(project_dir)["production"])
    known = set(offline.known_stacks(project_dir))
    return {n for n in names if n in listed or n not in known} | set(extra)


def review(previews: Sequence[Preview], production: set[str], acknowledged: bool) -> Review:
    """The Markdown summary of every preview, and the risky changes on production stacks."""
    lines = [MARKER, "## Fleet preview", "", "| stack | | changes |", "| --- | --- | --- |"]
    notable: list[Change] = []
    rest: list[Step] = []
    drifted: list[Drift] = []
    warnings: list[Diagnostic] = []
    failed: list[Preview] = []
    for preview in sorted(previews, key=lambda p: p.stack):
        counted = counts(preview)
        summary = ", ".join(f"{n} {op}" for op, n in sorted(counted.items()) if op != Op.SAME)
        kind = "production" if preview.stack in production else "staging"
        if preview.failure:
            failed.append(preview)
            summary = "**preview failed**" + (f"; before it stopped: {summary}" if summary else "")
        lines.append(f"| `{preview.stack}` | {kind} | {summary or 'no changes'} |")
        found, others = changes(preview)
        notable += found
        rest += others
        drifted += drift(preview)
        # Errors are the failed preview's reasons, listed with it.
        warnings += [d for d in preview.diagnostics if d.severity == "warning"]
    blocked = tuple(c for c in notable if c.risky and c.step.stack in production)
    lines += ["", _gate(blocked, acknowledged, [p.stack for p in failed])]
    lines += _failure_list(failed)
    lines += _changes_table(notable) + _drift_table(drifted) + _warning_list(warnings)
    markdown = "\n".join(lines + _details(rest)) + "\n"
    if len(markdown) > MAX_CHARS:
        left_out = f"_{len(rest)} other change(s) left out (too long for a comment)._"
        markdown = "\n".join([*lines, "", left_out]) + "\n"
    return Review(markdown, blocked, acknowledged, tuple(p.stack for p in failed))


def _gate(blocked: Sequence[Change], acknowledged: bool, failed: Sequence[str] = ()) -> str:
    if failed:
        names = ", ".join(f"`{name}`" for name in failed)
        return (
            f"**Gate: failed.** The preview of {names} did not complete, so its plan is partial "
            "and nothing here vouches for it (an acknowledgement does not pass it). Fix the cause "
            "below and preview again."
        )
    if blocked and not acknowledged:
        return (
            f"**Gate: blocked.** {len(blocked)} risky change(s) on production. Acknowledge with "
            f"the pull request label `{ACK_LABEL}` (`fleet review --acknowledge`)."
        )
    if blocked:
        return f"**Gate: acknowledged** ({len(blocked)} risky change(s) on production)."
    return "**Gate: passed.** No risky change on a production stack."


def _changes_table(notable: Sequence[Change]) -> list[str]:
    if not notable:
        return []
    lines = ["", "### Changes that matter", "", "| | stack | op | object | what it means |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for c in sorted(notable, key=lambda c: (not c.risky, c.step.stack, c.step.urn)):
        flag = "**risky**" if c.risky else ""
        lines.append(
            f"| {flag} | `{c.step.stack}` | {c.step.op} | {c.step.label()} | {c.meaning} |"
        )
    return lines


def _drift_table(drifted: Sequence[Drift]) -> list[str]:
    if not drifted:
        return []
    lines = ["", "### Drift (found by `--refresh`)", "", "| stack | object | changed | then |"]
    lines.append("| --- | --- | --- | --- |")
    for d in drifted:
        keys = ", ".join(f"`{k}`" for k in d.keys) or "-"
        lines.append(f"| `{d.stack}` | {d.label} | {keys} | {d.then} |")
    return lines


def _failure_list(failed: Sequence[Preview]) -> list[str]:
    if not failed:
        return []
    lines = ["", "### Failed previews", ""]
    for preview in failed:
        lines += [f"- `{preview.stack}`: {_cell(reason)}" for reason in preview.failure]
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _warning_list(warnings: Sequence[Diagnostic]) -> list[str]:
    """Warnings, token expiry first."""
    if not warnings:
        return []
    lines = ["", "### Warnings", ""]
    for w in sorted(warnings, key=lambda w: (not w.about_expiry, w.stack)):
        text = _cell(w.message)
        lines.append(f"- `{w.stack}`: {'**expiry** ' if w.about_expiry else ''}{text}")
    return lines


def _details(rest: Sequence[Step]) -> list[str]:
    """Every other change, collapsed."""
    if not rest:
        return []
    lines = ["", f"<details><summary>{len(rest)} other change(s)</summary>", ""]
    lines += ["| stack | op | object | properties |", "| --- | --- | --- | --- |"]
    for s in sorted(rest, key=lambda s: (s.stack, s.urn)):
        keys = ", ".join(f"`{k}`" for k in s.replace_reasons or s.diff_reasons) or "-"
        lines.append(f"| `{s.stack}` | {s.op} | {s.label()} | {keys} |")
    return [*lines, "", "</details>"]


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "previews",
        nargs="+",
        metavar="PREVIEW.json",
        help="`pulumi preview --json` output; - reads stdin",
    )
    parser.add_argument(
        "--acknowledge",
        action="store_true",
        help=f"risky changes on production are intended (the workflow sets it from the label {ACK_LABEL})",
    )
    parser.add_argument(
        "--production",
        action="append",
        default=[],
        metavar="STACK",
        help="treat STACK as production whatever its stack file says (repeatable)",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="folder with the Pulumi.<stack>.yaml files (default: this checkout)",
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the summary; exit 1 when the gate blocks, 2 on a file that is not a preview."""
    out = out or sys.stdout
    try:
        previews = [load(path) for path in args.previews]
    except ReviewError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    production = production_stacks(args.project_dir, [p.stack for p in previews], args.production)
    result = review(previews, production, args.acknowledge)
    out.write(result.markdown)
    return result.exit_code
