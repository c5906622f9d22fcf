"""The e2e lifecycle scenario on a running ephemeral stack, judged from `pulumi preview --json`.

After `python -m fleet.tools.ephemeral up`, on the run's first stack: rotate the tokens (preview
only) and require every Git credential Secret to be updated, never replaced; add a tenant, remove
it, bring it back (each previewed and checked to touch that tenant only, then applied); last,
`fleet adopt` on the stack must find nothing to import. The workflow then destroys the fleet.

The preview is the CLI's JSON digest, read by `fleet.engine.preview.planned`; its `op` names are the
engine's step operations (`same`, `create`, `update`, `delete`, `replace`, ...).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from fleet.engine import state
from fleet.engine import types as t
from fleet.engine.cli import POLICY_PACK, CommandError, PulumiCli, Runner
from fleet.engine.preview import planned
from fleet.program import conventions as c
from fleet.tools.ephemeral import naming
from fleet.tools.ephemeral.backend import PreflightError, backend_url
from fleet.tools.offline import import_plan

SAME: Final = "same"
# Steps that delete the object the stack had (a replacement deletes before or after creating).
REPLACING: Final = frozenset({"replace", "create-replacement", "delete-replaced"})
GIT_SECRETS: Final = (c.PLATFORM_SECRET, c.APPS_SECRET)
TENANT: Final = "lifecycle"
TOKEN_VARIABLES: Final = ("FLEET_PLATFORM_TOKEN", "FLEET_APPS_TOKEN")
# Kubernetes minors each Flux line supports (fluxcd/flux2 release notes, "Supported Kubernetes
# versions": the three newest minors when the line is released); the e2e kind node image must be
# inside the range of the line its base stack deploys.
FLUX_KUBERNETES: Final = {7: (32, 34), 8: (33, 35), 9: (34, 36)}


def kubernetes_minor(node_image: str) -> int:
    """The Kubernetes minor of a kind node image (`kindest/node:v1.34.0@sha256:...`)."""
    tag = node_image.split("@", 1)[0].rsplit(":", 1)[-1]
    return int(tag.removeprefix("v").split(".")[1])


def supports(flux_minor: int, node_image: str) -> bool:
    low, high = FLUX_KUBERNETES[flux_minor]
    return low <= kubernetes_minor(node_image) <= high


class ScenarioError(Exception):
    """A step of the scenario failed or the engine planned something it must not."""


def rotation_problems(preview: Mapping[str, Any]) -> list[str]:
    """A token rotation must update the Git credential Secrets in place and replace nothing."""
    found = planned(preview)
    problems = [
        f"{s.op} {s.urn}: a token rotation replaces nothing" for s in found if s.op in REPLACING
    ]
    updated = {s.name for s in found if s.type == t.SECRET and s.op == "update"}
    problems.extend(
        f"Secret {name}: not updated by the rotation" for name in GIT_SECRETS if name not in updated
    )
    problems.extend(
        f"{s.op} {s.urn}: Git credential Secrets are updated in place"
        for s in found
        if s.type == t.SECRET and s.name in GIT_SECRETS and s.op not in ("update", SAME)
    )
    return problems


def tenant_problems(preview: Mapping[str, Any], tenant: str, op: str) -> list[str]:
    """Adding (`create`) or removing (`delete`) a tenant touches that tenant's resources only."""
    found = [s for s in planned(preview) if s.op != SAME]
    marker = f"-tenant-{tenant}"
    problems = [
        f"{s.op} {s.urn}: only tenant {tenant} may change"
        for s in found
        if marker not in s.logical_name
    ]
    problems.extend(
        f"{s.op} {s.urn}: expected {op}" for s in found if marker in s.logical_name and s.op != op
    )
    if not any(s.op == op and s.type == t.NAMESPACE for s in found):
        problems.append(f"tenant {tenant}: its namespace is not planned for {op}")
    return problems


