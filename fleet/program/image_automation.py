"""Image update automation (staging only): Flux commits new image and chart versions to Git.

d1 deletes these objects on production with a patch; here production stacks never declare them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import flux_api, options
from fleet.program.credentials import GitCredential
from fleet.program.tenant_namespace import TenantNamespace, TenantNamespaceArgs

_AUTOMATION = {c.ROLE_LABEL: c.AUTOMATION_ROLE}


@dataclass(frozen=True)
class AutomationArgs:
    apps_url: str
    branch: str
    author_name: str
    author_email: str
    apps_token: GitCredential
    runtime_data: Mapping[str, str]
    # Resources the Flux objects wait for: the FluxInstance that installs their CRDs.
    after: Sequence[pulumi.Resource] = ()
    # GitRepository `spec.provider` (`github` with GitHub App credentials).
    git_provider: str | None = None
    # The platform's GitRepository `flux-infra`, its account and binding, which d1-infra's update
    # objects use: they must outlive them, so Pulumi deletes the update objects first.
    infra: Sequence[pulumi.Resource] = ()
    # spec.deletionPolicy of the Kustomizations (None: Flux's default, MirrorPrune).
    deletion_policy: str | None = None
    # Production: Pulumi refuses to delete the Kustomizations and the namespace.
    protect: bool = False


class ImageAutomation(pulumi.ComponentResource):
    """Update policies and ImageUpdateAutomations for d1-infra (in flux-system) and d1-apps (apps-update)."""

    def __init__(
        self, name: str, args: AutomationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:automation:ImageAutomation", name, None, opts)
        child = options.child(self, opts)
        flux = options.after(child, *args.after)
        # d1-infra's tree reuses the platform's GitRepository `flux-infra` and its account.
        self.infra = self._update_tree(
            f"{name}-infra",
            args,
            namespace=c.FLUX_NAMESPACE,
            tenant=c.INFRA_TENANT,
            policies=c.INFRA_UPDATE_KUSTOMIZATION,
            source=c.INFRA_SOURCE,
            service_account=c.INFRA_SERVICE_ACCOUNT,
            opts=options.after(flux, *args.infra),
        )
        self.kit = TenantNamespace(
            f"{name}-apps",
            TenantNamespaceArgs(
                c.APPS_UPDATE_NAMESPACE,
                args.apps_token,
                args.runtime_data,
                _AUTOMATION,
                protect_namespace=args.protect,
            ),
            opts=child,
        )
        in_apps = options.after(flux, self.kit)
        self.apps_source = flux_api.custom_resource(
            f"{name}-apps-source",
            api_version=c.GIT_REPOSITORY_API,
            kind="GitRepository",
            metadata=_metadata(c.APPS_SOURCE, c.APPS_UPDATE_NAMESPACE, c.APPS_TENANT),
            spec=flux_api.git_repository_spec(
                args.apps_url, args.branch, c.APPS_SECRET, "10m", args.git_provider
            ),
            opts=in_apps,
        )
        self.apps = self._update_tree(
            f"{name}-apps",
            args,
            namespace=c.APPS_UPDATE_NAMESPACE,
            tenant=c.APPS_TENANT,
            policies=c.APPS_SOURCE,
            source=c.APPS_SOURCE,
            service_account=c.APPS_SERVICE_ACCOUNT,
            opts=options.after(in_apps, self.apps_source),
        )
        self.register_outputs({})

    @staticmethod
    def _update_tree(
        name: str,
        args: AutomationArgs,
        *,
        namespace: str,
        tenant: str,
        policies: str,
        source: str,
        service_account: str,
        opts: pulumi.ResourceOptions,
    ) -> tuple[k8s.apiextensions.CustomResource, k8s.apiextensions.CustomResource]:
        """The Kustomization applying a repository's `./update` policies and its ImageUpdateAutomation."""
        kustomization = flux_api.custom_resource(
            f"{name}-policies",
            api_version=c.KUSTOMIZATION_API,
            kind="Kustomization",
            metadata=_metadata(policies, namespace, tenant),
            spec=flux_api.kustomization_spec(
                source=source,
                path="./update",
                service_account=service_account,
                interval="12h",
                retry_interval="3m",
                deletion_policy=args.deletion_policy,
            ),
            opts=options.after(opts, protect=args.protect or None),
        )
        automation = flux_api.custom_resource(
            f"{name}-automation",
            api_version=c.IMAGE_AUTOMATION_API,
            kind="ImageUpdateAutomation",
            metadata=_metadata(source, namespace, tenant),
            spec=flux_api.image_update_automation_spec(
                source=source,
                branch=args.branch,
                author_name=args.author_name,
                author_email=args.author_email,
            ),
            # Deleting it deletes no workload but stops the fleet's image updates.
            opts=options.after(opts, protect=args.protect or None),
        )
        return kustomization, automation


def _metadata(name: str, namespace: str, tenant: str) -> dict[str, object]:
    return {
        "name": name,
        "namespace": namespace,
        "labels": {c.TENANT_LABEL: tenant, **_AUTOMATION},
    }
