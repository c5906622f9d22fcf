"""The `flux-runtime-info` ConfigMap: per-cluster values Flux substitutes into d1-infra and d1-apps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options


@dataclass(frozen=True)
class RuntimeInfoArgs:
    namespace: pulumi.Input[str]
    environment: str
    git_branch: str
    cluster_name: str
    cluster_domain: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, str]:
        return {
            "ENVIRONMENT": self.environment,
            "GIT_BRANCH": self.git_branch,
            "CLUSTER_NAME": self.cluster_name,
            "CLUSTER_DOMAIN": self.cluster_domain,
            **self.extra,
        }


def metadata(namespace: pulumi.Input[str]) -> k8s.meta.v1.ObjectMetaArgs:
    """d1's name, label and annotation; the SSA Merge annotation lets Flux add keys without a fight."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=c.RUNTIME_CONFIGMAP,
        namespace=namespace,
        labels={c.RUNTIME_LABEL: "true"},
        annotations={c.SSA_ANNOTATION: "Merge"},
    )


class RuntimeInfo(pulumi.ComponentResource):
    """ConfigMap `flux-runtime-info` in `flux-system`."""

    name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: RuntimeInfoArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fleet:flux:RuntimeInfo", name, None, opts)
        self.config_map = k8s.core.v1.ConfigMap(
            f"{name}-configmap",
            metadata=metadata(args.namespace),
            data=args.data,
            opts=options.child(self, opts),
        )
        self.name = self.config_map.metadata.name
        self.register_outputs({"name": self.name})
