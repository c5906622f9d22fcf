"""Scenario 4: adopting a cluster that d1 bootstrapped, with `fleet adopt`, then `up`.

The cluster is prepared the d1 way: the operator's chart installed as the Helm release
`flux-operator` (by a throwaway stack that is then forgotten, as `helm install` leaves a release no
stack owns), and the stack's objects server-side applied by kubectl under kustomize-controller's
field manager, as Flux would have applied them from d1-fleet. Then the README's adoption
(Adopting a running cluster): `fleet adopt` writes the import file, the providers go into the state,
`pulumi import` imports, `fleet adopt --hand-over-secrets` hands the Secrets' fields to the stack,
and `up` must replace and delete nothing. A second `fleet adopt` finds nothing left to import.

`fleet adopt --run` would put the providers into the state with `pulumi up --target`, which runs
the program through the Python language host; here that step runs as the Automation API's targeted
`up` of the same providers. `pulumi import` itself loads the language host too, which the Go proxy
does not serve: the scenario is skipped, saying so, unless the bin folder holds one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi import automation as auto

from tests.real_engine.checks import kube_resources
from tests.real_engine.control_plane import CONTEXT, ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, language_host_missing, tier_config
from tests.real_engine.kube import Discovery
from tests.real_engine.operator_standin import OperatorStandIn

KUBECTL = shutil.which("kubectl")
# Seen on this tier: `pulumi import` loads the project's language plugin whatever its flags, and
# the Automation API's import has no inline (--client) form.
IMPORT_ANSWER = (
    "failed to load language plugin python: no language plugin 'pulumi-language-python' found"
)


def helm_install(engine: Engine, cluster: ControlPlane, chart: Path) -> None:
    """`helm install flux-operator` into flux-system, then forget who did it."""

    def program() -> None:
        provider = k8s.Provider("bootstrap", kubeconfig=str(cluster.kubeconfig), context=CONTEXT)
        opts = pulumi.ResourceOptions(provider=provider)
        namespace = k8s.core.v1.Namespace(
            "flux-system", metadata={"name": "flux-system"}, opts=opts
        )
        k8s.helm.v3.Release(
            "flux-operator",
            name="flux-operator",
            chart=str(chart),
            namespace=namespace.metadata["name"],
            values={"multitenancy": {"enabled": True, "defaultServiceAccount": "default"}},
            opts=opts,
        )

    options = auto.LocalWorkspaceOptions(
        work_dir=str(engine.project.parent / "bootstrap"),
        pulumi_command=auto.PulumiCommand(root=str(engine.bin.parent), skip_version_check=True),
        env_vars=engine.env,
    )
    Path(options.work_dir or "").mkdir(exist_ok=True)
    stack = auto.create_or_select_stack(
        "bootstrap", project_name="bootstrap", program=program, opts=options
    )
    assert stack.up(color="never").summary.result == "succeeded"
    stack.workspace.remove_stack("bootstrap", force=True)


def kubectl(cluster: ControlPlane, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(cluster.kubeconfig), "--context", CONTEXT, *args],
        capture_output=True,
        text=True,
        check=False,
    )


def flux_apply(cluster: ControlPlane, manifests: Path) -> None:
    """Server-side apply as kustomize-controller, until every kind's CRD is there."""
    deadline = time.monotonic() + 60
    while True:
        done = kubectl(
            cluster,
            "apply",
            "--server-side",
            "--field-manager=kustomize-controller",
            "-f",
            str(manifests),
        )
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(2)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not on PATH (the d1 bootstrap applies with it)"
)
def test_adopting_a_d1_cluster_replaces_and_deletes_nothing(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine
) -> None:
    reason = language_host_missing(engine.bin, "pulumi import")
    if reason:
        pytest.skip(f"{reason}; the CLI answers: {IMPORT_ANSWER}")
    engine.write_stack("staging", tier_config(cluster, chart))
    helm_install(engine, cluster, chart)
    rendered = engine.project.parent / "render"
    render = engine.fleet("render", "-s", "staging", "--out", str(rendered), env=TOKENS)
    assert render.returncode == 0, render.stderr
    flux_apply(cluster, rendered / "kubernetes")

    written = engine.fleet(
        "adopt", "staging", "--out", str(engine.project / "adopt.json"), env=TOKENS
    )
    assert written.returncode == 0, written.stdout + written.stderr
    document = json.loads((engine.project / "adopt.json").read_text())
    providers = sorted(set(document.get("nameTable", {}).values()))
    assert providers, document

    with inside(engine.project, TOKENS):
        stack = engine.stack("staging")
        assert stack.up(color="never", target=providers).summary.result == "succeeded"
    imported = engine.cli(
        "import", "--stack", "staging", "--file", str(engine.project / "adopt.json"),
        "--yes", "--protect=true", "--generate-code=false",
    )  # fmt: skip
    assert imported.returncode == 0
    handed = engine.fleet("adopt", "staging", "--hand-over-secrets", env=TOKENS)
    assert handed.returncode == 0, handed.stdout + handed.stderr

    discovery = Discovery(cluster.kube())
    before = {}
    for resource in kube_resources(engine.export("staging")):
        live = discovery.live(resource["outputs"])
        assert live, resource["urn"]
        before[resource["urn"]] = live["metadata"]["uid"]
    with inside(engine.project, TOKENS):
        plan = stack.preview(color="never", json=True)
        ops = {step["op"] for step in json.loads(plan.stdout)["steps"]}
        assert not ops & {"replace", "create-replacement", "delete-replaced", "delete"}, ops
        assert stack.up(color="never").summary.result == "succeeded"
    for urn, uid in before.items():
        resource = next(r for r in kube_resources(engine.export("staging")) if r["urn"] == urn)
        live = discovery.live(resource["outputs"])
        assert live is not None, urn
        assert live["metadata"]["uid"] == uid, f"{urn} was replaced"

    again = engine.fleet(
        "adopt", "staging", "--out", str(engine.project / "again.json"), env=TOKENS
    )
    assert again.returncode == 0, again.stderr
    assert ": 0 resources to import" in again.stdout, again.stdout
