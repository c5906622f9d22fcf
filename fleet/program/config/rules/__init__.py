"""Rules across config keys: combinations the cluster, Flux or the Flux Operator would refuse.

A module per topic, run in the order of `MODULES`, each check in its module's order. The table in
docs/settings-checks.md lists every rule by its function name; keep it in step.
"""

from __future__ import annotations

from typing import Final

from fleet.program.config.rules import (
    cluster,
    controllers,
    github,
    github_app,
    receivers,
    spokes,
    switches,
    sync,
    tenants,
    threat_model,
    tokens,
)
from fleet.program.config.rules.base import Problem, Rule, Values

MODULES: Final = (
    cluster,
    github,
    switches,
    receivers,
    tokens,
    github_app,
    controllers,
    sync,
    tenants,
    spokes,
    threat_model,
)
CHECKS: Final[tuple[Rule, ...]] = tuple(rule for module in MODULES for rule in module.RULES.checks)

__all__ = ["CHECKS", "MODULES", "Problem", "Values", "run"]


def run(values: Values) -> list[Problem]:
    """Every problem of every check whose inputs are valid, in check order."""
    return [problem for names, check in CHECKS if values.has(*names) for problem in check(values)]
