"""`fleet check` and `fleet render` do their expensive work once per kind or manifest, not per use."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from kubernetes_validate import utils as k8s_validate

from fleet.tools.offline import conformance, manifests, render
from fleet.tools.offline.core_schemas import CoreSchemas
from tests.helpers import ROOT, token_config


@pytest.fixture(scope="module")
def staging() -> render.Render:
    return render.render_stack(ROOT, "staging", token_config())


def test_core_schemas_read_each_file_once(
    staging: render.Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: Counter[str] = Counter()
    original = k8s_validate.schema_contents

    def counted(filename: str, version: str) -> Any:
        reads[filename.rsplit("/", 1)[-1]] += 1
        return original(filename, version)

    monkeypatch.setattr(k8s_validate, "schema_contents", counted)
    schemas = conformance.Schemas.load()
    assert conformance.check(staging, schemas) == []
    assert conformance.check(staging, schemas) == []
    core_kinds = {
        (o.ref.api_version, o.ref.kind)
        for o in staging.objects
        if (o.ref.api_version.rpartition("/")[0], o.ref.kind) not in schemas.crds
    }
    assert len(core_kinds) >= 4, core_kinds
    assert reads["_definitions.json"] == 1
    assert all(count == 1 for count in reads.values()), reads
    # Every core kind plus the ConfigMap carrying custom resources' metadata.
    assert len(reads) - 1 == len(core_kinds | {("v1", "ConfigMap")})


def _broken(manifest: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(manifest)
    node = broken
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return broken


def test_core_schemas_report_what_kubernetes_validate_reports(staging: render.Render) -> None:
    core = CoreSchemas(conformance.KUBERNETES_VERSION)
    crds = conformance.Schemas.load().crds
    samples = [
        o.plain
        for o in staging.objects
        if (o.ref.api_version.rpartition("/")[0], o.ref.kind) not in crds
    ]
    cases: list[dict[str, Any]] = []
    for manifest in samples:
        cases.append(manifest)
        cases.append(_broken(manifest, ("metadata", "labelz"), {"a": "b"}))
        cases.append(_broken(manifest, ("metadata", "name"), 42))
    cases.append({"apiVersion": "v1", "kind": "Frobnicator", "metadata": {"name": "x"}})
    rejected = 0
    for manifest in cases:
        try:
            k8s_validate.validate(manifest, conformance.KUBERNETES_VERSION, strict=True)
            expected: tuple[str, ...] | None = None
        except k8s_validate.ValidationError as error:
            expected = (".".join(map(str, error.absolute_path)), error.message)
        except k8s_validate.SchemaNotFoundError:
            with pytest.raises(k8s_validate.SchemaNotFoundError):
                core.first_error(manifest)
            continue
        found = core.first_error(manifest)
        got = None if found is None else (".".join(map(str, found.absolute_path)), found.message)
        assert got == expected, manifest
        rejected += expected is not None
    assert rejected >= 2 * len(samples)


def test_render_serialises_each_manifest_once(
    staging: render.Render, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[object] = []
    original = manifests.dump

    def counted(document: Any) -> str:
        calls.append(document)
        return original(document)

    monkeypatch.setattr(render, "dump", counted)
    result = render.render_stack(ROOT, "staging", token_config())
    written = render.write(result, tmp_path / "out")
    assert len(written) == len(result.objects) + 1
    # One per object plus the summary, although the leak check and the writer both read them.
    assert len(calls) == len(result.objects) + 1
    assert result.files() == staging.files()
