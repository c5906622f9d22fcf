"""Scenario 2: a token rotated with `fleet init --replace`, previewed, reviewed and applied for real.

The README's rotation (Tokens, Rotating a token) promises that every copy of the token is updated in
place: Flux never runs without its Git secret. Here the real provider plans it and the API server's
uids tell whether the Secrets were replaced.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.real_engine.checks import kube_resources
from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import TOKENS, Engine, inside, tier_config
from tests.real_engine.kube import Discovery
from tests.real_engine.operator_standin import OperatorStandIn

SECRET = "kubernetes:core/v1:Secret"


def secret_uids(engine: Engine, cluster: ControlPlane) -> dict[str, str]:
    discovery = Discovery(cluster.kube())
    found = {}
    for resource in kube_resources(engine.export("staging")):
        if resource["type"] == SECRET:
            live = discovery.live(resource["outputs"])
            assert live, resource["urn"]
            found[resource["urn"]] = live["metadata"]["uid"]
    return found


def test_token_rotation_updates_every_secret_in_place_and_review_reads_the_real_preview(
    cluster: ControlPlane, chart: Path, operator: OperatorStandIn, engine: Engine, tmp_path: Path
) -> None:
    engine.write_stack("staging", tier_config(cluster, chart))
    stored = engine.fleet("init", "-s", "staging", env=TOKENS)
    assert stored.returncode == 0, stored.stdout + stored.stderr
    stack_file = (engine.project / "Pulumi.staging.yaml").read_text()
    assert TOKENS["FLEET_APPS_TOKEN"] not in stack_file, "the token must be stored encrypted"
    assert "d1-fleet:appsToken:\n    secure:" in stack_file

    with inside(engine.project, {}):
        stack = engine.stack("staging")
        assert stack.up(color="never").summary.result == "succeeded"
    before = secret_uids(engine, cluster)
    assert before

    rotated = {
        **TOKENS,
        "FLEET_APPS_TOKEN": "github_pat_" + "R" * 40,
        "FLEET_APPS_TOKEN_EXPIRES": "2099-06-30",
    }
    replaced = engine.fleet(
        "init",
        "-s",
        "staging",
        "--replace",
        env=rotated,
    )
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr

    with inside(engine.project, {}):
        preview = stack.preview(color="never", json=True)
    digest = json.loads(preview.stdout)
    ops = {step["urn"]: step["op"] for step in digest["steps"] if step["op"] != "same"}
    assert ops, "a rotated token must change the Secrets that hold it"
    assert set(ops.values()) == {"update"}, ops
    assert all(urn.split("::")[-2].endswith(SECRET) for urn in ops), ops
    assert rotated["FLEET_APPS_TOKEN"] not in preview.stdout, (
        "the new token leaked into the preview"
    )

    preview_file = tmp_path / "staging.json"
    preview_file.write_text(preview.stdout)
    review = engine.fleet("review", str(preview_file), env={})
    assert review.returncode == 0, review.stdout + review.stderr
    assert "staging" in review.stdout
    assert rotated["FLEET_APPS_TOKEN"] not in review.stdout

    with inside(engine.project, {}):
        assert stack.up(color="never").summary.result == "succeeded"
    after = secret_uids(engine, cluster)
    assert after == before, "a Secret was replaced (new uid) instead of updated in place"
