"""Resource type tokens as the engine writes them in URNs, states and digests, spelt once.

A token is `<package>:<module>:<Type>`; a Kubernetes object's module is its apiVersion, so the Flux
kinds follow the API versions `conventions` pins.
"""

from __future__ import annotations

from typing import Final

from fleet.program import conventions as c

STACK: Final = "pulumi:pulumi:Stack"
PROVIDER_PREFIX: Final = "pulumi:providers:"
KUBERNETES_PROVIDER: Final = f"{PROVIDER_PREFIX}kubernetes"

SECRET: Final = "kubernetes:core/v1:Secret"
CONFIG_MAP: Final = "kubernetes:core/v1:ConfigMap"
NAMESPACE: Final = "kubernetes:core/v1:Namespace"
ROLE_BINDING: Final = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING: Final = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
HELM_RELEASE: Final = "kubernetes:helm.sh/v3:Release"
FLUX_INSTANCE: Final = f"kubernetes:{c.FLUX_INSTANCE_API_VERSION}:{c.FLUX_INSTANCE_KIND}"
GIT_REPOSITORY: Final = f"kubernetes:{c.GIT_REPOSITORY_API}:GitRepository"
KUSTOMIZATION: Final = f"kubernetes:{c.KUSTOMIZATION_API}:Kustomization"
IMAGE_UPDATE_AUTOMATION: Final = f"kubernetes:{c.IMAGE_AUTOMATION_API}:ImageUpdateAutomation"
# The API group suffix every Flux toolkit kind shares.
FLUX_GROUP_SUFFIX: Final = ".toolkit.fluxcd.io/"

RANDOM_PASSWORD: Final = "random:index/randomPassword:RandomPassword"

TEAM: Final = "github:index/team:Team"
TEAM_MEMBERSHIP: Final = "github:index/teamMembership:TeamMembership"
TEAM_REPOSITORY: Final = "github:index/teamRepository:TeamRepository"
BRANCH_PROTECTION: Final = "github:index/branchProtection:BranchProtection"
REPOSITORY_RULESET: Final = "github:index/repositoryRuleset:RepositoryRuleset"
APP_INSTALLATION_REPOSITORY: Final = (
    "github:index/appInstallationRepository:AppInstallationRepository"
)

# This program's components (their `pulumi.ComponentResource` type strings).
CLUSTER: Final = "fleet:index:Cluster"
TENANT: Final = "fleet:tenants:Tenant"
TENANT_GUARDRAILS: Final = "fleet:tenants:TenantGuardrails"
PLATFORM: Final = "fleet:platform:Platform"
RECEIVERS: Final = "fleet:receivers:Receivers"
SPOKE_SYNC: Final = "fleet:spokes:SpokeSync"
