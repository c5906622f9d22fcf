"""A namespace Flux reconciles for the apps tenant, with its account and its copies of shared data.

d1 relies on Kyverno to copy the `flux-apps` secret and `flux-runtime-info` into tenant namespaces;
here the stack declares each copy, so a token rotation is one `pulumi up` that updates all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options
from fleet.program.credentials import GitCredential, secret_data
from fleet.program.runtime_info import metadata as runtime_metadata


@dataclass(frozen=True)
class TenantNamespaceArgs:
    namespace: str
    apps_token: GitCredential
    runtime_data: Mapping[str, str]
    labels: Mapping[str, str] = field(default_factory=dict)
    # Deleting the namespace deletes every workload in it, whatever the deletion policy.
    protect_namespace: bool = False


class TenantNamespace(pulumi.ComponentResource):
    """Namespace, ServiceAccount `flux-apps` bound to ClusterRole `admin` in it, secret and runtime copies."""

    def __init__(
        self, name: str, args: TenantNamespaceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:tenants:TenantNamespace", name, None, opts)
        child = options.child(self, opts)
        labels = {c.TENANT_LABEL: c.APPS_TENANT, **args.labels}
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=labels),
            opts=pulumi.ResourceOptions.merge(
                child,
                # A protected (production) namespace is also retained on delete: removing the
                # tenant from the stack then leaves the namespace and its workloads running, and
                # deleting them stays a deliberate `kubectl delete namespace`.
                pulumi.ResourceOptions(
                    protect=args.protect_namespace or None,
                    retain_on_delete=args.protect_namespace or None,
                ),
            ),
        )
        inside = options.after(child, self.namespace)
        ns = self.namespace.metadata.name
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=c.APPS_SERVICE_ACCOUNT, namespace=ns, labels=labels
            ),
            opts=inside,
        )
        # A RoleBinding, never a ClusterRoleBinding: `admin` applies inside this namespace only.
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-role-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=c.APPS_SERVICE_ACCOUNT, namespace=ns, labels=labels
            ),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io",
                kind="ClusterRole",
                name=c.TENANT_CLUSTER_ROLE,
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=c.APPS_SERVICE_ACCOUNT, namespace=args.namespace
                )
            ],
            opts=inside,
        )
        self.secret = k8s.core.v1.Secret(
            f"{name}-apps-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=c.APPS_SECRET, namespace=ns, labels=labels),
            type="Opaque",
            string_data=secret_data(args.apps_token),
            opts=inside,
        )
        self.runtime_info = k8s.core.v1.ConfigMap(
            f"{name}-runtime-info",
            metadata=runtime_metadata(ns),
            data=dict(args.runtime_data),
            opts=inside,
        )
        self.name = ns
        self.register_outputs({"name": ns})
