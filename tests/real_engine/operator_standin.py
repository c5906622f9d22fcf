"""The Flux Operator stand-in: a loop of the project's own, NOT the Flux Operator.

The real operator cannot run here (AGPL, and its module does not compile without a web build), so
this stand-in does the part of its job the program's awaits depend on, against the real API server:

- a FluxInstance gets the operator's finalizer, the CRDs of the Flux release its
  ``spec.distribution.version`` resolves to (from ``$FLEET_SCHEMAS_DIR/flux/<X.Y.Z>/``, applied with
  the operator's field manager), and ``Ready=True`` for its generation;
- a deleted FluxInstance loses those CRDs (so every Flux object goes with them, as when the real
  operator uninstalls) and then its finalizer;
- Flux objects (Kustomizations, Git and OCI repositories, HelmReleases, image automation) are
  reported ``Ready=True`` for their generation, standing in for the Flux controllers, which never
  run here: nothing is fetched or applied from Git.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tests.real_engine.kube import PATHS, Kube, KubeError, Obj, object_path

FINALIZER = "fluxcd.controlplane.io/finalizer"
TRANSIENT = (409, 429, 500, 503)
MANAGER = "flux-operator"
# The Flux kinds whose Ready condition the stand-in reports, by collection path.
FLUX_KINDS = (
    "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations",
    "/apis/source.toolkit.fluxcd.io/v1/gitrepositories",
    "/apis/source.toolkit.fluxcd.io/v1/ocirepositories",
    "/apis/helm.toolkit.fluxcd.io/v2/helmreleases",
    "/apis/image.toolkit.fluxcd.io/v1/imageupdateautomations",
    "/apis/notification.toolkit.fluxcd.io/v1/receivers",
)


def flux_release(schemas: Path, requested: str) -> Path:
    """The folder of CRDs for a version or range: `2.7.x` and `2.7.3` both take the 2.7 line's folder."""
    minor = ".".join(requested.lstrip("v").split(".")[:2])
    lines = sorted(
        p for p in (schemas / "flux").iterdir() if p.is_dir() and p.name.startswith(minor + ".")
    )
    if not lines:
        raise LookupError(f"no Flux CRDs for {requested} under {schemas / 'flux'}")
    return lines[-1]


def ready(generation: int, reason: str, message: str) -> list[Obj]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        {
            "type": "Ready",
            "status": "True",
            "observedGeneration": generation,
            "lastTransitionTime": now,
            "reason": reason,
            "message": message,
        }
    ]


class OperatorStandIn:
    """Runs the loop in a thread; ``log`` records what it did, for the tests' negative controls."""

    def __init__(self, kube: Kube, schemas: Path, interval: float = 0.5) -> None:
        self.kube = kube
        self.schemas = schemas
        self.interval = interval
        self.log: list[str] = []
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="flux-operator-stand-in", daemon=True
        )

    def __enter__(self) -> OperatorStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile()
            except KubeError as err:
                # 409: a write raced the engine's; 429 and 5xx: the server is still starting.
                if err.status not in TRANSIENT:
                    self.errors.append(str(err))
            except OSError as err:
                self.errors.append(str(err))
            self._stop.wait(self.interval)

    def reconcile(self) -> None:
        try:
            instances = self.kube.list(PATHS["FluxInstance"])
        except KubeError as err:
            if err.status != 404:  # the chart has not installed the CRD yet
                raise
            instances = []
        for instance in instances:
            if instance["metadata"].get("deletionTimestamp"):
                self.uninstall(instance)
            else:
                self.install(instance)
        for kind_path in FLUX_KINDS:
            try:
                objects = self.kube.list(kind_path)
            except KubeError:
                continue  # CRD not installed
            for obj in objects:
                self.report_ready(kind_path, obj)

    def instance_path(self, instance: Obj) -> str:
        meta = instance["metadata"]
        return object_path(PATHS["FluxInstance"], meta["name"], meta["namespace"])

    def install(self, instance: Obj) -> None:
        meta = instance["metadata"]
        path = self.instance_path(instance)
        if FINALIZER not in meta.get("finalizers", []):
            self.kube.merge_patch(
                path, {"metadata": {"finalizers": [*meta.get("finalizers", []), FINALIZER]}}
            )
        generation = int(meta.get("generation", 1))
        status = instance.get("status") or {}
        if any(
            c.get("type") == "Ready"
            and c.get("status") == "True"
            and c.get("observedGeneration") == generation
            for c in status.get("conditions", [])
        ):
            return
        release = flux_release(self.schemas, instance["spec"]["distribution"]["version"])
        for crd_file in sorted(release.glob("*.yaml")):
            crd: Obj = yaml.safe_load(crd_file.read_text())
            self.kube.apply(
                object_path(PATHS["CustomResourceDefinition"], crd["metadata"]["name"]),
                crd,
                MANAGER,
            )
        self.wait_established(release)
        revision = f"v{release.name}@sha256:stand-in"
        self.kube.merge_patch(
            path + "/status",
            {
                "status": {
                    "conditions": ready(
                        generation, "ReconciliationSucceeded", f"stand-in applied {revision}"
                    ),
                    "lastAppliedRevision": revision,
                    "lastAttemptedRevision": revision,
                }
            },
        )
        self.log.append(
            f"installed {meta['namespace']}/{meta['name']} Flux {release.name} gen {generation}"
        )

    def wait_established(self, release: Path, timeout: float = 30) -> None:
        names = [yaml.safe_load(f.read_text())["metadata"]["name"] for f in release.glob("*.yaml")]
        deadline = time.monotonic() + timeout
        for name in names:
            while time.monotonic() < deadline:
                crd = self.kube.get(object_path(PATHS["CustomResourceDefinition"], name)) or {}
                conditions = crd.get("status", {}).get("conditions", [])
                if any(c["type"] == "Established" and c["status"] == "True" for c in conditions):
                    break
                time.sleep(0.2)

    def uninstall(self, instance: Obj) -> None:
        meta = instance["metadata"]
        release = flux_release(self.schemas, instance["spec"]["distribution"]["version"])
        for crd_file in sorted(release.glob("*.yaml")):
            name = yaml.safe_load(crd_file.read_text())["metadata"]["name"]
            self.kube.delete(object_path(PATHS["CustomResourceDefinition"], name))
        finalizers = [f for f in meta.get("finalizers", []) if f != FINALIZER]
        self.kube.merge_patch(
            self.instance_path(instance), {"metadata": {"finalizers": finalizers}}
        )
        self.log.append(f"uninstalled {meta['namespace']}/{meta['name']}")

    def report_ready(self, kind_path: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return
        generation = int(meta.get("generation", 1))
        status = obj.get("status") or {}
        if status.get("observedGeneration") == generation:
            return
        path = object_path(kind_path, meta["name"], meta.get("namespace"))
        self.kube.merge_patch(
            path + "/status",
            {
                "status": {
                    "observedGeneration": generation,
                    "conditions": ready(
                        generation, "ReconciliationSucceeded", "stand-in: not reconciled"
                    ),
                }
            },
        )
        self.log.append(
            f"ready {kind_path.rsplit('/', 1)[1]} {meta.get('namespace')}/{meta['name']}"
        )
