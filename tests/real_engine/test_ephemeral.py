"""Scenario 6: an ephemeral test fleet through the Automation API: up, verify, destroy, nothing left.

`fleet ephemeral up --destroy` runs as CI runs it: its own planning, naming, tags, configuration,
the policy pack on every `up`, verification (kubectl reads the FluxInstance) and teardown. The pack
runs through the Python language host, so without one in the bin folder the scenario is skipped
with the CLI's own answer (it ran and passed here before the tool applied the pack). One part differs: the tool's stacks run
the project's `__main__.py` as a local program, which the CLI starts through the Python language
host; the Go proxy does not serve that host, so the stacks here run the same `__main__.py` as an
inline program (the tool's stack factory is its injection point, `World.build_factory`).
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest
from pulumi import automation as auto

from fleet.cli.commands.ephemeral import main
from fleet.tools.ephemeral.app import World
from fleet.tools.ephemeral.backend import AutomationFactory
from fleet.tools.ephemeral.console import Console
from tests.real_engine.control_plane import CONTEXT, ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, language_host_missing, tier_config
from tests.real_engine.kube import PATHS
from tests.real_engine.operator_standin import OperatorStandIn

RUN_ID = "re1"


class InlineFactory(AutomationFactory):
    """The tool's factory, its stacks serving `__main__.py` from this process."""

    def __init__(self, engine: Engine) -> None:
        command = auto.PulumiCommand(root=str(engine.bin.parent), skip_version_check=True)
        super().__init__(engine.project, engine.env, command)
        self.engine = engine

    def create(self, name: str) -> auto.Stack:
        return auto.create_stack(
            name, project_name="d1-fleet", program=self.engine.program(), opts=self._options_in()
        )

    def select(self, name: str) -> auto.Stack:
        return auto.select_stack(
            name, project_name="d1-fleet", program=self.engine.program(), opts=self._options_in()
        )

    def _options_in(self) -> auto.LocalWorkspaceOptions:
        return auto.LocalWorkspaceOptions(
            work_dir=str(self.project_dir),
            env_vars=dict(self.env_vars),
            pulumi_command=self.pulumi_command,
        )


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not on PATH (the tool verifies with it)"
)
def test_ephemeral_fleet_up_verify_destroy_leaves_nothing_behind(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine
) -> None:
    # Every `up` of the tool applies the policy pack; the real CLI answers without the host:
    # "could not start policy pack ... no language plugin 'pulumi-language-python' found".
    reason = language_host_missing(engine.bin, "the policy pack the tool applies on every up")
    if reason:
        pytest.skip(reason)
    engine.write_stack("staging", tier_config(cluster, chart))
    factory = InlineFactory(engine)

    def build(project_dir: Path, url: str, env: Mapping[str, str]) -> AutomationFactory:
        return factory

    out = io.StringIO()
    env = {**engine.env, **TOKENS, "KUBECONFIG": str(cluster.kubeconfig)}
    world = World(env=env, build_factory=build, console=Console(out, out))
    args = [
        "up", "--project-dir", str(engine.project), "--run-id", RUN_ID, "--base-stack", "staging",
        "--kube-context", CONTEXT, "--kubeconfig", str(cluster.kubeconfig), "--destroy",
        "--ready-timeout", "60",
    ]  # fmt: skip
    with inside(engine.project, {**TOKENS, "KUBECONFIG": str(cluster.kubeconfig)}):
        code = main(args, world)
    assert code == 0, out.getvalue()

    assert [s.name for s in factory.list_stacks()] == [], (
        "an ephemeral stack is left in the backend"
    )
    leftovers = sorted(p.name for p in engine.project.glob("Pulumi.eph-*.yaml"))
    assert not leftovers, leftovers
    kube = cluster.kube()
    assert kube.items(PATHS["FluxInstance"]) == [], "a FluxInstance is left on the cluster"
    names = {n["metadata"]["name"] for n in kube.list(PATHS["Namespace"])}
    assert not names & {"flux-system", "backend", "frontend", "apps-update"}, names
