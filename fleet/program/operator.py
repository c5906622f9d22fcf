"""The Flux Operator, installed as a Helm release of its OCI chart (d1's `helm install` step).

With a pinned digest the release's chart is `oci://...flux-operator@sha256:<digest>`: the exact
artifact `verify-chart` verified, not whatever the tag points to when the provider pulls it.
pulumi-kubernetes (provider/go.mod: helm.sh/helm/v3 v3.20.2) passes `chart` and `version` to Helm
verbatim (provider/pkg/provider/helm_release.go: `chartPathOptionsFromRelease`, `locateChart`,
then `downloader.ChartDownloader.DownloadTo`). Helm resolves an OCI reference in
`registry.Client.ValidateReference` (pkg/registry/client.go), which, for a reference with a
digest (split off by `newReference`, pkg/registry/reference.go), pulls `repository@digest` and
refuses a version tag that resolves to another digest; the OCI getter (pkg/getter/ocigetter.go)
adds no tag to a reference that already has one, and oras fetches content by that digest.
"""

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
    # sha256:<hex>: the release installs this manifest, and Helm checks the version tag agrees.
    chart_digest: str | None = None
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
            chart=f"{args.chart}@{args.chart_digest}" if args.chart_digest else args.chart,
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