@dataclass
class Scenario:
    """The CLI calls of the scenario against one stack; `run` is replaced in tests."""

    stack: str
    project_dir: Path
    env: Mapping[str, str]
    pulumi: str = "pulumi"
    run: Runner = subprocess.run

    def cli(self) -> PulumiCli:
        return PulumiCli(self.pulumi, self.env, self.project_dir, self.run)

    def _call(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        try:
            return self.cli().output(*args, "--stack", self.stack, env=env)
        except CommandError as error:
            raise ScenarioError(
                f"pulumi {args[0]} failed: {error.stderr.strip()[-2000:]}"
            ) from None

    def preview(self, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        text = self._call("preview", "--json", "--policy-pack", POLICY_PACK, env=env)
        document: dict[str, Any] = json.loads(text)
        return document

    def up(self) -> None:
        self._call("up", "--yes", "--skip-preview", "--policy-pack", POLICY_PACK)

    def tenants(self) -> list[str]:
        """The stack's tenants: its own `tenants`, else the program's default."""
        try:
            raw = self._call("config", "get", f"{c.PROJECT}:tenants", "--json")
        except ScenarioError:
            return list(c.DEFAULT_TENANTS)
        value = json.loads(raw)["value"]
        return list(json.loads(value) if isinstance(value, str) else value)

    def set_tenants(self, tenants: Sequence[str]) -> None:
        """Write `tenants` as a list value: the key is typed `array<string>` in Pulumi.yaml, and
        the CLI refuses a plain string there, so each entry is set by its path."""
        key = f"{c.PROJECT}:tenants"
        self._call("config", "rm", key)
        for index, tenant in enumerate(tenants):
            self._call("config", "set", "--path", f"{key}[{index}]", tenant)


def rotated(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with each token replaced by a new, never shown value of the same form."""
    present = [v for v in TOKEN_VARIABLES if env.get(v)]
    if not present:
        raise ScenarioError(f"set {' and '.join(TOKEN_VARIABLES)}: the rotation needs the tokens")
    return {**env, **{v: "github_pat_" + secrets.token_hex(41) for v in present}}


def run_scenario(scenario: Scenario, report: Callable[[str], None] = print) -> None:
    """Rotation, then a tenant added, removed and brought back, then adopt finds nothing."""
    _expect(rotation_problems(scenario.preview(rotated(scenario.env))), "token rotation")
    report(f"{scenario.stack}: token rotation updates the Git Secrets in place")
    base = [t for t in scenario.tenants() if t != TENANT]
    for tenants, op, what in (
        ([*base, TENANT], "create", "added"),
        (base, "delete", "removed"),
        ([*base, TENANT], "create", "brought back"),
    ):
        scenario.set_tenants(tenants)
        _expect(tenant_problems(scenario.preview(), TENANT, op), f"tenant {what}")
        scenario.up()
        report(f"{scenario.stack}: tenant {TENANT} {what}")
    scenario.set_tenants(base)
    scenario.up()
    in_state = state.read_urns(scenario.cli(), scenario.stack)
    again = import_plan.plan_stack(scenario.project_dir, scenario.stack, in_state=in_state)
    leftover = [e["name"] for e in again.document["resources"] if "id" in e]
    _expect([f"{n}: adopt would import it again" for n in leftover], "adopt again")
    report(f"{scenario.stack}: fleet adopt finds nothing to import")


def _expect(problems: Iterable[str], what: str) -> None:
    found = list(problems)
    if found:
        raise ScenarioError(f"{what}:\n" + "\n".join(f"  - {p}" for p in found))


def main(stack: str | None, project_dir: Path, env: Mapping[str, str]) -> int:
    """The scenario on `stack`, by default the first stack of this run (FLEET_RUN_ID)."""
    environment = dict(env)
    try:
        run_id = naming.resolve_run_id(None, environment, generate=False, now=datetime.now)
        stack = stack or naming.stack_name(naming.DEFAULT_PREFIX, run_id, 0)
        environment["PULUMI_BACKEND_URL"] = backend_url(environment, project_dir)
        run_scenario(Scenario(stack, project_dir, environment))
    except (
        ScenarioError,
        PreflightError,
        ValueError,
        state.StateError,
        import_plan.AdoptError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
