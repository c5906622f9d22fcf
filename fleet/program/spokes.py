"""Hub mode: a spoke cluster the hub's Flux reconciles, declared on both clusters.

On the spoke, through the spoke's own provider: a namespace named after the spoke, the accounts the
hub's Flux objects impersonate there, and the token the hub authenticates with. On the hub, through
the hub's provider: a namespace of the same name holding the kubeconfig Secret built from that
token, a copy of the Git credentials, the GitRepository and the chain of Kustomizations
`tenants -> infra-controllers -> infra-configs -> apps` (fluxcd/flux2-hub-spoke-example, hub/).

The token is a `kubernetes.io/service-account-token` Secret named after the spoke's `rotated` date:
a new date creates a new token Secret (create before delete, the name changed), updates the hub's
kubeconfig Secret in place (the hub provider sets `enable_secret_mutable`) and then deletes the old
Secret, which revokes the old token: the API server accepts a legacy token only while its Secret
exists (kubernetes pkg/serviceaccount/legacy.go, `legacyValidator.Validate`, with the default
--service-account-lookup). The token Secret carries a `pulumi.com/waitFor` condition on its
`data.token`: pulumi-kubernetes then waits for the token controller up to the create timeout (10
minutes by default) instead of its built-in Secret awaiter's 5 seconds (provider/pkg/await/await.go
`Creation`, provider/pkg/await/awaiters.go `untilCoreV1SecretInitialized`), so the kubeconfig is
never written from an empty token.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pulumi
import pulumi_kubernetes as k8s
import yaml

from fleet.program import conventions as c
from fleet.program import flux_api, options
from fleet.program import spoke_plan as sp
from fleet.program.credentials import GitCredential, secret_data, source_provider

TOKEN_TYPE: Final = "kubernetes.io/service-account-token"
# The annotation the token controller reads to know which account a token Secret is for.
TOKEN_ACCOUNT_ANNOTATION: Final = "kubernetes.io/service-account.name"
ROTATED_ANNOTATION: Final = "fleet.controlplane.io/token-rotated"
# Created once the token controller has written the token (a pulumi-kubernetes await condition).
TOKEN_READY: Final = "jsonpath={.data.token}"
_RBAC: Final = "rbac.authorization.k8s.io"


@dataclass(frozen=True)
class SpokeArgs:
    """One spoke and what its chain reconciles from.

    `spoke_provider` is the spoke's own Kubernetes provider; everything else goes through the
    hub's, which the component inherits from its parent.
    """

    spoke: sp.Spoke
    spoke_provider: pulumi.ProviderResource
    url: str
    branch: str
    # The platform repository's credential; the GitRepository's provider follows from it.
    git_token: GitCredential
    # The FluxInstance that installs the hub's Flux CRDs.
    after: Sequence[pulumi.Resource] = ()
    # spec.deletionPolicy of the spoke's Kustomizations (Orphan keeps its workloads).
    deletion_policy: str | None = None


class SpokeAccess(pulumi.ComponentResource):
    """On the spoke: namespace, the three accounts, their bindings and the hub's token.

    `flux-hub` (the kubeconfig's identity) may only impersonate the two others, in this namespace.
    `flux-cluster-admin` is bound to `cluster-admin`: the tenants step creates namespaces and
    binds `cluster-admin` in them (Kubernetes lets an account grant only what it holds), the
    infra steps install CRDs and cluster-scoped objects. `flux-restricted` gets nothing here: the
    tenants step binds it in each application namespace (deploy/tenants in the example).
    """

    def __init__(
        self, name: str, spoke: sp.Spoke, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:spokes:SpokeAccess", name, None, opts)
        child = options.child(self, opts)
        labels = {sp.SPOKE_LABEL: spoke.name}
        # Production: protected, and kept on the spoke when the spoke leaves the configuration.
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=spoke.name, labels=labels),
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(
                    protect=spoke.production or None, retain_on_delete=spoke.production or None
                ),
            ),
        )
        inside = options.after(child, self.namespace)

        def meta(object_name: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=object_name, namespace=spoke.name, labels=labels)

        self.accounts = {
            account: k8s.core.v1.ServiceAccount(
                f"{name}-{account}", metadata=meta(account), opts=inside
            )
            for account in (sp.HUB_ACCOUNT, sp.CLUSTER_ADMIN_ACCOUNT, sp.RESTRICTED_ACCOUNT)
        }
        self.impersonate_role = k8s.rbac.v1.Role(
            f"{name}-impersonate-role",
            metadata=meta(f"{sp.HUB_ACCOUNT}-impersonate"),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=[""],
                    resources=["serviceaccounts"],
                    verbs=["impersonate"],
                    resource_names=[sp.CLUSTER_ADMIN_ACCOUNT, sp.RESTRICTED_ACCOUNT],
                )
            ],
            opts=inside,
        )
        self.impersonate_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-impersonate-binding",
            metadata=meta(f"{sp.HUB_ACCOUNT}-impersonate"),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group=_RBAC, kind="Role", name=f"{sp.HUB_ACCOUNT}-impersonate"
            ),
            subjects=[_account(sp.HUB_ACCOUNT, spoke.name)],
            opts=options.after(inside, self.impersonate_role, self.accounts[sp.HUB_ACCOUNT]),
        )
        self.cluster_admin_binding = k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-cluster-admin-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{sp.CLUSTER_ADMIN_ACCOUNT}-{spoke.name}", labels=labels
            ),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group=_RBAC, kind="ClusterRole", name="cluster-admin"
            ),
            subjects=[_account(sp.CLUSTER_ADMIN_ACCOUNT, spoke.name)],
            opts=options.after(inside, self.accounts[sp.CLUSTER_ADMIN_ACCOUNT]),
        )
        # The name carries the rotation date: a renewal is a new token, and the old one is
        # revoked when Pulumi deletes its Secret after the kubeconfig moved to the new one.
        self.token = k8s.core.v1.Secret(
            f"{name}-token",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{sp.HUB_ACCOUNT}-token-{spoke.token_suffix}",
                namespace=spoke.name,
                labels=labels,
                annotations={
                    TOKEN_ACCOUNT_ANNOTATION: sp.HUB_ACCOUNT,
                    c.WAIT_FOR_ANNOTATION: TOKEN_READY,
                },
            ),
            type=TOKEN_TYPE,
            opts=options.after(inside, self.accounts[sp.HUB_ACCOUNT]),
        )
        self.register_outputs({})

    @property
    def grants(self) -> list[pulumi.Resource]:
        """What the hub's Flux objects need on the spoke while they exist and while deleted."""
        return [
            *self.accounts.values(),
            self.impersonate_binding,
            self.cluster_admin_binding,
            self.token,
        ]


def kubeconfig(spoke: sp.Spoke, token_data: Mapping[str, str]) -> str:
    """A kubeconfig for `flux-hub` on the spoke, from its token Secret's `data` (base64 values).

    A bearer token and the cluster's CA only: the controllers drop exec plugins and
    auth-provider entries unless started with --insecure-kubeconfig-exec (fluxcd/pkg
    runtime/client/kubeconfig.go, `KubeConfig`).
    """
    token = base64.b64decode(token_data.get("token", "")).decode()
    cluster: dict[str, Any] = {"server": spoke.server}
    if token_data.get("ca.crt"):
        cluster["certificate-authority-data"] = token_data["ca.crt"]
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": spoke.name, "cluster": cluster}],
        "users": [{"name": sp.HUB_ACCOUNT, "user": {"token": token}}],
        "contexts": [
            {
                "name": spoke.name,
                "context": {
                    "cluster": spoke.name,
                    "user": sp.HUB_ACCOUNT,
                    "namespace": spoke.name,
                },
            }
        ],
        "current-context": spoke.name,
    }
    return yaml.safe_dump(document, sort_keys=False)


