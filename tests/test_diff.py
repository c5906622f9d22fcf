"""Comparing two stacks' renders shows exactly how the environments differ."""

from __future__ import annotations

import contextlib
import io

import pytest

from fleet import cli
from fleet.tools.offline import diff


@pytest.fixture(scope="module")
def staging_vs_prod() -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["diff", "staging", "prod-eu"])
    return code, out.getvalue()


def test_diff_takes_its_stacks_with_s_as_every_stack_command_does(
    staging_vs_prod: tuple[int, str],
) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(["diff", "-s", "staging", "--stack", "prod-eu"])
    assert (code, out.getvalue()) == staging_vs_prod
    assert cli.main(["diff", "-s", "staging"]) == cli.ExitCode.USAGE, "two stacks, not one"


def test_diff_staging_vs_prod_exits_1(staging_vs_prod: tuple[int, str]) -> None:
    code, _ = staging_vs_prod
    assert code == cli.ExitCode.FAILED


def test_diff_shows_the_image_automation_controllers(staging_vs_prod: tuple[int, str]) -> None:
    _, text = staging_vs_prod
    instance = text.split("+++ prod-eu/kubernetes/fluxinstance-flux-system-flux.yaml", 1)[1]
    instance = instance.split("\n--- ", 1)[0]
    assert "-  - image-reflector-controller" in instance
    assert "-  - image-automation-controller" in instance


def test_diff_lists_objects_only_staging_declares(staging_vs_prod: tuple[int, str]) -> None:
    _, text = staging_vs_prod
    assert "only in staging: kubernetes/imageupdateautomation-flux-system-flux-infra.yaml" in text
    assert "--- staging/kubernetes/imageupdateautomation-flux-system-flux-infra.yaml" in text


def test_diff_shows_the_runtime_values(staging_vs_prod: tuple[int, str]) -> None:
    _, text = staging_vs_prod
    runtime = text.split("+++ prod-eu/kubernetes/configmap-flux-system-flux-runtime-info.yaml", 1)[
        1
    ]
    runtime = runtime.split("\n--- ", 1)[0]
    for line in (
        "-  ENVIRONMENT: staging",
        "+  ENVIRONMENT: production",
        "-  CLUSTER_NAME: staging-1",
        "+  CLUSTER_NAME: prod-eu",
        "+  GIT_BRANCH: production",
    ):
        assert line in runtime


def test_diff_shows_production_protection(staging_vs_prod: tuple[int, str]) -> None:
    _, text = staging_vs_prod
    summary = text.split("+++ prod-eu/summary.yaml", 1)[1]
    assert "+  protect: true" in summary
    assert "+  type: github:index/team:Team" in summary


def test_diff_same_stack_has_no_differences(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["diff", "prod-eu", "prod-eu"]) == cli.ExitCode.OK
    assert "no differences" in capsys.readouterr().out


def test_diff_compare_lists_added_removed_and_changed() -> None:
    result = diff.compare(
        {"k/a.yaml": "x: 1\n", "k/b.yaml": "y: 1\n"},
        {"k/b.yaml": "y: 2\n", "k/c.yaml": "z: 1\n"},
        a_label="one",
        b_label="two",
    )
    assert (result.only_a, result.only_b, result.changed) == (
        ("k/a.yaml",),
        ("k/c.yaml",),
        ("k/b.yaml",),
    )
    assert not result.same
    assert "only in one: k/a.yaml" in result.text
    assert "only in two: k/c.yaml" in result.text
    assert "-y: 1\n+y: 2" in result.text
    assert "+++ /dev/null" in result.text
    assert "--- /dev/null" in result.text
