"""Checks that an ephemeral stack did what a cluster stack must: its outputs, and a Ready Flux.

The outputs are the program's contract (see __main__.py's exports); the cluster check asks the API
server through kubectl whether the FluxInstance reports Ready.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

from fleet.program.conventions import FLUX_INSTANCE_NAME, FLUX_NAMESPACE, RUNTIME_CONFIGMAP
from fleet.tools.ephemeral.overrides import ClusterTarget, qualified

# Given a cluster and a timeout in seconds, None when Ready, else what is wrong.
ReadyCheck = Callable[[ClusterTarget, int], str | None]

KUBECTL_INSTALL = "https://kubernetes.io/docs/tasks/tools/"


def check_outputs(
    outputs: Mapping[str, Any], *, cluster_name: str | None, environment: str | None
) -> list[str]:
    """Problems with a stack's plain output values; empty when they are as the program exports."""
    problems: list[str] = []

    def expect(key: str, ok: Callable[[Any], bool], wanted: str) -> None:
        if key not in outputs:
            problems.append(f"output {key} is missing")
        elif not ok(outputs[key]):
            problems.append(f"output {key} is {outputs[key]!r}, expected {wanted}")

    if cluster_name is not None:
        expect("clusterName", lambda v: v == cluster_name, repr(cluster_name))
    if environment is not None:
        expect("environment", lambda v: v == environment, repr(environment))
    for key in ("fluxVersion", "operatorChartVersion"):
        expect(key, lambda v: isinstance(v, str) and bool(v), "a version")
    expect(
        "tokenDaysLeft",
        lambda v: (
            isinstance(v, dict)
            and all(isinstance(v.get(t), int) and v[t] > 0 for t in ("platform", "apps"))
        ),
        "days left > 0 for the platform and apps tokens",
    )
    expect(
        "secretNames",
        lambda v: isinstance(v, list) and bool(v) and all(isinstance(n, str) for n in v),
        "a non-empty list of secret names",
    )
    expect("runtimeConfigMap", lambda v: v == RUNTIME_CONFIGMAP, repr(RUNTIME_CONFIGMAP))
    return problems


def target_of(config: Mapping[str, str]) -> ClusterTarget | None:
    """The stack's cluster from its config values; None if it names none."""
    context = config.get(qualified("kubeContext"))
    kubeconfig = config.get(qualified("kubeconfig"))
    if not context and not kubeconfig:
        return None
    return ClusterTarget(context or None, kubeconfig or None)


def kubectl_command(target: ClusterTarget, timeout: int) -> list[str]:
    command = ["kubectl"]
    if target.kubeconfig:
        command += ["--kubeconfig", target.kubeconfig]
    if target.context:
        command += ["--context", target.context]
    return [
        *command,
        "--namespace",
        FLUX_NAMESPACE,
        "wait",
        f"fluxinstance/{FLUX_INSTANCE_NAME}",
        "--for=condition=Ready",
        f"--timeout={timeout}s",
    ]


def kubectl_missing() -> str | None:
    if shutil.which("kubectl") is None:
        return (
            f"kubectl is not on PATH, so the FluxInstance cannot be checked; install it from "
            f"{KUBECTL_INSTALL} or pass --no-cluster-check to check the outputs only"
        )
    return None


def kubectl_ready(target: ClusterTarget, timeout: int) -> str | None:
    """Wait up to `timeout` seconds for the FluxInstance to be Ready, through kubectl."""
    if missing := kubectl_missing():
        return missing
    try:
        done = subprocess.run(
            kubectl_command(target, timeout),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout + 30,
        )
    except subprocess.TimeoutExpired:
        return f"kubectl wait on {target.label} did not return within {timeout + 30}s"
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip() or f"exit code {done.returncode}"
        return f"FluxInstance {FLUX_NAMESPACE}/{FLUX_INSTANCE_NAME} is not Ready: {detail}"
    return None
