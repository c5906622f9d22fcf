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
