"""The FluxInstance `flux`: which Flux the operator installs and how it is configured."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options


@dataclass(frozen=True)
class Distribution:
    version: str
    registry: str
    artifact: str | None = None
    variant: str | None = None
    image_pull_secret: str | None = None


@dataclass(frozen=True)
class ClusterSpec:
    type: str = "kubernetes"
    multitenant: bool = True
    tenant_default_service_account: str = "default"
    network_policy: bool = True
    domain: str = "cluster.local"


@dataclass(frozen=True)
class Sync:
    kind: str
    url: str
    ref: str
    path: str
    pull_secret: str | None = None
    provider: str | None = None
    interval: str | None = None


@dataclass(frozen=True)
class InstanceArgs:
    namespace: pulumi.Input[str]
    distribution: Distribution
    components: Sequence[str]
    cluster: ClusterSpec
    patches: Sequence[Mapping[str, Any]] = c.D1_PATCHES
    sync: Sync | None = None
    ready_timeout_seconds: int = 600

    def spec(self) -> dict[str, Any]:
        """The FluxInstance spec exactly as the API server will receive it."""
        d = self.distribution
        spec: dict[str, Any] = {
            "distribution": _compact(
                {
                    "version": d.version,
                    "registry": d.registry,
                    "artifact": d.artifact,
                    "variant": d.variant,
                    "imagePullSecret": d.image_pull_secret,
                }
            ),
            "components": list(self.components),
            "cluster": {
                "type": self.cluster.type,
                "multitenant": self.cluster.multitenant,
                "tenantDefaultServiceAccount": self.cluster.tenant_default_service_account,
                "networkPolicy": self.cluster.network_policy,
                "domain": self.cluster.domain,
            },
        }
        if self.patches:
            spec["kustomize"] = {"patches": [dict(p) for p in self.patches]}
        if self.sync is not None:
            s = self.sync
            spec["sync"] = _compact(
                {
                    "kind": s.kind,
                    "url": s.url,
                    "ref": s.ref,
                    "path": s.path,
                    "pullSecret": s.pull_secret,
                    "provider": s.provider,
                    "interval": s.interval,
                }
            )
        return spec


def _compact(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class FluxInstance(pulumi.ComponentResource):
    """FluxInstance `flux` in `flux-system`, awaited until Ready.

    Waiting matters: the instance installs the Flux CRDs (GitRepository, Kustomization, ...), so
    anything of those kinds must depend on this component to be applied in the same `pulumi up`.
    """

    instance: k8s.apiextensions.CustomResource

    def __init__(
        self, name: str, args: InstanceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:flux:FluxInstance", name, None, opts)
        self.instance = k8s.apiextensions.CustomResource(
            f"{name}-instance",
            api_version=c.FLUX_INSTANCE_API_VERSION,
            kind=c.FLUX_INSTANCE_KIND,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=c.FLUX_INSTANCE_NAME,
                namespace=args.namespace,
                annotations={
                    c.WAIT_FOR_ANNOTATION: "condition=Ready",
                    c.TIMEOUT_ANNOTATION: str(args.ready_timeout_seconds),
                },
            ),
            spec=args.spec(),
            opts=options.child(self, opts),
        )
        self.version = args.distribution.version
        self.register_outputs({"version": self.version})
