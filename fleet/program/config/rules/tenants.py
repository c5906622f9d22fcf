"""Rules on the lists of tenants and platform components: names, duplicates, dependency cycles."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from fleet.program import conventions as c
from fleet.program.config import formats
from fleet.program.config.rules.base import RESERVED_NAMESPACES, Problem, Rules, Values, duplicates

RULES: Final = Rules()

MAX_COMPONENT_NAME: Final = 50  # "<name>-controllers" must stay a DNS-1123 label

_SHOWN_CYCLE: Final = 8


@RULES.reads("tenants", "image_automation")
def _tenants(v: Values) -> Iterator[Problem]:
    tenants = v["tenants"]
    for name in duplicates(tenants):
        yield ("tenants", f"tenant {name!r} is listed more than once")
    for name in tenants:
        if name in RESERVED_NAMESPACES or name.startswith("kube-"):
            yield (
                "tenants",
                f"tenant {name!r} is a reserved namespace "
                "(flux-system, default and kube-* are not allowed)",
            )
    if v["image_automation"] and c.APPS_UPDATE_NAMESPACE in set(tenants):
        yield (
            "tenants",
            f"tenant {c.APPS_UPDATE_NAMESPACE!r} is the image automation namespace",
        )


@RULES.reads("platform_components")
def _platform_components(v: Values) -> Iterator[Problem]:
    entries: tuple[str, ...] = v["platform_components"]
    parsed = [formats.split_component(entry) for entry in entries]
    names = {name for name, _ in parsed}
    # The well-formed entries' dependencies (a component listed twice keeps both lists), searched
    # for a cycle whatever else is wrong, so a first run shows the cycle too.
    graph: dict[str, tuple[str, ...]] = {}
    for (name, deps), entry in zip(parsed, entries, strict=True):
        if not all(formats.dns_label_ok(n, MAX_COMPONENT_NAME) for n in (name, *deps)):
            yield (
                "platformComponents",
                f"{entry!r}: allowed: 'name' or 'name: dependency, ...' with DNS-1123 label "
                f"names of at most {MAX_COMPONENT_NAME} characters",
            )
            continue
        graph[name] = (*graph.get(name, ()), *deps)
        for dep in deps:
            if dep not in names:
                yield (
                    "platformComponents",
                    f"component {name!r} depends on {dep!r}, which is not a configured component",
                )
    for name in duplicates(name for name, _ in parsed):
        yield ("platformComponents", f"component {name!r} is listed more than once")
    cycle = find_cycle(graph)
    if cycle:
        yield ("platformComponents", "dependency cycle: " + _show_cycle(cycle))


def find_cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A dependency cycle as a path of names (first == last), or None.

    Iterative depth-first search: linear in nodes and edges, and no recursion limit to hit on a
    long chain.
    """
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        path = [root]
        on_path = {root: 0}
        pending = [iter(graph[root])]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                node = path.pop()
                del on_path[node]
                done.add(node)
                pending.pop()
            elif dep in on_path:
                return [*path[on_path[dep] :], dep]
            elif dep not in done:
                on_path[dep] = len(path)
                path.append(dep)
                pending.append(iter(graph.get(dep, ())))
    return None


def _show_cycle(cycle: list[str]) -> str:
    if len(cycle) <= _SHOWN_CYCLE:
        return " -> ".join(cycle)
    head = " -> ".join(cycle[: _SHOWN_CYCLE // 2])
    tail = " -> ".join(cycle[-2:])
    return f"{head} -> ... -> {tail} ({len(cycle) - 1} components)"
