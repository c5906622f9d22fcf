"""Strict conformance of rendered objects with Kubernetes' and Flux's own schemas, offline.

Mocked tests prove what the program declares; this proves the API server and the Flux controllers
would accept it:

- core Kubernetes objects: `kubernetes-validate` strict schemas of `KUBERNETES_VERSION` (unknown
  fields are errors);
- custom resources: the upstream CRD's `openAPIV3Schema` for the served apiVersion, made strict the
  way the API server's strict field validation is (unknown fields are errors unless the schema
  preserves them), plus the CRD's CEL rules (`fleet.tools.offline.cel_rules`) and the ObjectMeta rules the CRD
  schema leaves to the API server;
- Helm values: the chart's `values.schema.json`, applied to the partial document the program
  passes (see `Schemas.check_values`).

The CRDs and the chart schema come from `fleet.tools.offline.schemas`: `FLEET_SCHEMAS_DIR` when set,
otherwise the pinned upstream files fetched and verified into a cache folder. Flux's own CRDs are
those of the release the stack's FluxInstance deploys (`flux/<X.Y.Z>/`, as the Flux Operator
installs that release; a range such as 2.7.x takes the newest of that line the folder has), so a
field only a later Flux accepts fails a stack pinned to an older line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema
import yaml
from kubernetes_validate import utils as k8s_validate

from fleet.program.config import formats
from fleet.tools.offline import cel_rules, schemas
from fleet.tools.offline.core_schemas import CoreSchemas
from fleet.tools.offline.crd_schemas import Crd, crd_json_schema, parse_crd, values_json_schema
from fleet.tools.offline.manifests import ObjectRef
from fleet.tools.offline.render import SECRET_PLACEHOLDER, Render

SCHEMAS_ENV: Final = schemas.SCHEMAS_ENV


# Newest Kubernetes minor kubernetes-validate 1.37 ships; raise it with the clusters and the package.
KUBERNETES_VERSION: Final = "1.37"


UPSTREAM: Final = (
    "Get the same files from the upstream releases: each Flux controller's config/crd/bases "
    "(fluxcd/source-controller, kustomize-controller, helm-controller, notification-controller, "
    "image-reflector-controller, image-automation-controller) and "
    "controlplaneio-fluxcd/flux-operator config/crd/bases into <dir>/crds, and "
    "controlplaneio-fluxcd/charts charts/flux-operator/values.schema.json into "
    "<dir>/charts/flux-operator, and each Flux release's manifests from the Flux Operator's "
    "config/data/flux/v<X.Y.Z> into <dir>/flux/<X.Y.Z>; docs/conformance.md lists the tags."
)


# Core kinds without a namespace; every other core kind needs one (a CRD says its own scope).
CLUSTER_SCOPED: Final = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "CSIDriver",
        "VolumeAttachment",
    }
)


_RBAC_GROUP: Final = "rbac.authorization.k8s.io"


# libyaml's parser when PyYAML has it (same documents, a fraction of the time).
_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")


_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


class SchemasMissingError(FileNotFoundError):
    """The schema folder is absent: conformance cannot run and must not pass silently."""


@dataclass(frozen=True)
class Problem:
    """One reason an object (or a Helm release's values) would be rejected."""

    subject: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.subject}{where}: {self.message}"


def schemas_dir() -> Path:
    """The schema folder: `$FLEET_SCHEMAS_DIR`, else the verified cache of the pinned files."""
    configured = os.environ.get(SCHEMAS_ENV)
    try:
        root = schemas.schemas_dir()
    except schemas.SchemasUnavailableError as error:
        raise SchemasMissingError(str(error)) from None
    if not (root / "crds").is_dir() or not any((root / "crds").glob("*.yaml")):
        source = f"${SCHEMAS_ENV}" if configured else "the schema cache"
        raise SchemasMissingError(
            f"no CRDs in {root / 'crds'} ({source}); conformance needs the upstream schemas. "
            + UPSTREAM.replace("<dir>", str(root))
        )
    return root


