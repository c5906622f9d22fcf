"""Stack state in the engine's formats, built from what the program declares under the mock runtime.

`deployment` turns a `Recording` into the `UntypedDeployment` `pulumi stack export` prints (pulumi
`sdk/go/common/apitype/core.go`: `DeploymentV3` of `ResourceV3`), with engine URNs, secrets as
ciphertext, and the fields a live cluster adds (the FluxInstance's status, the Helm release's).
`history_entry` is one entry of `pulumi stack history --json` (`updateInfoJSON`,
`pkg/cmd/pulumi/stack/stack_history.go`). `python -m tests.status_fixtures` prints the example
fleet's table, as docs/review-and-status.md shows it.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fleet.engine import types as t
from fleet.program import conventions as c
from fleet.tools.offline import mock
from fleet.tools.views.status_read import Declared, StackStatus, StateReadError, collect
from tests.helpers import stack_run

TODAY = date(2026, 12, 4)
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270"


def _time(moment: datetime) -> str:
    """RFC 5424 with milliseconds, as the CLI prints history times (cmd.FormatTime)."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _encrypted(value: Any) -> Any:
    """Secrets as an export holds them: the secret signature and ciphertext, never the value."""
    plain, secret = mock.unwrap_secret(value)
    if secret:
        return {mock.SECRET_SIG: SECRET_VALUE_SIG, "ciphertext": "v1:bm90LWEtcmVhbC1jaXBoZXI="}
    if isinstance(value, dict):
        return {k: _encrypted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encrypted(v) for v in value]
    return plain


@dataclass(frozen=True)
class Live:
    """What the cluster reported at the last up or refresh, for the resources that carry status."""

    flux_ready: str | None = "True"  # the Ready condition's status; None: no condition yet
    flux_reason: str = "ReconciliationSucceeded"
    flux_message: str = "Reconciliation finished"
    flux_revision: str | None = "v2.7.3@sha256:4d1c"  # status.lastAppliedRevision
    chart_applied: str | None = None  # the Helm release's status.version; None: as declared


def deployment(
    recording: mock.Recording,
    stack: str,
    written: datetime,
    live: Live | None = None,
    first_deployed: datetime | None = None,
) -> dict[str, Any]:
    """The `pulumi stack export` of a stack that applied `recording` at `written`.

    The stack resource's `created` and `modified` are its first deployment's (`first_deployed`,
    default `written`): the engine never moves them (pulumi `pkg/resource/deploy/step.go`).
    """
    live = live or Live()
    root = f"urn:pulumi:{stack}::{c.PROJECT}::pulumi:pulumi:Stack::{c.PROJECT}-{stack}"
    urns = {r.urn: mock.engine_urn(recording, r, stack) for r in recording.resources}
    stamp = written.astimezone(UTC).isoformat().replace("+00:00", "Z")
    first = (first_deployed or written).astimezone(UTC).isoformat().replace("+00:00", "Z")
    resources: list[dict[str, Any]] = [
        {
            "urn": root,
            "custom": False,
            "type": "pulumi:pulumi:Stack",
            "outputs": _encrypted(
                {
                    k: {mock.SECRET_SIG: SECRET_VALUE_SIG, "value": v}
                    if k in recording.secret_outputs
                    else v
                    for k, v in recording.outputs.items()
                }
            ),
            "created": first,
            "modified": first,
        }
    ]
    for r in recording.resources:
        entry: dict[str, Any] = {
            "urn": urns[r.urn],
            "custom": r.custom,
            "type": r.type,
            "parent": urns.get(r.parent, root),
            "created": stamp,
            "modified": stamp,
        }
        if r.custom:
            inputs = _encrypted(r.inputs)
            entry |= {"id": f"{r.name}-id", "inputs": inputs, "outputs": _live(r, inputs, live)}
        if r.protect:
            entry["protect"] = True
        if r.dependencies:
            entry["dependencies"] = [urns.get(d, d) for d in r.dependencies]
        if r.provider:
            provider_urn, _, provider_id = r.provider.rpartition("::")
            entry["provider"] = f"{urns.get(provider_urn, provider_urn)}::{provider_id}"
        resources.append(entry)
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": stamp, "magic": "0" * 64, "version": "v3.211.0"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:c2FsdA=="}},
            "resources": resources,
        },
    }


