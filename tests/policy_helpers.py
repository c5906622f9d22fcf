"""The policy pack's rules run over what the program declared, as the analyzer would see it."""

from __future__ import annotations

from collections.abc import Iterator

from fleet.tools.offline.mock import Recording
from policy import guardrails as g
from policy.guardrails import Resource


def resources(recording: Recording) -> list[Resource]:
    return [
        Resource(r.type, r.urn, g.from_wire(r.inputs), r.protect)
        for r in recording.resources
        if r.custom and not r.type.startswith("pulumi:providers:")
    ]


def violations(found: list[Resource], skip: tuple[str, ...] = ()) -> Iterator[str]:
    for r in found:
        for name, rule in g.RESOURCE_RULES.items():
            if name not in skip:
                yield from (f"{name} {r.urn}: {m}" for m in rule(r.type, r.props))
    for name, stack_rule in g.STACK_RULES.items():
        if name not in skip:
            yield from (f"{name} {urn}: {m}" for urn, m in stack_rule(found))