def _errors(validator: jsonschema.protocols.Validator, document: Any) -> Iterator[tuple[str, str]]:
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        yield ".".join(map(str, error.absolute_path)), error.message


def flux_releases(root: Path) -> list[tuple[int, ...]]:
    """The Flux releases whose CRDs the folder holds (`flux/<X.Y.Z>/`), oldest first."""
    found = [
        tuple(int(n) for n in p.name.split("."))
        for p in (root / "flux").glob("*.*.*")
        if p.is_dir() and all(n.isdigit() for n in p.name.split("."))
    ]
    return sorted(found)


def resolve_flux_release(version: str, root: Path) -> str:
    """The release of `root/flux` a FluxInstance `version` is checked against.

    A range (2.7.x, 2.x) takes the newest release it matches; an exact version its own folder,
    or else the newest patch of its line (patch releases of a line serve the same APIs).
    Raises SchemasMissingError when the folder has none of that line.
    """
    parts = version.split(".")
    wanted = tuple(int(p) for p in parts if p.isdigit())
    releases = flux_releases(root)
    if len(wanted) == 3 and wanted in releases:
        return version
    line = wanted[:2]
    matching = [r for r in releases if r[: len(line)] == line]
    if not matching:
        have = ", ".join(".".join(map(str, r)) for r in releases) or "none"
        raise SchemasMissingError(
            f"no Flux CRDs for fluxVersion {version} in {root / 'flux'} (it has: {have}); "
            "python -m fleet.tools.offline.schemas fetches the pinned releases' CRDs"
        )
    return ".".join(map(str, matching[-1]))


def _load_crds(folder: Path) -> dict[tuple[str, str], Crd]:
    """Every CRD of every YAML file in `folder` (one CRD a file, or a release's whole manifest)."""
    crds: dict[tuple[str, str], Crd] = {}
    for path in sorted(folder.glob("*.yaml")):
        for document in yaml.load_all(path.read_text(), Loader=_LOADER):
            if isinstance(document, Mapping) and document.get("kind") == "CustomResourceDefinition":
                crd = parse_crd(document)
                crds[(crd.group, crd.kind)] = crd
    return crds


