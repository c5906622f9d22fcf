"""A small Kubernetes REST client (urllib, bearer token, the control plane's CA) for the tier's checks
and stand-ins: what the API server holds is read here, never from Pulumi's state.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

Obj = dict[str, Any]
Objs = list[Obj]

# Plural and group path of each kind the tier reads; core kinds live under /api/v1.
PATHS: dict[str, str] = {
    "Namespace": "/api/v1/namespaces",
    "Secret": "/api/v1/secrets",
    "ConfigMap": "/api/v1/configmaps",
    "ServiceAccount": "/api/v1/serviceaccounts",
    "Service": "/api/v1/services",
    "Pod": "/api/v1/pods",
    "Deployment": "/apis/apps/v1/deployments",
    "Role": "/apis/rbac.authorization.k8s.io/v1/roles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    "CustomResourceDefinition": "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
    "ValidatingAdmissionPolicy": "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
    "ValidatingAdmissionPolicyBinding": "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
    "FluxInstance": "/apis/fluxcd.controlplane.io/v1/fluxinstances",
}


class KubeError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"{status}: {body[:500]}")
        self.status = status


class Kube:
    def __init__(self, server: str, ca: Path, token: str) -> None:
        self.server = server
        self.token = token
        self.context = ssl.create_default_context(cafile=str(ca))

    def request(
        self,
        method: str,
        path: str,
        body: Obj | None = None,
        content_type: str = "application/json",
    ) -> Obj:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=30) as response:
                raw = response.read()
        except urllib.error.HTTPError as err:
            raise KubeError(err.code, err.read().decode(errors="replace")) from None
        result: Obj = json.loads(raw) if raw else {}
        return result

    def get(self, path: str) -> Obj | None:
        try:
            return self.request("GET", path)
        except KubeError as err:
            if err.status == 404:
                return None
            raise

    def list(self, path: str) -> list[Obj]:
        items: list[Obj] = self.request("GET", path).get("items", [])
        return items

    def items(self, path: str) -> Objs:
        """Like `list`, but a kind the server does not serve (its CRD gone) has no objects."""
        try:
            return self.list(path)
        except KubeError as err:
            if err.status == 404:
                return []
            raise

    def create(self, path: str, body: Obj) -> Obj:
        return self.request("POST", path, body)

    def apply(self, path: str, body: Obj, manager: str) -> Obj:
        """Server-side apply, as kubectl and the Flux controllers write."""
        query = urllib.parse.urlencode({"fieldManager": manager, "force": "true"})
        return self.request("PATCH", f"{path}?{query}", body, "application/apply-patch+yaml")

    def merge_patch(self, path: str, body: Obj) -> Obj:
        return self.request("PATCH", path, body, "application/merge-patch+json")

    def delete(self, path: str) -> None:
        try:
            self.request("DELETE", path)
        except KubeError as err:
            if err.status != 404:
                raise


def object_path(kind_path: str, name: str, namespace: str | None = None) -> str:
    """`/api/v1/secrets` + ns + name -> `/api/v1/namespaces/<ns>/secrets/<name>`."""
    prefix, plural = kind_path.rsplit("/", 1)
    if namespace:
        return f"{prefix}/namespaces/{namespace}/{plural}/{name}"
    return f"{prefix}/{plural}/{name}"


class Discovery:
    """Kind -> collection path, from the API server's discovery (CRDs included)."""

    def __init__(self, kube: Kube) -> None:
        self.kube = kube
        self.cache: dict[str, dict[str, tuple[str, bool]]] = {}

    def resources(self, api_version: str) -> dict[str, tuple[str, bool]]:
        if api_version not in self.cache:
            base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
            listing = self.kube.get(base) or {}
            self.cache[api_version] = {
                r["kind"]: (f"{base}/{r['name']}", bool(r["namespaced"]))
                for r in listing.get("resources", [])
                if "/" not in r["name"]
            }
        return self.cache[api_version]

    def path(self, api_version: str, kind: str, name: str, namespace: str | None) -> str:
        if kind not in self.resources(api_version):
            self.cache.pop(api_version)  # a CRD installed since the last look
        collection, namespaced = self.resources(api_version)[kind]
        return object_path(collection, name, namespace if namespaced else None)

    def live(self, obj: Obj) -> Obj | None:
        """The API server's copy of an object given by apiVersion, kind and metadata."""
        meta = obj["metadata"]
        try:
            path = self.path(obj["apiVersion"], obj["kind"], meta["name"], meta.get("namespace"))
        except KeyError:
            return None  # the kind itself is gone (its CRD was removed)
        return self.kube.get(path)
