"""The Flux Operator's Helm release: what a failed install or upgrade leaves behind."""

from __future__ import annotations

import pytest

from fleet.engine.types import HELM_RELEASE
from tests.helpers import stack_run


@pytest.mark.parametrize("stack", ["staging", "prod-eu"])
def test_operator_release_is_atomic_and_waits(stack: str) -> None:
    """pulumi-kubernetes `provider/pkg/provider/helm_release.go` (`helmCreate`, `helmUpdate`) hands
    `atomic` to Helm's install and upgrade actions, and `wait` unless `skipAwait`; Helm's
    `pkg/action/upgrade.go` (`Upgrade.failRelease`) then rolls a failed upgrade back to the last
    successful release, and `pkg/action/install.go` (`Install.failRelease`) uninstalls a failed
    first install, so the operator never stays half-upgraded."""
    (release,) = stack_run(stack).of_type(HELM_RELEASE)
    assert release.inputs["atomic"] is True, release.name
    assert not release.inputs.get("skipAwait"), release.name


def test_operator_chart_defaults_to_the_upstream_oci_repository() -> None:
    (release,) = stack_run("staging").of_type(HELM_RELEASE)
    assert release.inputs["chart"] == "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator"


@pytest.mark.parametrize(
    "chart",
    ["oci://registry.internal:5000/mirror/charts/flux-operator", "/srv/charts/flux-operator"],
)
def test_operator_chart_takes_a_mirror_or_a_local_folder(chart: str) -> None:
    """A mirror keeps the digest path (`<chart>@<digest>`); a folder is what Helm installs as is."""
    (release,) = stack_run("staging", {"operatorChart": chart}).of_type(HELM_RELEASE)
    assert release.inputs["chart"] == chart
    assert release.inputs["version"] == "0.58.1"
    digest = "sha256:" + "a" * 64
    if chart.startswith("oci://"):
        pinned = stack_run("staging", {"operatorChart": chart, "operatorChartDigest": digest})
        (release,) = pinned.of_type(HELM_RELEASE)
        assert release.inputs["chart"] == f"{chart}@{digest}"
