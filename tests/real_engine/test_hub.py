"""Scenario 8: the hub example with two spokes, each its own API server.

The hub stack (examples/hub) runs on one control plane and declares, on two others, each spoke's
namespace, accounts and token. What a hub's Flux would do with the result is checked against the
spokes' real API servers: the kubeconfig the hub holds for each spoke authenticates there, and may
impersonate exactly the account each remote Kustomization names (kustomize-controller impersonates
`system:serviceaccount:<namespace>:<serviceAccountName>` through it: fluxcd/pkg
runtime/client/impersonator.go).
"""

from __future__ import annotations

import base64
import json
import ssl
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.real_engine.control_plane import ControlPlane
from tests.real_engine.engine import ROOT, TOKENS, Engine, inside, tier_config
from tests.real_engine.kube import PATHS, object_path
from tests.real_engine.operator_standin import OperatorStandIn

HUB_FILE = ROOT / "examples" / "hub" / "Pulumi.hub.yaml"
SPOKES = ("staging", "production")
KUSTOMIZATIONS = "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations"


@pytest.fixture
def spokes(bin_dir: Path, tmp_path: Path) -> Iterator[dict[str, ControlPlane]]:
    planes: dict[str, ControlPlane] = {}
    try:
        for name in SPOKES:
            folder = tmp_path / f"spoke-{name}"
            folder.mkdir()
            planes[name] = ControlPlane(
                bin_dir, folder, Path(), pods=False, context=f"spoke-{name}"
            ).start()
        yield planes
    finally:
        for plane in planes.values():
            plane.stop()


def who_am_i(kubeconfig: dict[str, Any], impersonate: str | None) -> tuple[int, dict[str, Any]]:
    """POST a SelfSubjectReview to the kubeconfig's server as its user, optionally impersonating."""
    cluster = kubeconfig["clusters"][0]["cluster"]
    user = kubeconfig["users"][0]["user"]
    with tempfile.NamedTemporaryFile("wb", suffix=".crt") as ca:
        ca.write(base64.b64decode(cluster["certificate-authority-data"]))
        ca.flush()
        context = ssl.create_default_context(cafile=ca.name)
        body = json.dumps(
            {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
        ).encode()
        request = urllib.request.Request(
            cluster["server"] + "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            data=body,
            method="POST",
        )
        request.add_header("Authorization", f"Bearer {user['token']}")
        request.add_header("Content-Type", "application/json")
        if impersonate:
            request.add_header("Impersonate-User", impersonate)
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as err:
            return err.code, {}


def test_hub_spokes_hold_kubeconfigs_their_api_servers_accept_for_the_granted_impersonation(
    *,
    cluster: ControlPlane,
    chart: Path,
    operator: OperatorStandIn,
    bin_dir: Path,
    spokes: dict[str, ControlPlane],
    tmp_path: Path,
) -> None:
    engine = Engine.create(bin_dir, tmp_path / "hub", stack_files=())
    (engine.project / "Pulumi.hub.yaml").write_text(HUB_FILE.read_text())
    today = date.today().isoformat()
    entries = [
        f"{name}: server={plane.server}, environment={'production' if name == 'production' else 'staging'}, "
        f"rotated={today}, context={plane.context}, kubeconfig={plane.kubeconfig}"
        for name, plane in spokes.items()
    ]
    engine.write_stack("hub", {**tier_config(cluster, chart), "spokes": entries}, source=HUB_FILE)
    with inside(engine.project, TOKENS):
        stack = engine.stack("hub")
        result = stack.up(color="never")
        assert result.summary.result == "succeeded", result.stdout

    hub = cluster.kube()
    for name, plane in spokes.items():
        secret = hub.get(object_path(PATHS["Secret"], "cluster-kubeconfig", name))
        assert secret, f"no kubeconfig Secret for spoke {name} on the hub"
        kubeconfig = yaml.safe_load(base64.b64decode(secret["data"]["value"]))
        assert kubeconfig["clusters"][0]["cluster"]["server"] == plane.server

        status, review = who_am_i(kubeconfig, None)
        assert status == 201, f"spoke {name} refused the hub's token ({status})"
        assert review["status"]["userInfo"]["username"] == f"system:serviceaccount:{name}:flux-hub"

        remote = [
            k
            for k in hub.items(KUSTOMIZATIONS)
            if k["metadata"]["namespace"] == name and "kubeConfig" in k["spec"]
        ]
        assert remote, f"spoke {name} has no remote Kustomization"
        for kustomization in remote:
            account = f"system:serviceaccount:{name}:{kustomization['spec']['serviceAccountName']}"
            status, review = who_am_i(kubeconfig, account)
            assert status == 201, (
                f"{kustomization['metadata']['name']}: impersonating {account} refused"
            )
            assert review["status"]["userInfo"]["username"] == account
        # A negative control: an account the program did not grant is refused.
        status, _ = who_am_i(kubeconfig, "system:serviceaccount:kube-system:default")
        assert status == 403, (
            "the hub's token may impersonate accounts outside the spoke's namespace"
        )
