"""Application tenants: one namespace per team, reconciled from d1-apps (d1-fleet `tenants/apps`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from fleet.program import conventions as c
from fleet.program import flux_api, options
from fleet.program.credentials import GitCredential
from fleet.program.tenant_namespace import TenantNamespace, TenantNamespaceArgs


@dataclass(frozen=True)
class TenantArgs:
    namespace: str
    url: str
    branch: str
    environment: str
    apps_token: GitCredential
    runtime_data: Mapping[str, str]
    # Resources the Flux objects wait for: the FluxInstance that installs their CRDs.
    after: Sequence[pulumi.Resource] = ()
    # GitRepository `spec.provider` (`github` with GitHub App credentials).
    git_provider: str | None = None
    # spec.deletionPolicy of the Kustomization (None: Flux's default, MirrorPrune).
    deletion_policy: str | None = None
    # Production: Pulumi refuses to delete the namespace and the Kustomization (workloads go with them).
    protect: bool = False


class Tenant(pulumi.ComponentResource):
    """Tenant namespace kit plus GitRepository `flux-apps` and Kustomization `flux-<namespace>`."""

    def __init__(
        self, name: str, args: TenantArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:tenants:Tenant", name, None, opts)
        child = options.child(self, opts)
        self.kit = TenantNamespace(
            name,
            TenantNamespaceArgs(
                args.namespace, args.apps_token, args.runtime_data, protect_namespace=args.protect
            ),
            opts=child,
        )
        # The kit (namespace, account, binding, secret and runtime copies) is what the source and
        # the Kustomization need while they exist, and while they are deleted: the finalizer
        # prunes as `flux-apps`, so Pulumi deletes them before the kit.
        flux = options.after(child, self.kit, *args.after)
        meta = {"namespace": args.namespace, "labels": {c.TENANT_LABEL: c.APPS_TENANT}}
        self.source = flux_api.custom_resource(
            f"{name}-source",
            api_version=c.GIT_REPOSITORY_API,
            kind="GitRepository",
            metadata={"name": c.APPS_SOURCE, **meta},
            spec=flux_api.git_repository_spec(
                args.url, args.branch, c.APPS_SECRET, "1m", args.git_provider
            ),
            opts=flux,
        )
        self.kustomization = flux_api.custom_resource(
            f"{name}-kustomization",
            api_version=c.KUSTOMIZATION_API,
            kind="Kustomization",
            metadata={"name": f"flux-{args.namespace}", **meta},
            spec=flux_api.kustomization_spec(
                source=c.APPS_SOURCE,
                path=f"./components/{args.namespace}/{args.environment}",
                service_account=c.APPS_SERVICE_ACCOUNT,
                interval="12h",
                retry_interval="3m",
                timeout="15m",
                wait=True,
                # Whatever the tenant's manifests say, their HelmReleases and Kustomizations
                # run as the tenant's account, never as a controller's.
                patches=[
                    {
                        "patch": c.TENANT_SERVICE_ACCOUNT_PATCH,
                        "target": {"kind": "(HelmRelease|Kustomization)"},
                    }
                ],
                substitute_from_runtime=True,
                deletion_policy=args.deletion_policy,
            ),
            opts=options.after(flux, self.source, protect=args.protect or None),
        )
        self.register_outputs({})