class SpokeSync(pulumi.ComponentResource):
    """On the hub: the spoke's namespace, kubeconfig and Git Secrets, accounts and Flux chain."""

    def __init__(
        self,
        name: str,
        args: SpokeArgs,
        access: SpokeAccess,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fleet:spokes:SpokeSync", name, None, opts)
        spoke = args.spoke
        child = options.child(self, opts)
        labels = {sp.SPOKE_LABEL: spoke.name}
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=spoke.name, labels=labels),
            opts=options.after(child, protect=spoke.production or None),
        )
        inside = options.after(child, self.namespace)

        def meta(object_name: str, **extra: Any) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=spoke.name, labels=labels, **extra
            )

        # `flux` runs the steps that apply to the hub (HelmReleases and their sources). The two
        # others hold no permission on the hub: kustomize-controller looks the account up on the
        # hub before it prunes on the spoke as that account (`finalize`, through
        # `Impersonator.CanImpersonate`), and skips the pruning when it is missing.
        self.accounts = {
            account: k8s.core.v1.ServiceAccount(
                f"{name}-{account}", metadata=meta(account), opts=inside
            )
            for account in (
                sp.HUB_RECONCILER_ACCOUNT,
                sp.CLUSTER_ADMIN_ACCOUNT,
                sp.RESTRICTED_ACCOUNT,
            )
        }
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-role-binding",
            metadata=meta(sp.HUB_RECONCILER_ACCOUNT),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group=_RBAC, kind="ClusterRole", name=sp.HUB_RECONCILER_ROLE
            ),
            subjects=[_account(sp.HUB_RECONCILER_ACCOUNT, spoke.name)],
            opts=options.after(inside, self.accounts[sp.HUB_RECONCILER_ACCOUNT]),
        )
        self.git_secret = k8s.core.v1.Secret(
            f"{name}-git-secret",
            metadata=meta(sp.SOURCE_SECRET),
            type="Opaque",
            string_data=secret_data(args.git_token),
            opts=inside,
        )
        # The token's data is a secret output of the spoke's Secret; the kubeconfig stays one.
        config: pulumi.Output[str] = pulumi.Output.secret(
            access.token.data.apply(lambda data: kubeconfig(spoke, data or {}))
        )
        self.kubeconfig_secret = k8s.core.v1.Secret(
            f"{name}-kubeconfig",
            metadata=meta(
                sp.KUBECONFIG_SECRET,
                annotations={ROTATED_ANNOTATION: spoke.rotated.isoformat()},
            ),
            type="Opaque",
            string_data={sp.KUBECONFIG_KEY: config},
            opts=options.after(inside, access.token),
        )
        # The Flux objects reach the spoke through all of the above, on both clusters: Pulumi
        # deletes them first, so their finalizers can still prune (or orphan) on the spoke.
        flux = options.after(
            child,
            *args.after,
            self.namespace,
            *self.accounts.values(),
            self.role_binding,
            self.git_secret,
            self.kubeconfig_secret,
            *access.grants,
        )
        self.source = flux_api.custom_resource(
            f"{name}-source",
            api_version=c.GIT_REPOSITORY_API,
            kind="GitRepository",
            metadata={"name": sp.SOURCE_NAME, "namespace": spoke.name, "labels": labels},
            spec=flux_api.git_repository_spec(
                args.url,
                args.branch,
                sp.SOURCE_SECRET,
                "1m",
                source_provider(args.git_token),
            ),
            opts=flux,
        )
        self.kustomizations: dict[sp.Step, pulumi.CustomResource] = {}
        previous: sp.Step | None = None
        for step in spoke.chain:
            self.kustomizations[step] = flux_api.custom_resource(
                f"{name}-{step}",
                api_version=c.KUSTOMIZATION_API,
                kind="Kustomization",
                metadata={
                    "name": str(step),
                    "namespace": spoke.name,
                    "labels": {**labels, sp.ENVIRONMENT_LABEL: spoke.environment},
                },
                spec=spoke_kustomization_spec(spoke, step, previous, args.deletion_policy),
                opts=options.after(flux, self.source, protect=spoke.production or None),
            )
            previous = step
        self.register_outputs({})


