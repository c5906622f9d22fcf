"""Kubernetes' own object schemas (from `kubernetes-validate`), each read and compiled once.

`kubernetes_validate.utils.validate` re-reads the 1.8 MB definitions file and builds a new
validator on every call; a stack with a thousand tenants makes thousands of calls. This keeps the
same files and the same rules (the strict schemas of the newest packaged minor not above the
requested one, the first error reported) and builds one validator per kind and apiVersion.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from kubernetes_validate import utils as k8s_validate
from referencing import Registry, Resource

# `rbac.authorization.k8s.io/v1` is stored as `rbac-v1`, `v1` as `v1`: the package's file names.
_GROUP_SUFFIX = re.compile(r"^([^./]*)(?:\.[^/]*)?/")


class CoreSchemas:
    """Strict validators of one Kubernetes minor version, built on first use and kept."""

    def __init__(self, version: str) -> None:
        wanted = k8s_validate.major_minor(version)
        packaged = [v for v in k8s_validate.all_versions() if k8s_validate.major_minor(v) <= wanted]
        if not packaged or wanted > k8s_validate.latest_version():
            raise k8s_validate.VersionNotSupportedError(version=wanted)
        self.version = version
        self._folder = f"kubernetes-json-schema/v{packaged[-1]}-local-strict"
        self._registry: Registry[Any] | None = None
        self._validators: dict[tuple[str, str], jsonschema.protocols.Validator] = {}

    def _definitions(self) -> Registry[Any]:
        if self._registry is None:
            contents = k8s_validate.schema_contents(
                f"{self._folder}/_definitions.json", self.version
            )
            self._registry = Resource.from_contents(contents) @ Registry()
        return self._registry

    def validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator:
        """The strict validator of `kind` in `api_version`; `SchemaNotFoundError` if none."""
        key = (api_version, kind)
        if key not in self._validators:
            stem = kind.lower() + "-" + _GROUP_SUFFIX.sub(r"\1-", api_version)
            try:
                schema = k8s_validate.schema_contents(f"{self._folder}/{stem}.json", self.version)
            except FileNotFoundError:
                raise k8s_validate.SchemaNotFoundError(
                    version=k8s_validate.major_minor(self.version),
                    kind=kind,
                    api_version=api_version,
                ) from None
            registry = Resource.from_contents(schema) @ self._definitions()
            self._validators[key] = jsonschema.Draft202012Validator(schema, registry=registry)
        return self._validators[key]

    def first_error(self, manifest: dict[str, Any]) -> jsonschema.ValidationError | None:
        """The error `kubernetes_validate` would raise for `manifest`, or None when it conforms."""
        validator = self.validator(str(manifest["apiVersion"]), str(manifest["kind"]))
        return next(iter(validator.iter_errors(manifest)), None)
