"""Each cluster stack's status as the engine recorded it: versions, credentials, updates, drift.

Read through the Pulumi CLI in the engine's own formats (`fleet.engine`: `state` for the export,
`history` for `stack history --json`, `preview` for a drift digest), never from a cache of this
tool's own. Drift comes from a `pulumi preview --refresh --json` digest per stack, as the drift
workflow writes them; without one, from the stack's last `refresh` when it is newer than its last
`update` (a preview is not recorded in the history, so a drift run leaves no trace there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from fleet.engine import history, preview, state
from fleet.engine import types as t
from fleet.engine.cli import CommandError, EngineError, PulumiCli
from fleet.program import conventions as c

# The program's expiry rules (a token's warning window and refusal, the App key's due date): used by
# `credential_state` and `app_key_state` alone, so repointing them is a change to this one line.
from fleet.program.config import expiry as expiry_rules
from fleet.tools.offline import mock

_T = TypeVar("_T")
# Operations that leave the live object as the program declares it (PreviewDigest.changeSummary).
UNCHANGED_OPS: Final = frozenset({"same", "read", "refresh"})
APP_KEY: Final = "App key"
DEFAULT_WARNING_DAYS: Final = 14  # Pulumi.yaml's default for tokenWarningDays


class StateReadError(Exception):
    """A stack's state could not be read; the message says why."""


class StateReader(Protocol):
    """Reads one stack's state from the backend, in the engine's formats."""

    def export(self, stack: str) -> Mapping[str, Any] | None:
        """The stack's UntypedDeployment, or None when the backend has no such stack."""

    def history(self, stack: str) -> Sequence[Mapping[str, Any]]:
        """The stack's latest history entries (`stack history --json`)."""


@dataclass(frozen=True)
class CliReader:
    """A `StateReader` that runs the Pulumi CLI in the project folder, through the engine's readers.

    Plain `stack export` and `stack history` (no `--show-secrets`): secrets stay encrypted, so no
    passphrase is needed to read a fleet's status.
    """

    pulumi: str
    project_dir: Path
    env: Mapping[str, str]

    def _cli(self) -> PulumiCli:
        return PulumiCli(self.pulumi, self.env, self.project_dir)

    def export(self, stack: str) -> Mapping[str, Any] | None:
        return _reading("stack export", lambda: state.export(self._cli(), stack))

    def history(self, stack: str) -> Sequence[Mapping[str, Any]]:
        return _reading("stack history", lambda: history.entries(self._cli(), stack))


def _reading(what: str, read: Callable[[], _T]) -> _T:
    """`read()`, its engine errors as a `StateReadError` naming the command."""
    try:
        return read()
    except CommandError as error:
        raise StateReadError(f"pulumi {what}: " + (error.last_line or "failed")) from None
    except EngineError as error:
        raise StateReadError(f"pulumi {what}: {error}") from None


class CredentialState(StrEnum):
    OK = "ok"
    EXPIRING = "expiring"  # inside the program's warning window (it warns)
    EXPIRED = "expired"  # the program refuses to run
    DUE = "due"  # App key past its maximum age (the program warns)


@dataclass(frozen=True)
class Credential:
    name: str  # platform, apps, enterprise or "App key"
    days_left: int
    expires: date  # for the App key: the day it is due for rotation
    state: CredentialState


class Drift(StrEnum):
    NONE = "none"
    DRIFTED = "drifted"
    CHECK_FAILED = "check failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DriftResult:
    state: Drift
    source: str = ""  # "drift run", "refresh 2026-12-01 03:20 UTC"; empty when unknown
    changes: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LastUpdate:
    kind: str
    result: str
    start: datetime
    end: datetime | None
    changes: Mapping[str, int]


@dataclass(frozen=True)
class Declared:
    """What the stack file says where the state cannot: the environment of a stack never deployed,
    and the token warning window (`tokenWarningDays` is config, not a stack output)."""

    environment: str | None
    token_warning_days: int