def spoke_kustomization_spec(
    spoke: sp.Spoke, step: sp.Step, previous: sp.Step | None, deletion_policy: str | None
) -> dict[str, Any]:
    """One step of the chain as in the example's hub/<cluster>.yaml.

    A remote step applies to the spoke through `kubeConfig`, as `account` there; a hub step
    applies HelmReleases to the hub as `flux` and patches them to install on the spoke as
    `account`. `serviceAccountName` is always set: with the hub's default service account
    (multi-tenancy lockdown) an unset one would impersonate `default` on the spoke.
    """
    plan = sp.STEPS[step]
    secret_ref = {"secretRef": {"name": sp.KUBECONFIG_SECRET}}
    spec: dict[str, Any] = {
        "serviceAccountName": plan.account if plan.remote else sp.HUB_RECONCILER_ACCOUNT,
    }
    if previous is not None:
        spec["dependsOn"] = [{"name": str(previous)}]
    if step is not sp.Step.TENANTS:
        spec["targetNamespace"] = spoke.name
    spec.update(
        {
            "interval": "1h",
            "retryInterval": "3m",
            "timeout": "5m",
            "prune": True,
            "wait": True,
            "path": f"./clusters/{spoke.name}/{step}",
            "sourceRef": {"kind": "GitRepository", "name": sp.SOURCE_NAME},
        }
    )
    if plan.remote:
        spec["kubeConfig"] = secret_ref
    else:
        spec["patches"] = [
            {
                "target": {"kind": "HelmRelease"},
                "patch": _json_patch(
                    ("/spec/kubeConfig", secret_ref),
                    ("/spec/serviceAccountName", plan.account),
                ),
            }
        ]
    if step is sp.Step.TENANTS:
        spec["postBuild"] = {"substitute": {"CLUSTER_NAME": spoke.name}}
    if deletion_policy is not None:
        spec["deletionPolicy"] = deletion_policy
    return spec


def _json_patch(*ops: tuple[str, object]) -> str:
    return yaml.safe_dump(
        [{"op": "add", "path": path, "value": value} for path, value in ops], sort_keys=False
    )


def _account(name: str, namespace: str) -> k8s.rbac.v1.SubjectArgs:
    return k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=name, namespace=namespace)


class Spoke(pulumi.ComponentResource):
    """One spoke: `SpokeAccess` through the spoke's provider, `SpokeSync` through the hub's."""

    def __init__(
        self, name: str, args: SpokeArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:spokes:Spoke", name, None, opts)
        child = options.child(self, opts)
        self.access = SpokeAccess(
            f"{name}-access",
            args.spoke,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(providers={"kubernetes": args.spoke_provider})
            ),
        )
        self.sync = SpokeSync(f"{name}-sync", args, self.access, opts=child)
        self.register_outputs({})