class Schemas:
    """The CRDs and chart schemas of one schema folder, loaded once; validators built once each.

    `flux_release` replaces Flux's CRDs by those of that release (`flux/<X.Y.Z>/`); the Flux
    Operator's own CRDs stay those of `crds/`.
    """

    def __init__(self, root: Path, flux_release: str | None = None) -> None:
        self.root = root
        self.flux_release = flux_release
        self._validators: dict[tuple[str, str, str], jsonschema.protocols.Validator] = {}
        self._values_validators: dict[str, jsonschema.protocols.Validator] = {}
        self._core = CoreSchemas(KUBERNETES_VERSION)
        self._lines: dict[str, Schemas] = {}
        self.crds: dict[tuple[str, str], Crd] = _load_crds(root / "crds")
        if flux_release is not None:
            self.crds.update(_load_crds(root / "flux" / flux_release))

    @classmethod
    def load(cls) -> Schemas:
        return cls(schemas_dir())

    def for_flux(self, version: str) -> Schemas:
        """These schemas with Flux's CRDs of the release `version` resolves to (loaded once)."""
        release = resolve_flux_release(version, self.root)
        if release not in self._lines:
            self._lines[release] = Schemas(self.root, release)
        return self._lines[release]

    def _crd_validator(self, crd: Crd, version: str) -> jsonschema.protocols.Validator:
        key = (crd.group, crd.kind, version)
        if key not in self._validators:
            schema = crd_json_schema(crd.versions[version])
            # ObjectMeta is checked against Kubernetes' own schema (`_metadata`).
            schema.setdefault("properties", {})["metadata"] = {"type": "object"}
            self._validators[key] = jsonschema.Draft202012Validator(schema)
        return self._validators[key]

    def check_object(self, manifest: Mapping[str, Any], subject: str = "") -> list[Problem]:
        """Every reason the API server would reject `manifest`; empty when it conforms."""
        ref = ObjectRef.of(manifest)
        subject = subject or ref.id or "object"
        api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str) or not kind:
            return [Problem(subject, "", "apiVersion and kind must be set")]
        group, _, version = api_version.rpartition("/")
        crd = self.crds.get((group, kind))
        if crd is not None:
            problems = self._check_custom(crd, version, manifest, subject)
        else:
            problems = self._check_core(manifest, subject)
        return problems + _metadata(manifest, subject, group, crd)

    def _check_custom(
        self, crd: Crd, version: str, manifest: Mapping[str, Any], subject: str
    ) -> list[Problem]:
        if version not in crd.versions:
            served = ", ".join(f"{crd.group}/{v}" for v in crd.versions)
            return [
                Problem(
                    subject,
                    "apiVersion",
                    f"{manifest['apiVersion']} is not served by the {crd.kind} CRD "
                    f"(served: {served})",
                )
            ]
        problems = [
            Problem(subject, path, message)
            for path, message in _errors(self._crd_validator(crd, version), manifest)
        ]
        problems.extend(self._metadata_schema(manifest, subject))
        checked = {(r.path, r.message) for r in cel_rules.rules_for(crd.kind)}
        for path, message, rule in crd.cel(version):
            if not cel_rules.is_transition(rule) and (path, message) not in checked:
                problems.append(
                    Problem(
                        subject,
                        ".".join(path),
                        f"CEL rule not evaluated offline ({message!r}); add it to fleet/tools/offline/cel_rules.py",
                    )
                )
        problems.extend(
            Problem(subject, ".".join(r.path), f"CEL rule: {r.message}")
            for r in cel_rules.violations(manifest)
        )
        return problems

    def _check_core(self, manifest: Mapping[str, Any], subject: str) -> list[Problem]:
        try:
            error = self._core.first_error(dict(manifest))
        except k8s_validate.SchemaNotFoundError:
            return [
                Problem(
                    subject,
                    "apiVersion",
                    f"{manifest['apiVersion']} {manifest['kind']} is neither a Kubernetes "
                    f"{KUBERNETES_VERSION} kind nor defined by a CRD in the schema folder",
                )
            ]
        if error is not None:
            return [Problem(subject, ".".join(map(str, error.absolute_path)), str(error.message))]
        return []

    def _metadata_schema(self, manifest: Mapping[str, Any], subject: str) -> list[Problem]:
        """A CRD's schema leaves `metadata` open; Kubernetes' ObjectMeta schema is strict."""
        carrier = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": manifest.get("metadata")}
        return self._check_core(carrier, subject)

    def check_values(self, chart: str, values: Mapping[str, Any], subject: str) -> list[Problem]:
        """Problems of the values a release passes to `chart`, by the chart's values.schema.json.

        The chart is found by the last segment of its reference (`oci://.../flux-operator`).
        """
        name = chart.rstrip("/").rsplit("/", 1)[-1].split(":")[0]
        path = self.root / "charts" / name / "values.schema.json"
        if not path.is_file():
            return [Problem(subject, "chart", f"no values schema for chart {name!r} at {path}")]
        if name not in self._values_validators:
            schema = values_json_schema(yaml.safe_load(path.read_text()))
            self._values_validators[name] = jsonschema.validators.validator_for(schema)(schema)
        validator = self._values_validators[name]
        problems = [
            Problem(subject, f"values.{p}".rstrip("."), m) for p, m in _errors(validator, values)
        ]
        problems.extend(
            Problem(subject, f"values.{p}", "null deletes the chart's default; set a value instead")
            for p in _nulls(values, "")
        )
        return problems


