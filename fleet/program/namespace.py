"""The `flux-system` namespace, declared first so secrets exist before Flux starts."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options


class FluxNamespace(pulumi.ComponentResource):
    """The namespace the Flux Operator, the FluxInstance and the platform secrets live in."""

    name: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fleet:flux:FluxNamespace", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=c.FLUX_NAMESPACE),
            opts=options.child(self, opts),
        )
        self.name = self.namespace.metadata.name
        self.register_outputs({"name": self.name})
