"""Fleet-wide rules over the stack files: a hub's spokes against the fleet's other stacks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from fleet.tools.offline import mock
from tests.helpers import hub_dir, stack_run


def spoke(name: str, server: str | None = None) -> str:
    return (
        f"{name}: server={server or f'https://{name}.example.com'}, environment=staging, "
        f"rotated={date.today().isoformat()}, context={name}"
    )


def refused(stack: str, folder: Path, overrides: dict[str, str] | None = None) -> str:
    with pytest.raises(mock.ProgramError) as caught:
        stack_run(stack, overrides, project_dir=folder)
    assert caught.value.recording.resources == []
    return str(caught.value)


def test_fleet_a_spoke_that_is_another_stacks_cluster_is_refused_on_both(tmp_path: Path) -> None:
    folder = hub_dir(tmp_path, beside=True)
    hub_file = folder / "Pulumi.hub.yaml"
    hub_file.write_text(
        hub_file.read_text().split("  d1-fleet:spokes:")[0]
        + f"  d1-fleet:spokes:\n    - {json.dumps(spoke('staging-1'))}\n"
    )
    message = refused("hub", folder)
    assert "spoke staging-1 is the cluster of stack staging, which runs its own Flux" in message
    assert "d1-fleet:clusterName: staging-1 is a spoke of hub stack hub" in refused(
        "staging", folder
    )


def second_hub(tmp_path: Path) -> Path:
    """The example hub beside the cluster stacks, and a copy of it as hub stack `hub2`."""
    folder = hub_dir(tmp_path, beside=True)
    (folder / "Pulumi.hub2.yaml").write_text(
        (folder / "Pulumi.hub.yaml")
        .read_text()
        .replace("clusterName: hub", "clusterName: hub2")
        .replace("kubeContext: hub", "kubeContext: hub2")
    )
    return folder


def test_fleet_two_hubs_may_not_share_a_spoke(tmp_path: Path) -> None:
    folder = second_hub(tmp_path)
    message = refused("hub2", folder)
    assert "spoke staging is also spoke staging of hub stack hub" in message
    # Another name for the same API server is the same cluster.
    renamed = json.dumps([spoke("other", "https://staging.internal.example.com:6443")])
    assert "spoke other is also spoke staging of hub stack hub" in refused(
        "hub2", folder, {"spokes": renamed}
    )


@pytest.mark.parametrize(
    "server",
    ["https://Staging.Internal.Example.COM:6443", "https://staging.internal.example.com:6443/"],
    ids=["capitals", "trailing slash"],
)
def test_fleet_two_hubs_may_not_share_a_spoke_spelled_another_way(
    tmp_path: Path, server: str
) -> None:
    folder = second_hub(tmp_path)
    renamed = json.dumps([spoke("other", server)])
    assert "spoke other is also spoke staging of hub stack hub" in refused(
        "hub2", folder, {"spokes": renamed}
    )


def test_fleet_the_example_hub_beside_the_cluster_stacks_passes(tmp_path: Path) -> None:
    folder = hub_dir(tmp_path, beside=True)
    for stack in mock.known_stacks(folder):
        assert stack_run(stack, project_dir=folder).resources, stack