def _live(r: mock.Registration, inputs: dict[str, Any], live: Live) -> dict[str, Any]:
    outputs = dict(inputs)
    if r.type == f"kubernetes:{c.FLUX_INSTANCE_API_VERSION}:{c.FLUX_INSTANCE_KIND}":
        status: dict[str, Any] = {}
        if live.flux_ready is not None:
            status["conditions"] = [
                {
                    "type": "Ready",
                    "status": live.flux_ready,
                    "reason": live.flux_reason,
                    "message": live.flux_message,
                }
            ]
        if live.flux_revision is not None:
            status["lastAppliedRevision"] = live.flux_revision
        outputs["status"] = status
    if r.type == t.HELM_RELEASE:
        outputs["status"] = {
            "name": inputs.get("name"),
            "namespace": inputs.get("namespace"),
            "chart": "flux-operator",
            "version": live.chart_applied or inputs.get("version"),
            "status": "deployed",
            "revision": 3,
        }
    return outputs


def empty_deployment() -> dict[str, Any]:
    """What `pulumi stack export` prints for a stack created but never updated."""
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "0001-01-01T00:00:00Z", "magic": "", "version": ""},
        },
    }


def history_entry(
    kind: str,
    result: str,
    start: datetime,
    changes: Mapping[str, int] | None = None,
    version: int = 1,
) -> dict[str, Any]:
    """One `pulumi stack history --json` entry that took two minutes."""
    entry: dict[str, Any] = {
        "version": version,
        "kind": kind,
        "startTime": _time(start),
        "message": "",
        "environment": {"exec.kind": "cli"},
        "config": {"d1-fleet:environment": {"value": "staging", "secret": False}},
        "result": result,
    }
    if result != "in-progress":
        entry["endTime"] = _time(start + timedelta(minutes=2))
        entry["resourceChanges"] = dict(changes or {"same": 50})
    return entry


@dataclass
class FakeReader:
    """A backend of recorded exports and histories; a stack missing from `exports` does not exist."""

    exports: dict[str, Mapping[str, Any] | None] = field(default_factory=dict)
    histories: dict[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)
    barrier: threading.Barrier | None = None

    def export(self, stack: str) -> Mapping[str, Any] | None:
        if self.barrier is not None:
            # Every stack must be read at the same time to get past this.
            self.barrier.wait(timeout=5)
        if stack in self.failing:
            raise StateReadError(self.failing[stack])
        return self.exports.get(stack)

    def history(self, stack: str) -> Sequence[Mapping[str, Any]]:
        return self.histories.get(stack, [])


DRIFT_DIGEST = '{"steps": [], "changeSummary": {"same": 48, "update": 2}}'


def example_fleet() -> tuple[list[StackStatus], FakeReader]:
    """The documented example fleet: healthy staging, a drifted production stack whose token is about
    to expire, one whose last update failed, and one never deployed."""
    written = NOW - timedelta(days=5)
    staging = stack_run("staging")
    prod = stack_run(
        "prod-eu", {"platformTokenExpires": (date.today() + timedelta(days=15)).isoformat()}
    )
    reader = FakeReader(
        exports={
            "staging": deployment(staging, "staging", written),
            "prod-eu": deployment(prod, "prod-eu", written),
            "prod-us": deployment(
                prod, "prod-us", written, Live(flux_revision="v2.7.2@sha256:9e0a")
            ),
        },
        histories={
            "staging": [
                history_entry("refresh", "succeeded", NOW - timedelta(hours=6), version=42),
                history_entry("update", "succeeded", written, {"same": 48, "update": 2}, 41),
            ],
            "prod-eu": [history_entry("update", "succeeded", written, {"same": 50}, 17)],
            "prod-us": [
                history_entry("update", "failed", NOW - timedelta(hours=2), {"same": 40}, 9),
                history_entry("update", "succeeded", written, {"same": 50}, 8),
            ],
        },
    )
    declared = {
        "staging": Declared("staging", 14),
        "prod-eu": Declared("production", 14),
        "prod-us": Declared("production", 14),
        "prod-ap": Declared("production", 14),
    }

    with tempfile.TemporaryDirectory() as folder:
        drift = Path(folder)
        (drift / "prod-eu.json").write_text(DRIFT_DIGEST)
        (drift / "prod-us.json").write_text('{"changeSummary": {"same": 50}}')
        statuses = collect(list(declared), reader, declared, TODAY, drift_dir=drift)
    return statuses, reader


if __name__ == "__main__":
    from fleet.tools.views.status_render import as_table

    print(as_table(example_fleet()[0], colour=False), end="")