@dataclass(frozen=True)
class StackStatus:
    stack: str
    environment: str | None
    deployed: bool
    flux_declared: str | None = None
    flux_applied: str | None = None
    flux_ready: bool | None = None  # None: no Ready condition recorded
    flux_message: str = ""
    chart_declared: str | None = None
    chart_applied: str | None = None
    tenants: int | None = None
    platform_components: int | None = None
    credentials: tuple[Credential, ...] = ()
    last_update: LastUpdate | None = None
    drift: DriftResult = DriftResult(Drift.UNKNOWN)
    error: str | None = None

    @property
    def problems(self) -> list[str]:
        """What needs someone's action on this stack, most urgent first."""
        if self.error is not None:
            return [f"state unreadable: {self.error}"]
        found: list[str] = []
        if not self.deployed:
            found.append("never deployed")
        if self.last_update is not None and self.last_update.result == "failed":
            found.append(f"last {self.last_update.kind} failed")
        for cred in self.credentials:
            if cred.state is CredentialState.EXPIRED:
                found.append(f"{cred.name} token expired on {cred.expires.isoformat()}")
            elif cred.state is CredentialState.EXPIRING:
                found.append(
                    f"{cred.name} token expires in {cred.days_left} day(s), on {cred.expires.isoformat()}"
                )
            elif cred.state is CredentialState.DUE:
                found.append(f"{APP_KEY} due for rotation since {cred.expires.isoformat()}")
        if self.drift.state is Drift.DRIFTED:
            found.append(f"drifted ({_changes_text(self.drift.changes)}; {self.drift.source})")
        elif self.drift.state is Drift.CHECK_FAILED:
            found.append(f"drift check failed ({self.drift.source})")
        if self.deployed and self.flux_ready is False:
            found.append(
                "FluxInstance not Ready" + (f": {self.flux_message}" if self.flux_message else "")
            )
        return found


def _changes_text(changes: Mapping[str, int]) -> str:
    return ", ".join(f"{n} {op}" for op, n in sorted(changes.items()))


def _time(value: object) -> datetime | None:
    """An RFC 3339 / RFC 5424 time as the CLI writes it ("2026-12-01T03:17:00.000Z"), in UTC.

    A time without a zone is UTC too: the machine's own zone says nothing about the backend's."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _dig(value: object, *path: str) -> object:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def credential_state(name: str, days_left: int, warning_days: int, today: date) -> Credential:
    """The program's own rules for a token (`fleet.program.config.expiry.report`)."""
    expires = today + timedelta(days=days_left)
    report = expiry_rules.report({name: expires}, warning_days, today)
    state = (
        CredentialState.EXPIRED
        if report.expired
        else CredentialState.EXPIRING
        if report.warnings
        else CredentialState.OK
    )
    return Credential(name, days_left, expires, state)


def app_key_state(days_left: int, today: date) -> Credential:
    """The program's rule for the App key: it warns once the key is due (no window, no refusal)."""
    # Any maximum age gives the same verdict for the same days left; 0 keeps the age non-negative.
    age = expiry_rules.KeyAge.of(today, 0, today + timedelta(days=-days_left))
    due = today + timedelta(days=days_left)
    state = CredentialState.DUE if age.warnings else CredentialState.OK
    return Credential(APP_KEY, days_left, due, state)


def credentials(
    outputs: Mapping[str, Any], written: date, warning_days: int, today: date
) -> tuple[Credential, ...]:
    """Days left now, from the days left the program exported on the day it wrote its outputs.

    The program exports `tokenDaysLeft` (and `githubAppKeyDaysLeft`) counted from the day of the
    update that ran it, so the expiry day is that day plus the count: right to within a day, since
    the runner's date and the history's UTC timestamp can differ by one day near midnight.
    """
    found: list[Credential] = []
    days = outputs.get("tokenDaysLeft")
    if isinstance(days, dict):
        for name, left in sorted(days.items()):
            if isinstance(left, int):
                now = left - (today - written).days
                found.append(credential_state(name, now, warning_days, today))
    key_days = outputs.get("githubAppKeyDaysLeft")
    if isinstance(key_days, int):
        found.append(app_key_state(key_days - (today - written).days, today))
    return tuple(found)


def last_update(history: Sequence[Mapping[str, Any]]) -> LastUpdate | None:
    entries = _by_start(history)
    if not entries:
        return None
    start, entry = entries[0]
    return LastUpdate(
        kind=str(entry.get("kind", "")),
        result=str(entry.get("result", "")),
        start=start,
        end=_time(entry.get("endTime")),
        changes=_counts(entry.get("resourceChanges")),
    )


