"""What a hub stack declares for each spoke cluster, as values: the spoke, its chain, its names.

The hub-and-spoke shape (fluxcd/flux2-hub-spoke-example) runs Flux on the hub only; for each spoke
the hub holds a namespace named after the spoke, with a kubeconfig Secret and the Kustomizations
`tenants -> infra-controllers -> infra-configs -> apps`, each waiting for the one before it.

kustomize-controller and helm-controller impersonate `system:serviceaccount:<namespace of the
Flux object>:<serviceAccountName>` on the cluster the kubeconfig reaches (fluxcd/pkg
runtime/client/impersonator.go, `Impersonator.setImpersonationConfig`; helm-controller
internal/kube/client.go, `WithImpersonate`), so the spoke's accounts live in a namespace of the
same name on the spoke. Nothing here declares a resource: the configuration reads these values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

# The kubeconfig Secret in each spoke's hub namespace, and the data key both controllers read
# when `secretRef.key` is unset (fluxcd/pkg runtime/client/impersonator.go
# `Impersonator.getRESTConfigFromSecret`; helm-controller internal/kube/config.go
# `ConfigFromSecret`, `DefaultKubeConfigSecretKey`).
KUBECONFIG_SECRET: Final = "cluster-kubeconfig"
KUBECONFIG_KEY: Final = "value"
# On the spoke: the account the kubeconfig authenticates as (it may only impersonate the two
# below), the account cluster-wide steps run as, and the one the apps run as.
HUB_ACCOUNT: Final = "flux-hub"
CLUSTER_ADMIN_ACCOUNT: Final = "flux-cluster-admin"
RESTRICTED_ACCOUNT: Final = "flux-restricted"
# On the hub: the account the steps that apply to the hub itself (HelmReleases, their sources)
# run as, bound to `admin` in the spoke's hub namespace only.
HUB_RECONCILER_ACCOUNT: Final = "flux"
HUB_RECONCILER_ROLE: Final = "admin"
SOURCE_NAME: Final = "flux-system"
SOURCE_SECRET: Final = "flux-system"
SPOKE_LABEL: Final = "fleet.controlplane.io/spoke"
# On a spoke's Kustomizations: the environment whose workloads their deletion policy decides
# for, which is the spoke's, not the hub's (the policy pack judges them by it).
ENVIRONMENT_LABEL: Final = "fleet.controlplane.io/environment"
# Legacy token Secrets never expire on their own; the stack gives them a lifetime.
DEFAULT_TOKEN_MAX_AGE_DAYS: Final = 90


class Step(StrEnum):
    """One Kustomization of a spoke's chain, in the example's order."""

    TENANTS = "tenants"
    INFRA_CONTROLLERS = "infra-controllers"
    INFRA_CONFIGS = "infra-configs"
    APPS = "apps"


CHAIN: Final = tuple(Step)


@dataclass(frozen=True)
class StepPlan:
    """Where a step applies and as whom.

    `remote`: the Kustomization itself carries `kubeConfig` and applies to the spoke as `account`;
    otherwise it applies to the hub (HelmReleases and their sources, as the example does) and its
    HelmReleases are patched to install on the spoke as `account`.
    """

    remote: bool
    account: str


STEPS: Final[dict[Step, StepPlan]] = {
    # Namespaces, accounts and their bindings: cluster-wide writes.
    Step.TENANTS: StepPlan(remote=True, account=CLUSTER_ADMIN_ACCOUNT),
    # Controllers' CRDs and ClusterRoles, through HelmReleases on the hub.
    Step.INFRA_CONTROLLERS: StepPlan(remote=False, account=CLUSTER_ADMIN_ACCOUNT),
    # Cluster-scoped custom resources (ClusterIssuers).
    Step.INFRA_CONFIGS: StepPlan(remote=True, account=CLUSTER_ADMIN_ACCOUNT),
    # Applications: only what the tenants step grants `flux-restricted` in their namespaces.
    Step.APPS: StepPlan(remote=False, account=RESTRICTED_ACCOUNT),
}


@dataclass(frozen=True)
class Spoke:
    """One spoke cluster of a hub stack, parsed from a `spokes` entry."""

    name: str
    server: str
    rotated: date
    production: bool
    context: str | None = None
    kubeconfig: str | None = None
    chain: tuple[Step, ...] = CHAIN

    @property
    def environment(self) -> str:
        return "production" if self.production else "staging"

    @property
    def token_suffix(self) -> str:
        """The rotation date as the token Secret's name suffix: a new date, a new token."""
        return self.rotated.strftime("%Y%m%d")

    def token_due(self, max_age_days: int) -> date:
        return self.rotated + timedelta(days=max_age_days)
