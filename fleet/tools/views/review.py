"""`fleet review`: the fleet's previews as one Markdown summary for review, and the gate on them.

Reads what `pulumi preview --json` prints, the engine's preview digest, through its one reader
(`fleet.engine.preview`). One file is one stack's preview.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

from fleet.engine import types as t
from fleet.engine.preview import (
    Diagnostic,
    DigestError,
    Op,
    Preview,
    Step,
    declared,
    declared_differences,
    parse,
    root,
)
from fleet.tools.offline import mock, stacks

PROJECT_DIR: Final = stacks.PROJECT_DIR

# The first line of every summary: how the workflow finds its own pull request comment again.
MARKER: Final = "<!-- fleet-review -->"
# The pull request label the preview workflow turns into `--acknowledge`.
ACK_LABEL: Final = "fleet/destructive-ok"
# GitHub refuses comments longer than 65536 characters; the collapsed details go first.
MAX_CHARS: Final = 60_000


# What a replacement looks like in the digest: the logical `replace` step by default, its two
# halves with `--show-replacement-steps`.
REPLACING: Final = frozenset({Op.REPLACE, Op.CREATE_REPLACEMENT, Op.DELETE_REPLACED})
DELETING: Final = frozenset({Op.DELETE})
# Steps that change nothing on the cluster or in GitHub; counted, never listed.
QUIET: Final = frozenset({Op.SAME, Op.READ, Op.REFRESH, Op.DISCARD, Op.DISCARD_REPLACED})

REFUSED: Final = "refused (protected: `pulumi up` refuses until `protect` is lifted)"
RETAINED: Final = "Pulumi stops managing it, the object stays (retainOnDelete)"

# GitHub objects that decide what the Flux bot may read and push; what deleting each takes away.
GITHUB_ACCESS: Final[Mapping[str, str]] = {
    t.TEAM: "the bot team goes, and with it every repository permission it grants",
    t.TEAM_MEMBERSHIP: "the bot leaves its team: its tokens lose the team's repository access",
    t.TEAM_REPOSITORY: "the team loses its permission on the "
    "repository: Flux can no longer read it (or push to it)",
    t.BRANCH_PROTECTION: "the branch rule goes: anyone with write access may push to the branch",
    t.REPOSITORY_RULESET: "the ruleset goes: pull requests are no longer required on the branch",
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
class Drift:
    """A live object that differs from the stack's state, as `--refresh` read it."""

    stack: str
    label: str
    keys: tuple[str, ...]
    then: str


@dataclass(frozen=True)
class Change:
    """A step that matters for running workloads: what it means, and whether the gate stops it."""

    step: Step
    meaning: str
    risky: bool


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
    try:
        return parse(document, "stdin" if path == "-" else path)
    except DigestError as error:
        raise ReviewError(str(error)) from None


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
    what = "Secret" if step.type == t.SECRET else "ConfigMap"
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
    if step.type == t.NAMESPACE:
        return Change(
            step,
            "namespace deleted: every object in it goes, workloads included, whatever the "
            "Kustomizations' deletionPolicy",
            True,
        )
    if step.type == t.KUSTOMIZATION:
        return Change(step, f"Kustomization deleted: {_kustomization_deletion(step)}", True)
    return Change(step, "Flux object deleted: what it reconciles is no longer kept", True)


def _operator(step: Step) -> Change | None:
    """The FluxInstance and the operator's Helm release: updates roll Flux, deletions remove it."""
    instance = step.type == t.FLUX_INSTANCE
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
    if step.type in (t.SECRET, t.CONFIG_MAP):
        return _config_object(step)
    if step.type in (t.NAMESPACE, t.KUSTOMIZATION) or t.FLUX_GROUP_SUFFIX in step.type:
        return _flux(step)
    if step.type in (t.FLUX_INSTANCE, t.HELM_RELEASE):
        return _operator(step)
    if step.type in GITHUB_ACCESS:
        return _github(step)
    return None


def changes(preview: Preview) -> tuple[list[Change], list[Step]]:
    """The steps worth a row (with their meaning), and the other steps that change something."""
    notable: list[Change] = []
    rest: list[Step] = []
    for step in preview.steps:
        if step.op in QUIET or step.type == t.STACK:
            continue
        change = meaning(step)
        if change is None:
            rest.append(step)
        elif step.protected and step.op in DELETING | REPLACING:
            # The engine refuses a protected resource's delete before it looks at retainOnDelete,
            # and its replacement too, so the plan cannot be applied as it stands.
            then = RETAINED if step.op in DELETING and step.retained else change.meaning
            notable.append(Change(step, f"{REFUSED}; once lifted: {then}", True))
        elif step.op in DELETING and step.retained:
            # The engine skips the provider's delete for these: nothing on the cluster changes.
            notable.append(Change(step, RETAINED, False))
        else:
            notable.append(change)
    return notable, rest


def drift(preview: Preview) -> list[Drift]:
    """Live objects that differ from the stack's state, as read by `pulumi preview --refresh`.

    A `refresh` step records the state before the read (`oldState`); the step the program then
    plans for the same URN starts from what was read. Where the two differ, or the refresh step
    carries a diff of its own, the object changed outside Pulumi; a resource the program then
    creates again was deleted outside Pulumi. Only what the program declares is compared: the
    properties among the object's inputs, never the fields the API server writes on its own.
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
        inputs = _declared_inputs(after) or _declared_inputs(before)
        # The detailed paths when the step has them: a top-level reason (`metadata`) may stand
        # for a server-written field alone.
        paths = set(before.detailed_diff) or set(before.diff_reasons)
        keys = {root(p) for p in paths if declared(p, inputs)}
        # What the last `up` recorded against what the read found; nothing to compare when
        # either state has no outputs (the engine leaves an empty map out).
        recorded = before.old.get("outputs") if before.old else None
        read = after.old.get("outputs") if after is not None and after.old else None
        if isinstance(recorded, Mapping) and isinstance(read, Mapping):
            keys |= {root(p) for p in declared_differences(inputs, recorded, read)}
        if not keys:
            continue
        if after is not None and after.op in (Op.UPDATE, *REPLACING):
            then = f"this plan overwrites it ({after.op})"
        else:
            then = "this plan keeps the live value"
        found.append(Drift(before.stack, before.label(), tuple(sorted(keys)), then))
    return found


def _declared_inputs(step: Step | None) -> Mapping[str, Any] | None:
    """What the program declares for the object: the planned inputs, else the recorded ones."""
    if step is None:
        return None
    for side in (step.new, step.old):
        inputs = side.get("inputs") if side else None
        if isinstance(inputs, Mapping) and inputs:
            return inputs
    return None


def counts(preview: Preview) -> Counter[str]:
    """Steps per op as the engine counted them (`changeSummary`), else as listed."""
    if preview.change_summary:
        return Counter(preview.change_summary)
    return Counter(str(s.op) for s in preview.steps if s.type != t.STACK)


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
    known = set(mock.known_stacks(project_dir))
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
        if preview.failure:
            failed.append(preview)
            summary = "**preview failed**" + (f"; before it stopped: {summary}" if summary else "")
        kind = "production" if preview.stack in production else "staging"
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
    # The engine reports steps in the order they finish, which varies between runs of the same
    # plan; sorted, the comment rewritten on each push changes only when the drift does.
    for d in sorted(drifted, key=lambda d: (d.stack, d.label)):
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
