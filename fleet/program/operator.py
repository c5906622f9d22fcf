"""The Flux Operator, installed as a Helm release of its OCI chart (d1's `helm install` step)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options


@dataclass(frozen=True)
class OperatorArgs:
    namespace: pulumi.Input[str]
    chart_version: str
    chart: str = c.OPERATOR_CHART
    values: Mapping[str, Any] = field(default_factory=lambda: dict(c.OPERATOR_VALUES))


class FluxOperator(pulumi.ComponentResource):
    """`helm.v3.Release` named `flux-operator`, so helm-controller could adopt it like d1's HelmRelease."""

    release_name: pulumi.Output[str | None]
    chart_version: pulumi.Output[str | None]

    def __init__(
        self, name: str, args: OperatorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:flux:FluxOperator", name, None, opts)
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=c.OPERATOR_RELEASE,
            chart=args.chart,
            version=args.chart_version,
            namespace=args.namespace,
            create_namespace=False,
            values=dict(args.values),
            # The release installs the FluxInstance CRD; wait until the operator runs.
            atomic=True,
            opts=options.child(self, opts),
        )
        self.release_name = self.release.name
        self.chart_version = self.release.version
        self.register_outputs(
            {"releaseName": self.release_name, "chartVersion": self.chart_version}
        )