def _nulls(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, child in value.items():
            where = f"{path}.{key}" if path else str(key)
            if child is None:
                yield where
            else:
                yield from _nulls(child, where)


def _metadata(
    manifest: Mapping[str, Any], subject: str, group: str, crd: Crd | None
) -> list[Problem]:
    """ObjectMeta rules the API server applies beyond any schema: name, namespace, labels."""
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping):
        return [Problem(subject, "metadata", "metadata must be set")]
    problems: list[Problem] = []
    kind = manifest["kind"]
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if isinstance(name, str) and (message := _name_problem(kind, group, name)):
        problems.append(Problem(subject, "metadata.name", message))
    if isinstance(namespace, str) and not formats.dns_label_ok(namespace):
        problems.append(
            Problem(subject, "metadata.namespace", f"{namespace!r} is not a DNS-1123 label")
        )
    cluster_scoped = crd.scope == "Cluster" if crd is not None else kind in CLUSTER_SCOPED
    if cluster_scoped and namespace:
        problems.append(Problem(subject, "metadata.namespace", f"{kind} is cluster-scoped"))
    if not cluster_scoped and not namespace:
        problems.append(
            Problem(
                subject,
                "metadata.namespace",
                f"{kind} is namespaced; without a namespace the provider's default applies",
            )
        )
    for key, value in (metadata.get("labels") or {}).items():
        if message := _key_problem(key):
            problems.append(Problem(subject, f"metadata.labels.{key}", message))
        if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
            problems.append(
                Problem(subject, f"metadata.labels.{key}", f"invalid label value {value!r}")
            )
    for key in metadata.get("annotations") or {}:
        if message := _key_problem(key):
            problems.append(Problem(subject, f"metadata.annotations.{key}", message))
    return problems


def _name_problem(kind: str, group: str, name: str) -> str | None:
    if group == _RBAC_GROUP:
        # RBAC names are path segments, not DNS names (e.g. system:controller:...).
        ok = name not in (".", "..") and "/" not in name and "%" not in name and name != ""
        return None if ok else f"{name!r} is not a valid path segment name"
    if kind == "Namespace":
        return None if formats.dns_label_ok(name) else f"{name!r} is not a DNS-1123 label"
    if not formats.subdomain_ok(name):
        return f"{name!r} is not a DNS-1123 subdomain"
    return None


def _key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and not formats.subdomain_ok(prefix):
        return f"key prefix {prefix!r} is not a DNS-1123 subdomain"
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return f"key name {name!r} is not a qualified name"
    return None


def _scrub(problems: list[Problem], secrets: frozenset[str]) -> list[Problem]:
    """Problems as printable text: validators quote values, and secret ones must not show."""
    scrubbed = []
    for p in problems:
        message = p.message
        for secret in sorted(secrets, key=len, reverse=True):
            message = message.replace(secret, SECRET_PLACEHOLDER)
        scrubbed.append(Problem(p.subject, p.path, message))
    return scrubbed


def flux_version(render: Render) -> str | None:
    """The Flux version the stack's FluxInstance deploys (`spec.distribution.version`)."""
    for obj in render.objects:
        if obj.plain.get("kind") == "FluxInstance":
            distribution = (obj.plain.get("spec") or {}).get("distribution") or {}
            version = distribution.get("version")
            return str(version) if version else None
    return None


def check(render: Render, schemas: Schemas) -> list[Problem]:
    """Every conformance problem of one stack's render, validated on the real (in-memory) values,
    against the CRDs of the Flux release its FluxInstance deploys."""
    version = flux_version(render)
    if version is not None and schemas.flux_release is None:
        schemas = schemas.for_flux(version)
    problems: list[Problem] = []
    for obj in render.objects:
        problems.extend(_scrub(schemas.check_object(obj.plain, obj.ref.id), obj.secrets))
    for release in render.releases:
        subject = f"HelmRelease {release.namespace}/{release.name} ({release.chart})"
        found = schemas.check_values(release.chart, release.plain_values, subject)
        problems.extend(_scrub(found, release.secrets))
    return problems
