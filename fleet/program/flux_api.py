"""Builders for the Flux custom resources the stack declares (GitRepository, Kustomization, ...).

Specs are plain camelCase dicts, exactly as the API server receives them, so tests and the
conformance check see what Flux will see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c


def custom_resource(
    name: str,
    *,
    api_version: str,
    kind: str,
    metadata: Mapping[str, Any],
    spec: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name,
        api_version=api_version,
        kind=kind,
        metadata=k8s.meta.v1.ObjectMetaArgs(**_snake(metadata)),
        spec=dict(spec),
        opts=opts,
    )


def _snake(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in metadata.items() if k in ("name", "namespace", "labels", "annotations")
    }


def git_repository_spec(
    url: str, branch: str, secret: str, interval: str, provider: str | None = None
) -> dict[str, Any]:
    """A GitRepository spec; `provider` only when set (`github` for GitHub App credentials)."""
    spec: dict[str, Any] = {
        "interval": interval,
        "ref": {"branch": branch},
        "secretRef": {"name": secret},
        "url": url,
    }
    if provider is not None:
        spec["provider"] = provider
    return spec


def kustomization_spec(
    *,
    source: str,
    path: str,
    service_account: str,
    interval: str,
    retry_interval: str,
    timeout: str | None = None,
    wait: bool | None = None,
    depends_on: Sequence[str] = (),
    patches: Sequence[Mapping[str, Any]] = (),
    substitute_from_runtime: bool = False,
    deletion_policy: str | None = None,
) -> dict[str, Any]:
    """A Kustomization spec in d1's shape (fields d1 leaves out stay out).

    `deletion_policy` is what kustomize-controller does with the objects the Kustomization applied
    when the Kustomization is deleted: with `prune: true` and no policy (MirrorPrune) it deletes
    them all, workloads and volumes included; `Orphan` leaves them running.
    """
    spec: dict[str, Any] = {"serviceAccountName": service_account}
    if depends_on:
        spec["dependsOn"] = [{"name": name} for name in depends_on]
    spec.update({"interval": interval, "retryInterval": retry_interval})
    if timeout is not None:
        spec["timeout"] = timeout
    if wait is not None:
        spec["wait"] = wait
    spec.update(
        {"path": path, "prune": True, "sourceRef": {"kind": "GitRepository", "name": source}}
    )
    if deletion_policy is not None:
        spec["deletionPolicy"] = deletion_policy
    if patches:
        spec["patches"] = [dict(p) for p in patches]
    if substitute_from_runtime:
        spec["postBuild"] = {"substituteFrom": [{"kind": "ConfigMap", "name": c.RUNTIME_CONFIGMAP}]}
    return spec


def image_update_automation_spec(
    *, source: str, branch: str, author_name: str, author_email: str
) -> dict[str, Any]:
    """d1's ImageUpdateAutomation: commit setter updates under ./components to the stack's branch."""
    return {
        "interval": "30m",
        "sourceRef": {"kind": "GitRepository", "name": source},
        "git": {
            "checkout": {"ref": {"branch": branch}},
            "commit": {
                "author": {"email": author_email, "name": author_name},
                "messageTemplate": c.AUTOMATION_MESSAGE_TEMPLATE,
            },
            "push": {"branch": branch},
        },
        "update": {"path": "./components", "strategy": "Setters"},
    }
