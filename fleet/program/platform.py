"""Platform components: d1-infra reconciled as the infra tenant (d1-fleet `tenants/infra`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import flux_api, options


@dataclass(frozen=True)
class PlatformComponent:
    """One platform component: a controllers and a configs Kustomization in d1-infra."""

    name: str
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlatformArgs:
    url: str
    branch: str
    environment: str
    components: Sequence[PlatformComponent]
    # Resources the Flux objects wait for: the FluxInstance that installs their CRDs.
    after: Sequence[pulumi.Resource] = ()
    # GitRepository `spec.provider` (`github` with GitHub App credentials).
    git_provider: str | None = None
    # The Secret the GitRepository authenticates with (`flux-system`).
    git_secret: pulumi.Resource | None = None
    # spec.deletionPolicy of the Kustomizations (None: Flux's default, MirrorPrune).
    deletion_policy: str | None = None
    # Production: Pulumi refuses to delete a Kustomization, whose deletion could delete workloads.
    protect: bool = False


class Platform(pulumi.ComponentResource):
    """GitRepository `flux-infra`, the `flux-infra` account and a Kustomization pair per component."""

    kustomizations: list[k8s.apiextensions.CustomResource]

    def __init__(
        self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:platform:Platform", name, None, opts)
        child = options.child(self, opts)
        flux = options.after(child, *args.after)
        source_opts = options.after(flux, *([args.git_secret] if args.git_secret else []))
        labels = {c.TENANT_LABEL: c.INFRA_TENANT}
        meta = {"namespace": c.FLUX_NAMESPACE, "labels": labels}
        self.source = flux_api.custom_resource(
            f"{name}-source",
            api_version=c.GIT_REPOSITORY_API,
            kind="GitRepository",
            metadata={"name": c.INFRA_SOURCE, **meta},
            spec=flux_api.git_repository_spec(
                args.url, args.branch, c.PLATFORM_SECRET, "1m", args.git_provider
            ),
            opts=source_opts,
        )
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=c.INFRA_SERVICE_ACCOUNT, namespace=c.FLUX_NAMESPACE, labels=labels
            ),
            opts=child,
        )
        self.cluster_role_binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-cluster-role-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=c.INFRA_SERVICE_ACCOUNT, labels=labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="cluster-admin"
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=c.INFRA_SERVICE_ACCOUNT, namespace=c.FLUX_NAMESPACE
                )
            ],
            opts=child,
        )
        # Awaited, so `pulumi up` fails on a component that does not become Ready, and each
        # Kustomization's Pulumi dependents are applied once it is.
        awaited = {
            c.WAIT_FOR_ANNOTATION: "condition=Ready",
            c.TIMEOUT_ANNOTATION: str(c.PLATFORM_READY_TIMEOUT_SECONDS),
        }
        # Deleting a Kustomization runs its finalizer as `flux-infra`: the account, its binding and
        # the source must outlive it, so Pulumi deletes the Kustomizations first.
        needs = [self.source, self.service_account, self.cluster_role_binding]
        by_name: dict[str, k8s.apiextensions.CustomResource] = {}
        self.kustomizations = []
        # Dependencies first, so every dependency is declared when its dependents name it.
        for component in dependency_order(args.components):
            for role, timeout, depends_on in (
                ("controllers", "10m", [f"{dep}-controllers" for dep in component.depends_on]),
                ("configs", "5m", [f"{component.name}-controllers"]),
            ):
                # Pulumi's order mirrors Flux's dependsOn: applied after, deleted before. A
                # dependency outside the list (the settings refuse one) has nothing to wait for.
                after = [by_name[dep] for dep in depends_on if dep in by_name]
                # No postBuild substitution: d1-infra's charts and dashboards carry their own ${...}.
                kustomization = flux_api.custom_resource(
                    f"{name}-{component.name}-{role}",
                    api_version=c.KUSTOMIZATION_API,
                    kind="Kustomization",
                    metadata={
                        "name": f"{component.name}-{role}",
                        "annotations": awaited,
                        **meta,
                    },
                    spec=flux_api.kustomization_spec(
                        source=c.INFRA_SOURCE,
                        path=f"components/{component.name}/{role}/{args.environment}",
                        service_account=c.INFRA_SERVICE_ACCOUNT,
                        interval="1h",
                        retry_interval="2m",
                        timeout=timeout,
                        wait=True,
                        depends_on=depends_on,
                        deletion_policy=args.deletion_policy,
                    ),
                    opts=options.after(flux, *needs, *after, protect=args.protect or None),
                )
                by_name[f"{component.name}-{role}"] = kustomization
                self.kustomizations.append(kustomization)
        self.register_outputs({})


def dependency_order(components: Sequence[PlatformComponent]) -> list[PlatformComponent]:
    """The components with each one after the components it depends on, else in config order.

    Iterative depth-first walk, linear in components and dependencies. Names are unique and name
    no component outside the list, and there is no cycle (the settings refuse all three); a name
    outside the list is skipped and a cycle is broken where the walk meets it.
    """
    by_name = {component.name: component for component in components}
    placed: set[str] = set()
    ordered: list[PlatformComponent] = []
    for root in components:
        if root.name in placed:
            continue
        placed.add(root.name)
        stack = [(root, iter(root.depends_on))]
        while stack:
            component, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                ordered.append(component)
            elif dep in by_name and dep not in placed:
                placed.add(dep)
                stack.append((by_name[dep], iter(by_name[dep].depends_on)))
    return ordered