def outputs_written(history: Sequence[Mapping[str, Any]]) -> datetime | None:
    """When the program that wrote the current stack outputs ran: the newest successful update's start.

    Not the stack resource's `modified` time: the engine sets it in `CreateStep.Apply` and a
    `SameStep` or a component's `UpdateStep` carries the old one over, while the stack outputs are
    written at the end of each update without touching it (pulumi `pkg/resource/deploy/step.go`,
    `step_executor.go`), so it stays the first deployment's. A refresh or a preview does not run
    the program, and a failed update may have stopped before the program exported anything (a
    program that refuses an expired token does), so neither dates the outputs. The start, not the
    end: the program counts days from the day it starts, and an update can end after midnight.
    """
    for start, entry in _by_start(history):
        if entry.get("kind") == "update" and entry.get("result") == "succeeded":
            return start
    return None


def _by_start(history: Sequence[Mapping[str, Any]]) -> list[tuple[datetime, Mapping[str, Any]]]:
    """Entries newest first (the backends page newest first; sorting keeps that a non-assumption)."""
    timed = [(t, e) for e in history if (t := _time(e.get("startTime"))) is not None]
    return sorted(timed, key=lambda pair: pair[0], reverse=True)


def _counts(value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, int)}


def _changed(changes: Mapping[str, int]) -> dict[str, int]:
    return {op: n for op, n in changes.items() if op not in UNCHANGED_OPS and n}


def drift_from_history(history: Sequence[Mapping[str, Any]]) -> DriftResult:
    """Drift as the last successful `refresh` found it, when no update has run since.

    A refresh writes what it found into the state, and its `resourceChanges` count the resources
    whose live object differed; an update after it applies the program again, so from then on the
    history says nothing about drift.
    """
    for start, entry in _by_start(history):
        if entry.get("result") != "succeeded":
            continue
        if entry.get("kind") == "update":
            return DriftResult(Drift.UNKNOWN)
        if entry.get("kind") == "refresh":
            changed = _changed(_counts(entry.get("resourceChanges")))
            source = f"refresh {start:%Y-%m-%d %H:%M} UTC"
            return DriftResult(Drift.DRIFTED if changed else Drift.NONE, source, changed)
    return DriftResult(Drift.UNKNOWN)


def drift_from_digest(text: str) -> DriftResult:
    """Drift from a `pulumi preview --refresh --json` digest (PreviewDigest).

    The counts are what `pulumi up` would change to bring the cluster back to the declared state.
    A digest that does not parse, or that carries an error diagnostic, is a failed check: the
    preview stopped before it could tell.
    """
    source = "drift run"
    counts = preview.change_counts(text)
    if counts is None:
        return DriftResult(Drift.CHECK_FAILED, source)
    changed = _changed(counts)
    return DriftResult(Drift.DRIFTED if changed else Drift.NONE, source, changed)


def from_state(
    stack: str,
    export: Mapping[str, Any] | None,
    history: Sequence[Mapping[str, Any]],
    declared: Declared,
    today: date,
    *,
    drift_digest: str | None = None,
) -> StackStatus:
    """One stack's status from its UntypedDeployment and history (both as the CLI prints them)."""
    version = export.get("version") if export is not None else None
    if export is not None and version not in state.DEPLOYMENT_VERSIONS:
        raise StateReadError(f"deployment version {version!r}; this tool reads 3 and 4")
    deployment = (export or {}).get("deployment") or {}
    resources: list[Mapping[str, Any]] = [
        r for r in deployment.get("resources") or [] if isinstance(r, dict)
    ]
    update = last_update(history)
    drift = (
        drift_from_digest(drift_digest) if drift_digest is not None else drift_from_history(history)
    )
    root = next((r for r in resources if r.get("type") == t.STACK), None)
    if root is None:
        return StackStatus(
            stack, declared.environment, deployed=False, last_update=update, drift=drift
        )

    outputs: Mapping[str, Any] = root.get("outputs") or {}
    # The stack resource's `modified` is its first deployment (see `outputs_written`): a fallback
    # that can only understate the days left; the checkpoint's time is the last resort.
    written = (
        outputs_written(history)
        or _time(root.get("modified"))
        or _time(_dig(deployment, "manifest", "time"))
    )
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for resource in resources:
        by_type.setdefault(str(resource.get("type")), []).append(resource)
    instance = next(iter(by_type.get(t.FLUX_INSTANCE, [])), None)
    release = next(iter(by_type.get(t.HELM_RELEASE, [])), None)
    ready, message = _readiness(instance)
    return StackStatus(
        stack=stack,
        environment=_text(outputs.get("environment")) or declared.environment,
        deployed=True,
        flux_declared=_text(_dig(instance, "inputs", "spec", "distribution", "version"))
        or _text(outputs.get("fluxVersion")),
        flux_applied=_applied_revision(instance),
        flux_ready=ready,
        flux_message=message,
        chart_declared=_text(_dig(release, "inputs", "version"))
        or _text(outputs.get("operatorChartVersion")),
        chart_applied=_text(_dig(release, "outputs", "status", "version")),
        tenants=len(by_type.get(t.TENANT, [])),
        platform_components=_platform_components(resources),
        credentials=credentials(
            outputs,
            written.date() if written is not None else today,
            declared.token_warning_days,
            today,
        ),
        last_update=update,
        drift=drift,
    )


