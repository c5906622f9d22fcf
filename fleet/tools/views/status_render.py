"""How `fleet status` shows the fleet: a terminal table, JSON for scripts, Markdown for an issue.

Each cell's text is computed once and the three formats share it; colour only marks what needs
action (red) or will soon (yellow), so the plain table says the same without it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from fleet.tools.views.status_read import (
    Credential,
    CredentialState,
    Drift,
    StackStatus,
)

# The drift workflow finds its issue by this marker, whatever the title has been edited to.
MARKER: Final = "<!-- fleet-status -->"
TITLE: Final = "Fleet status"

RED: Final = "\033[31m"
YELLOW: Final = "\033[33m"
GREEN: Final = "\033[32m"
BOLD: Final = "\033[1m"
RESET: Final = "\033[0m"

HEADERS: Final = (
    "STACK",
    "ENV",
    "FLUX",
    "OPERATOR",
    "READY",
    "TENANTS",
    "COMPONENTS",
    "CREDENTIALS",
    "LAST UPDATE",
    "DRIFT",
)

Cell = tuple[str, str]  # (text, colour or "")


def _versions(declared: str | None, applied: str | None) -> str:
    if declared is None and applied is None:
        return "-"
    if applied is None or applied.removeprefix("v") == declared:
        return f"{declared or '?'}"
    return f"{declared or '?'} -> {applied}"


def _credential(cred: Credential) -> str:
    if cred.state is CredentialState.EXPIRED:
        return f"{cred.name} expired {-cred.days_left}d ago"
    if cred.state is CredentialState.DUE:
        return f"{cred.name} due {-cred.days_left}d ago" if cred.days_left else f"{cred.name} due"
    return f"{cred.name} {cred.days_left}d"


_CREDENTIAL_COLOUR: Final = {
    CredentialState.OK: "",
    CredentialState.EXPIRING: YELLOW,
    CredentialState.DUE: YELLOW,
    CredentialState.EXPIRED: RED,
}


def cells(status: StackStatus) -> list[Cell]:
    """The row of one stack, each cell with the colour that flags it."""
    if status.error is not None:
        return [(status.stack, BOLD), (status.environment or "-", "")] + [
            ("unreadable", RED) if i == 0 else ("", "") for i in range(len(HEADERS) - 2)
        ]
    update = status.last_update
    update_text = (
        f"{update.start:%Y-%m-%d %H:%M} {update.kind} {update.result}" if update else "never"
    )
    update_colour = RED if update is None or update.result == "failed" else ""
    if not status.deployed:
        ready: Cell = ("-", "")
    elif status.flux_ready is True:
        ready = ("Ready", GREEN)
    elif status.flux_ready is False:
        ready = ("not Ready", RED)
    else:
        ready = ("unknown", "")
    creds = status.credentials
    worst = max((_rank(c.state) for c in creds), default=0)
    drift = status.drift
    drift_text = drift.state.value
    if drift.state is Drift.DRIFTED:
        drift_text = f"drifted ({sum(drift.changes.values())})"
    drift_colour = RED if drift.state in (Drift.DRIFTED, Drift.CHECK_FAILED) else ""
    return [
        (status.stack, BOLD),
        (status.environment or "-", ""),
        (_versions(status.flux_declared, status.flux_applied), ""),
        (_versions(status.chart_declared, status.chart_applied), ""),
        ready,
        ("-" if status.tenants is None else str(status.tenants), ""),
        ("-" if status.platform_components is None else str(status.platform_components), ""),
        (", ".join(_credential(c) for c in creds) or "-", ("", YELLOW, RED)[worst]),
        (update_text, update_colour),
        (drift_text, drift_colour),
    ]


def _rank(state: CredentialState) -> int:
    return {CredentialState.OK: 0, CredentialState.EXPIRING: 1, CredentialState.DUE: 1}.get(
        state, 2
    )


def as_table(statuses: Sequence[StackStatus], *, colour: bool) -> str:
    """Aligned columns; the padding is computed on the plain text, so colour never shifts them."""
    rows = [cells(s) for s in statuses]
    widths = [max([len(h), *(len(row[i][0]) for row in rows)]) for i, h in enumerate(HEADERS)]

    def line(row: Sequence[Cell]) -> str:
        parts = []
        for (text, tint), width in zip(row, widths, strict=True):
            padded = text.ljust(width)
            parts.append(f"{tint}{padded}{RESET}" if colour and tint else padded)
        return "  ".join(parts).rstrip() + "\n"

    text = line([(h, "") for h in HEADERS]) + "".join(line(row) for row in rows)
    return text + _actions(statuses, bullet="", colour=colour)


def _actions(statuses: Sequence[StackStatus], *, bullet: str, colour: bool) -> str:
    flagged = [(s.stack, p) for s in statuses for p in s.problems]
    if not flagged:
        return "\nNothing needs action.\n"
    head = f"{RED}Needs action:{RESET}" if colour else "Needs action:"
    return f"\n{head}\n" + "".join(f"{bullet}{stack}: {problem}\n" for stack, problem in flagged)


def as_markdown(statuses: Sequence[StackStatus], now: datetime) -> str:
    """The fleet issue's body: the marker, a summary line, the table and what needs action."""
    needing = [s.stack for s in statuses if s.problems]
    summary = (
        f"**{len(needing)} of {len(statuses)} stack(s) need action**: {', '.join(needing)}."
        if needing
        else f"All {len(statuses)} stack(s) are fine."
    )
    header = "| " + " | ".join(h.lower() for h in HEADERS) + " |\n"
    rule = "| " + " | ".join("---" for _ in HEADERS) + " |\n"
    body = ""
    for status in statuses:
        row = [
            f"**{text}**" if tint in (RED, YELLOW) and text else text.replace("|", "\\|")
            for text, tint in cells(status)
        ]
        row[0] = f"`{status.stack}`"
        body += "| " + " | ".join(row) + " |\n"
    return (
        f"{MARKER}\n"
        f"Read from each stack's state at {now:%Y-%m-%d %H:%M} UTC by `python -m fleet status`.\n\n"
        f"{summary}\n\n{header}{rule}{body}"
        + _actions(statuses, bullet="- ", colour=False).replace("Needs action:", "### Needs action")
    )


def as_json(statuses: Sequence[StackStatus], now: datetime) -> str:
    return json.dumps(
        {
            "generatedAt": now.isoformat(),
            "needsAction": any(s.problems for s in statuses),
            "stacks": [_json_stack(s) for s in statuses],
        },
        indent=2,
    )


def _json_stack(s: StackStatus) -> dict[str, Any]:
    update = s.last_update
    return {
        "stack": s.stack,
        "environment": s.environment,
        "deployed": s.deployed,
        "error": s.error,
        "flux": {
            "declared": s.flux_declared,
            "applied": s.flux_applied,
            "ready": s.flux_ready,
            "message": s.flux_message,
        },
        "operatorChart": {"declared": s.chart_declared, "applied": s.chart_applied},
        "tenants": s.tenants,
        "platformComponents": s.platform_components,
        "credentials": [
            {
                "name": c.name,
                "daysLeft": c.days_left,
                "expires": c.expires.isoformat(),
                "state": c.state.value,
            }
            for c in s.credentials
        ],
        "lastUpdate": None
        if update is None
        else {
            "kind": update.kind,
            "result": update.result,
            "startTime": update.start.isoformat(),
            "endTime": update.end.isoformat() if update.end else None,
            "resourceChanges": dict(update.changes),
        },
        "drift": {
            "state": s.drift.state.value,
            "source": s.drift.source,
            "changes": dict(s.drift.changes),
        },
        "problems": s.problems,
    }
