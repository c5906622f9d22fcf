"""Summaries of measured runs: medians, program/floor ratios and the tables the README shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any


@dataclass(frozen=True)
class Summary:
    """One workload. Times in seconds (evaluation only, imports apart), memory in MB."""

    workload: str
    label: str
    resources: int
    floor_resources: int
    pairs: int
    program_s: float
    floor_s: float
    ratio: float  # median of the pairs' program/floor ratios
    program_ms_per_resource: float
    floor_ms_per_resource: float
    own_ms_per_resource: float  # median of the pairs' (program - floor) / resources
    program_imports_s: float
    floor_imports_s: float
    program_gc_share: float
    program_peak_mb: float
    floor_peak_mb: float
    pulumi_github_loaded: bool
    gc_default_s: float | None = None
    gc_default_gc_share: float | None = None
    gc_default_peak_mb: float | None = None
    render_s: float | None = None
    check_s: float | None = None

    @property
    def check_over_render(self) -> float | None:
        if self.render_s is None or self.check_s is None:
            return None
        return self.check_s / self.render_s

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "check_over_render": self.check_over_render}


def _only(runs: Sequence[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in runs if r["kind"] == kind]


def _med(runs: Sequence[dict[str, Any]], key: str) -> float:
    return float(median(r[key] for r in runs))


def summarise(
    workload: str,
    label: str,
    pairs: Sequence[tuple[dict[str, Any], dict[str, Any]]],
    others: Sequence[dict[str, Any]],
) -> Summary:
    """`pairs` of (program, floor) runs measured back to back; `others` the single runs."""
    programs = [p for p, _ in pairs]
    floors = [f for _, f in pairs]
    resources = programs[0]["count"]
    gc_default = _only(others, "program-gc-default")
    render = _only(others, "render")
    check = _only(others, "check")
    return Summary(
        workload=workload,
        label=label,
        resources=resources,
        floor_resources=floors[0]["count"],
        pairs=len(pairs),
        program_s=_med(programs, "eval_s"),
        floor_s=_med(floors, "eval_s"),
        ratio=float(median(p["eval_s"] / f["eval_s"] for p, f in pairs)),
        program_ms_per_resource=1000 * _med(programs, "eval_s") / resources,
        floor_ms_per_resource=1000 * _med(floors, "eval_s") / resources,
        own_ms_per_resource=1000
        * float(median(p["eval_s"] - f["eval_s"] for p, f in pairs))
        / resources,
        program_imports_s=_med(programs, "imports_s"),
        floor_imports_s=_med(floors, "imports_s"),
        program_gc_share=float(median(p["gc_s"] / p["eval_s"] for p in programs)),
        program_peak_mb=_med(programs, "peak_mb"),
        floor_peak_mb=_med(floors, "peak_mb"),
        pulumi_github_loaded=any(p["pulumi_github_loaded"] for p in programs),
        gc_default_s=_med(gc_default, "eval_s") if gc_default else None,
        gc_default_gc_share=float(median(r["gc_s"] / r["eval_s"] for r in gc_default))
        if gc_default
        else None,
        gc_default_peak_mb=_med(gc_default, "peak_mb") if gc_default else None,
        render_s=_med(render, "eval_s") if render else None,
        check_s=_med(check, "eval_s") if check else None,
    )


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(summaries: Sequence[Summary]) -> str:
    """The program/floor table, then the tools and collector table."""
    lines = [
        "| workload | resources | program (s) | floor (s) | program / floor "
        "| ms per resource: program, floor, own | imports (s): program, floor | peak MB: program, floor |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for s in summaries:
        count = (
            str(s.resources)
            if s.resources == s.floor_resources
            else (f"{s.resources} (floor {s.floor_resources})")
        )
        lines.append(
            f"| {s.label} | {count} | {_f(s.program_s)} | {_f(s.floor_s)} | **{_f(s.ratio)}** "
            f"| {_f(s.program_ms_per_resource)}, {_f(s.floor_ms_per_resource)}, "
            f"{_f(s.own_ms_per_resource)} | {_f(s.program_imports_s)}, {_f(s.floor_imports_s)} "
            f"| {s.program_peak_mb:.0f}, {s.floor_peak_mb:.0f} |"
        )
    lines += [
        "",
        "| workload | fleet render (s) | fleet check (s) | check / render "
        "| program, tuned collector: s, GC share, peak MB | default collector: s, GC share, peak MB |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for s in summaries:
        default = (
            "-"
            if s.gc_default_s is None
            else f"{_f(s.gc_default_s)}, {s.gc_default_gc_share or 0:.0%}, {s.gc_default_peak_mb or 0:.0f}"
        )
        lines.append(
            f"| {s.label} | {_f(s.render_s)} | {_f(s.check_s)} | {_f(s.check_over_render)} "
            f"| {_f(s.program_s)}, {s.program_gc_share:.0%}, {s.program_peak_mb:.0f} | {default} |"
        )
    return "\n".join(lines) + "\n"