def _readiness(instance: Mapping[str, Any] | None) -> tuple[bool | None, str]:
    """The FluxInstance's Ready condition as the provider recorded the live object."""
    conditions = _dig(instance, "outputs", "status", "conditions")
    for condition in conditions if isinstance(conditions, list) else []:
        if isinstance(condition, dict) and condition.get("type") == "Ready":
            status = condition.get("status")
            if status == "True":
                return True, ""
            reason = str(condition.get("reason") or "")
            text = str(condition.get("message") or "")
            return (None if status == "Unknown" else False), ": ".join(
                part for part in (reason, text) if part
            )
    return None, ""


def _applied_revision(instance: Mapping[str, Any] | None) -> str | None:
    """`status.lastAppliedRevision` ("v2.7.3@sha256:...") without the digest."""
    revision = _text(_dig(instance, "outputs", "status", "lastAppliedRevision"))
    return revision.partition("@")[0] if revision else None


def _platform_components(resources: Iterable[Mapping[str, Any]]) -> int:
    """Components of the Platform: its Kustomizations' `components/<name>/<role>/<env>` paths."""
    platforms = {r.get("urn") for r in resources if r.get("type") == t.PLATFORM}
    names = set()
    for r in resources:
        if r.get("type") == t.KUSTOMIZATION and r.get("parent") in platforms:
            path = _text(_dig(r, "inputs", "spec", "path"))
            parts = path.split("/") if path is not None else []
            if len(parts) > 1 and parts[0] == "components":
                names.add(parts[1])
    return len(names)


def declared(project_dir: Path, stack: str) -> Declared:
    """The stack file's environment and warning window, with Pulumi.yaml's defaults applied."""
    config = mock.stack_config(project_dir, stack)
    # Pulumi.yaml declares the default, so the key is there unless the project file is missing.
    days = config.get(f"{c.PROJECT}:tokenWarningDays")
    return Declared(
        environment=config.get(f"{c.PROJECT}:environment"),
        token_warning_days=int(days)
        if days is not None and days.isdigit()
        else DEFAULT_WARNING_DAYS,
    )


Progress = Callable[[int, int, str], None]


def collect(
    names: Sequence[str],
    reader: StateReader,
    declarations: Mapping[str, Declared],
    today: date,
    *,
    drift_dir: Path | None = None,
    jobs: int = 8,
    progress: Progress | None = None,
) -> list[StackStatus]:
    """Every stack's status, read in parallel (each read is a CLI call that waits on the backend)."""

    def one(stack: str) -> StackStatus:
        decl = declarations[stack]
        try:
            export = reader.export(stack)
            history = reader.history(stack) if export is not None else []
            digest_file = drift_dir / f"{stack}.json" if drift_dir is not None else None
            digest = (
                digest_file.read_text()
                if digest_file is not None and digest_file.is_file()
                else None
            )
            return from_state(stack, export, history, decl, today, drift_digest=digest)
        except (StateReadError, OSError) as error:
            return StackStatus(stack, decl.environment, deployed=False, error=str(error))

    results: dict[str, StackStatus] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, name): name for name in names}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done, len(names), futures[future])
    return [results[name] for name in names]
