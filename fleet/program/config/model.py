"""`Settings`: every config key of one cluster stack as a typed, frozen field.

Each field's type (from `formats`) validates its value on its own; `parse` fills the model once,
after the cross-key `rules`, so components receive values that are already known to be good. The
properties derive what several components need from several keys.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from fleet.program import conventions as c
from fleet.program import receiver_plan, spoke_plan
from fleet.program.config import expiry
from fleet.program.config.chart_source import OperatorChart
from fleet.program.config.entries import D1_PATCH_ENTRIES, PatchEntry, SpokeEntry, split_spoke
from fleet.program.config.formats import (
    ApiToken,
    ChartDigest,
    ChartVersion,
    ClusterType,
    Component,
    Duration,
    Email,
    ExpiryDate,
    FluxVersion,
    GitHubId,
    GitHubLogin,
    GitHubRepo,
    GitHubTeamSlug,
    GitRef,
    Label,
    OciArtifact,
    OptionalSubdomain,
    Pat,
    PemPrivateKey,
    PublicHost,
    Registry,
    RegistryToken,
    RegistryUser,
    RuntimeEntry,
    SpecialCharacters,
    Subdomain,
    SyncKind,
    SyncProvider,
    Variant,
    flux_minor,
    split_component,
)
from fleet.program.conventions import DeletionPolicy, Environment, GitAuth
from fleet.program.github_access.plan import PushAccess, StackAuth
from fleet.program.platform import PlatformComponent


class Settings(BaseModel):
    """Everything one cluster stack is configured with (keys are the camelCase field aliases)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid"
    )

    # Cluster identity, also published as the runtime ConfigMap.
    environment: Environment
    cluster_name: Label
    cluster_domain: Subdomain
    git_branch: GitRef
    runtime_info: tuple[RuntimeEntry, ...] = ()

    # Which cluster this stack may reach.
    kube_context: str | None = None
    kubeconfig: str | None = None
    # Adopt objects that already exist on `up` instead of failing with AlreadyExists.
    upsert_existing_objects: bool = False
    force_field_ownership: bool = False

    # GitHub organisation, repositories and the Flux bot.
    github_owner: GitHubLogin
    github_token: ApiToken | None = None
    fleet_repository: GitHubRepo = "d1-fleet"
    infra_repository: GitHubRepo = "d1-infra"
    apps_repository: GitHubRepo = "d1-apps"
    github_access_owner: bool = False
    bot_username: GitHubLogin | None = None
    bot_team: Annotated[str, Field(min_length=1, max_length=255)] = "flux-bot"
    bot_push_access: PushAccess = PushAccess.NONE
    bot_push_branch: GitRef = "main"
    merge_teams: tuple[GitHubTeamSlug, ...] = ()

    # How Flux authenticates to GitHub; the keys of the other mode must stay unset.
    git_auth: GitAuth = GitAuth.TOKEN

    # Fine-grained PATs (secret config) and their expiry dates: required with gitAuth token.
    platform_token: Pat | None = None
    platform_token_expires: ExpiryDate | None = None
    apps_token: Pat | None = None
    apps_token_expires: ExpiryDate | None = None
    # Image automation's token for pushing to the applications repository, written to the
    # apps-update namespace alone, so tenant namespaces keep a read-only credential.
    apps_push_token: Pat | None = None
    apps_push_token_expires: ExpiryDate | None = None
    enterprise_token: RegistryToken | None = None
    enterprise_token_expires: ExpiryDate | None = None
    enterprise_registry: Registry = "ghcr.io"
    enterprise_username: RegistryUser = "flux"
    token_warning_days: Annotated[int, Field(ge=0, le=366)] = 14

    # GitHub App (gitAuth githubApp): ids, the private key (secret) and its age.
    github_app_id: GitHubId | None = None
    github_app_installation_id: GitHubId | None = None
    github_app_installation_owner: GitHubLogin | None = None
    github_app_private_key: PemPrivateKey | None = None
    github_app_key_created: ExpiryDate | None = None
    github_app_key_max_age_days: Annotated[int, Field(ge=1, le=3650)] = 90
    # App mode's credential for the applications repository, the one tenant namespaces receive: a
    # second App installed on it alone (or appsToken instead). The first App's key reaches the
    # platform repository and bypasses its rules, so it never leaves flux-system.
    github_apps_app_id: GitHubId | None = None
    github_apps_installation_id: GitHubId | None = None
    github_apps_private_key: PemPrivateKey | None = None
    github_apps_key_created: ExpiryDate | None = None

    # Flux Operator Helm release, installed by the digest verify-chart verified when pinned.
    operator_chart_version: ChartVersion
    operator_chart_digest: ChartDigest | None = None
    operator_chart: OperatorChart = c.OPERATOR_CHART

    # FluxInstance.
    flux_version: FluxVersion = c.DEFAULT_FLUX_VERSION
    flux_registry: Registry = c.DEFAULT_FLUX_REGISTRY
    flux_artifact: OciArtifact = c.DEFAULT_FLUX_ARTIFACT
    flux_variant: Variant | None = None
    flux_components: tuple[Component, ...] = c.DEFAULT_COMPONENTS
    image_automation: bool = False
    cluster_type: ClusterType = "kubernetes"
    multitenant: bool = True
    tenant_default_service_account: Subdomain = "default"
    network_policy: bool = True
    kubernetes_dns_domain: Subdomain = "cluster.local"
    flux_patches: tuple[PatchEntry, ...] = D1_PATCH_ENTRIES
    flux_ready_timeout_seconds: Annotated[int, Field(ge=30, le=7200)] = 600

    # Optional FluxInstance sync (off by default: this stack owns what d1's fleet repo held).
    sync_kind: SyncKind | None = None
    sync_url: str | None = None
    sync_ref: str | None = None
    sync_path: str | None = None
    sync_pull_secret: Subdomain | None = None
    sync_provider: SyncProvider | None = None
    sync_interval: Duration | None = None

    # Platform components (the infra tenant) and application tenants.
    platform_components: tuple[str, ...] = c.DEFAULT_PLATFORM_COMPONENTS
    tenants: tuple[Label, ...] = c.DEFAULT_TENANTS
    deletion_policy: DeletionPolicy = DeletionPolicy.AUTO
    tenant_admission_policies: bool = True
    automation_author_name: Annotated[str, Field(min_length=1)] = c.BOT_AUTHOR_NAME
    automation_author_email: Email = c.BOT_AUTHOR_EMAIL

    # Webhook receivers: GitHub pushes trigger Flux at once instead of on the poll interval.
    receivers: bool = False
    receiver_host: PublicHost = ""
    receiver_token_length: Annotated[int, Field(ge=24, le=128)] = 40
    receiver_token_special: SpecialCharacters = ""
    receiver_ingress: bool = True
    receiver_ingress_class: OptionalSubdomain = ""
    receiver_tls_secret: OptionalSubdomain = ""

    # Hub mode: spoke clusters this stack's Flux reconciles through kubeconfig Secrets, and how
    # long a spoke's token may live before `rotated` must move (see docs/hub-and-spokes.md).
    spokes: tuple[SpokeEntry, ...] = ()
    spoke_token_max_age_days: Annotated[int, Field(ge=1, le=365)] = (
        spoke_plan.DEFAULT_TOKEN_MAX_AGE_DAYS
    )

    @property
    def platform(self) -> tuple[PlatformComponent, ...]:
        """Platform components in config order, each with the components it depends on."""
        return tuple(
            PlatformComponent(*split_component(entry)) for entry in self.platform_components
        )

    @property
    def github_app(self) -> bool:
        return self.git_auth is GitAuth.GITHUB_APP

    @property
    def apps_app(self) -> bool:
        """Whether the applications repository is read with the second App (App mode only)."""
        return self.github_app and self.github_apps_app_id is not None

    @property
    def stack_auth(self) -> StackAuth:
        """How this stack authenticates, as the owner stack's fleet-wide plan reads it."""
        return StackAuth(
            github_app=self.github_app,
            app_id=self.github_app_id,
            installation_id=self.github_app_installation_id,
            apps_app_id=self.github_apps_app_id if self.github_app else None,
            apps_installation_id=self.github_apps_installation_id if self.github_app else None,
            pushes=self.image_automation,
            reads_fleet=self.syncs_from_fleet,
        )

    @property
    def production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def kustomization_deletion_policy(self) -> str:
        """The Kustomizations' `spec.deletionPolicy`: `auto` keeps workloads on production only."""
        if self.deletion_policy is not DeletionPolicy.AUTO:
            return self.deletion_policy.value
        return (DeletionPolicy.ORPHAN if self.production else DeletionPolicy.DELETE).value

    @property
    def flux_minor(self) -> int | None:
        return flux_minor(self.flux_version)

    @property
    def components(self) -> tuple[str, ...]:
        """FluxInstance components: the configured ones plus the image controllers when automating."""
        extra = c.IMAGE_AUTOMATION_COMPONENTS if self.image_automation else ()
        wanted = set(self.flux_components) | set(extra)
        return tuple(name for name in c.FLUX_COMPONENTS if name in wanted)

    @property
    def patches(self) -> tuple[dict[str, Any], ...]:
        """FluxInstance kustomize patches: d1's unless the stack configures its own."""
        return tuple(yaml.safe_load(entry) for entry in self.flux_patches)

    @property
    def syncs_from_fleet(self) -> bool:
        """Whether the FluxInstance pulls from the fleet repository (so the bot needs read on it)."""
        if self.sync_kind != "GitRepository" or not self.sync_url:
            return False
        fleet = f"{c.GITHUB_URL}/{self.github_owner}/{self.fleet_repository}".lower()
        return self.sync_url.lower().removesuffix(".git").rstrip("/") == fleet

    @property
    def receiver_public_host(self) -> str:
        """Host GitHub sends webhooks to: receiverHost, else flux-webhook.<clusterDomain>."""
        return self.receiver_host or f"{c.RECEIVER_HOST_PREFIX}.{self.cluster_domain}"

    @property
    def receiver_targets(self) -> tuple[receiver_plan.ReceiverTarget, ...]:
        """The Receivers this stack declares (none unless receivers is true)."""
        if not self.receivers:
            return ()
        return receiver_plan.targets(
            infra_repository=self.infra_repository,
            apps_repository=self.apps_repository,
            fleet_repository=self.fleet_repository if self.syncs_from_fleet else None,
            tenants=self.tenants,
            image_automation=self.image_automation,
        )

    @property
    def spoke_list(self) -> tuple[spoke_plan.Spoke, ...]:
        """The spokes in config order (none: a cluster stack, not a hub)."""
        return tuple(split_spoke(entry) for entry in self.spokes)

    @property
    def runtime_extra(self) -> dict[str, str]:
        return dict(entry.split("=", 1) for entry in self.runtime_info)

    def credential_expiry(self, today: date) -> expiry.ExpiryReport:
        """Days left on every configured token, and on the App key in App mode, at `today`."""
        dates = {
            "platform": self.platform_token_expires,
            "apps": self.apps_token_expires,
            "enterprise": self.enterprise_token_expires,
            "appsPush": self.apps_push_token_expires,
        }
        created = self.github_app_key_created
        key = (
            expiry.KeyAge.of(created, self.github_app_key_max_age_days, today)
            if self.github_app and created is not None
            else None
        )
        apps_created = self.github_apps_key_created
        apps_key = (
            expiry.KeyAge.of(
                apps_created, self.github_app_key_max_age_days, today, "githubAppsKeyCreated"
            )
            if self.apps_app and apps_created is not None
            else None
        )
        return expiry.report(dates, self.token_warning_days, today, key, apps_key)
