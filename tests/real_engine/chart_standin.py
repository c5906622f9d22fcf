"""The stand-in flux-operator chart (NOT the upstream chart), assembled for one run.

Its templates are the project's own (chart/flux-operator); the operator's CRDs and the upstream
chart's values schema are copied in from the schemas folder, so Helm validates the program's values
against the real schema and installs the real FluxInstance CRD.
"""

from __future__ import annotations

import shutil
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "chart" / "flux-operator"


def build_chart(schemas: Path, folder: Path) -> Path:
    """`<folder>/flux-operator`: the stand-in's templates with the upstream CRDs and values schema."""
    target = folder / "flux-operator"
    shutil.copytree(TEMPLATES, target)
    (target / "crds").mkdir()
    for crd in sorted((schemas / "crds").glob("fluxcd.controlplane.io_*.yaml")):
        shutil.copy(crd, target / "crds" / crd.name)
    schema = schemas / "charts" / "flux-operator" / "values.schema.json"
    shutil.copy(schema, target / "values.schema.json")
    return target
