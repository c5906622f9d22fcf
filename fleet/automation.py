"""Image update automation (staging only): Flux commits new image and chart versions to Git.

d1 deletes these objects on production with a patch; here production stacks never declare them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from fleet import conventions as c
from fleet import flux_api, options
from fleet.tenant_namespace import TenantNamespace, TenantNamespaceArgs


@dataclass(frozen=True)
class AutomationArgs:
    apps_url: str
    branch: str
    author_name: str
    author_email: str
    apps_token: pulumi.Input[str]
    runtime_data: Mapping[str, str]
    # Resources the Flux objects wait for: the FluxInstance that installs their CRDs.
    after: Sequence[pulumi.Resource] = ()


class ImageAutomation(pulumi.ComponentResource):
    """Update policies and ImageUpdateAutomations for d1-infra (in flux-system) and d1-apps (apps-update)."""

    def __init__(
        self, name: str, args: AutomationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:automation:ImageAutomation", name, None, opts)
        child = options.child(self, opts)
        flux = pulumi.ResourceOptions.merge(
            child, pulumi.ResourceOptions(depends_on=list(args.after))
        )
        automation = {c.ROLE_LABEL: c.AUTOMATION_ROLE}
        author = {"author_name": args.author_name, "author_email": args.author_email}

        infra = {
            "namespace": c.FLUX_NAMESPACE,
            "labels": {c.TENANT_LABEL: c.INFRA_TENANT, **automation},
        }
        self.infra_policies = flux_api.custom_resource(
            f"{name}-infra-policies",
            api_version=c.KUSTOMIZATION_API,
            kind="Kustomization",
            metadata={"name": c.INFRA_UPDATE_KUSTOMIZATION, **infra},
            spec=flux_api.kustomization_spec(
                source=c.INFRA_SOURCE,
                path="./update",
                service_account=c.INFRA_SERVICE_ACCOUNT,
                interval="12h",
                retry_interval="3m",
            ),
            opts=flux,
        )
        self.infra_automation = flux_api.custom_resource(
            f"{name}-infra-automation",
            api_version=c.IMAGE_AUTOMATION_API,
            kind="ImageUpdateAutomation",
            metadata={"name": c.INFRA_SOURCE, **infra},
            spec=flux_api.image_update_automation_spec(
                source=c.INFRA_SOURCE, branch=args.branch, **author
            ),
            opts=flux,
        )

        self.kit = TenantNamespace(
            f"{name}-apps",
            TenantNamespaceArgs(
                c.APPS_UPDATE_NAMESPACE, args.apps_token, args.runtime_data, automation
            ),
            opts=child,
        )
        in_apps = pulumi.ResourceOptions.merge(flux, pulumi.ResourceOptions(depends_on=[self.kit]))
        apps = {
            "namespace": c.APPS_UPDATE_NAMESPACE,
            "labels": {c.TENANT_LABEL: c.APPS_TENANT, **automation},
        }
        self.apps_source = flux_api.custom_resource(
            f"{name}-apps-source",
            api_version=c.GIT_REPOSITORY_API,
            kind="GitRepository",
            metadata={"name": c.APPS_SOURCE, **apps},
            spec=flux_api.git_repository_spec(args.apps_url, args.branch, c.APPS_SECRET, "10m"),
            opts=in_apps,
        )
        self.apps_policies = flux_api.custom_resource(
            f"{name}-apps-policies",
            api_version=c.KUSTOMIZATION_API,
            kind="Kustomization",
            metadata={"name": c.APPS_SOURCE, **apps},
            spec=flux_api.kustomization_spec(
                source=c.APPS_SOURCE,
                path="./update",
                service_account=c.APPS_SERVICE_ACCOUNT,
                interval="12h",
                retry_interval="3m",
            ),
            opts=in_apps,
        )
        self.apps_automation = flux_api.custom_resource(
            f"{name}-apps-automation",
            api_version=c.IMAGE_AUTOMATION_API,
            kind="ImageUpdateAutomation",
            metadata={"name": c.APPS_SOURCE, **apps},
            spec=flux_api.image_update_automation_spec(
                source=c.APPS_SOURCE, branch=args.branch, **author
            ),
            opts=in_apps,
        )
        self.register_outputs({})
