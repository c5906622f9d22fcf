"""One Flux cluster of the fleet: everything a cluster stack declares, as one component.

`__main__.py` instantiates it once per stack; a hub program, an Automation API inline program or a
test may instantiate it several times, each with its own settings and providers, since it reads no
config and keeps no module state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pulumi

from fleet.program import conventions as c
from fleet.program import options
from fleet.program.conventions import DeletionPolicy
from fleet.program.credentials import (
    CredentialsArgs,
    GitCredential,
    GitCredentials,
    GitHubApp,
    RegistryLogin,
    source_provider,
)
from fleet.program.github_access.plan import FleetAuth, PushAccess, alone
from fleet.program.image_automation import AutomationArgs, ImageAutomation
from fleet.program.instance import ClusterSpec, Distribution, FluxInstance, InstanceArgs, Sync
from fleet.program.namespace import FluxNamespace
from fleet.program.operator import FluxOperator, OperatorArgs
from fleet.program.platform import Platform, PlatformArgs
from fleet.program.receivers import Endpoint, Receivers, ReceiversArgs
from fleet.program.runtime_info import RuntimeInfo, RuntimeInfoArgs
from fleet.program.spokes import Spoke, SpokeArgs
from fleet.program.tenant_guardrails import GuardrailsArgs, TenantGuardrails
from fleet.program.tenants import Tenant, TenantArgs

if TYPE_CHECKING:
    from fleet.program.config.model import Settings
    from fleet.program.github_access.app import GitHubAppAccess
    from fleet.program.github_access.team import GitHubAccess
    from fleet.program.spoke_plan import Spoke as SpokeSpec


@dataclass(frozen=True)
class ClusterArgs:
    """Validated settings of one cluster, and the days left on each of its tokens (or App key)."""

    settings: Settings
    token_days_left: Mapping[str, int] = field(default_factory=dict)
    # Days before the GitHub App's key is due for rotation, in App mode.
    app_key_days_left: int | None = None
    # What the owner stack grants for the whole fleet's credential modes (`config.fleet.github_access`);
    # None: this stack's own mode only.
    fleet: FleetAuth | None = None
    # Hub mode: each spoke's own Kubernetes provider, by spoke name (`providers.for_spokes`).
    spoke_providers: Mapping[str, pulumi.ProviderResource] = field(default_factory=dict)
    # Days before each spoke's token is due for renewal, by spoke name.
    spoke_token_days_left: Mapping[str, int] = field(default_factory=dict)


class Cluster(pulumi.ComponentResource):
    """GitHub access, credentials, Flux Operator, FluxInstance, runtime info, platform and tenants.

    Providers arrive through `opts.providers` (a `kubernetes` one always, a `github` one when the
    settings make this cluster the owner of the organisation's GitHub objects or give it webhook
    receivers) and reach every
    resource by parentage, so two clusters in one program never share a provider by accident.
    """

    cluster_name: pulumi.Output[str]
    environment: pulumi.Output[str]
    flux_version: pulumi.Output[str]
    operator_chart_version: pulumi.Output[str]
    token_days_left: pulumi.Output[dict[str, int]]
    app_key_days_left: pulumi.Output[int] | None
    secret_names: pulumi.Output[list[str]]
    runtime_config_map: pulumi.Output[str]
    spoke_token_days_left: pulumi.Output[dict[str, int]] | None

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:index:Cluster", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        # Production keeps what would take Flux down if deleted. `destroy --skip-preview` and
        # `--exclude-protected` still delete whatever no protected resource depends on, so each
        # object a cluster needs is protected itself (tests/test_teardown.py computes what each
        # destroy variant deletes).
        protected = pulumi.ResourceOptions(parent=self, protect=s.production)
        # The bot's GitHub access serves every cluster of the fleet: protected on its owner stack,
        # whatever its environment (a copy for an ephemeral fleet is never the owner).
        fleet_wide = pulumi.ResourceOptions(parent=self, protect=True)

        self.github_access: GitHubAccess | None = None
        self.github_app_access: GitHubAppAccess | None = None
        fleet = args.fleet or alone(s.stack_auth)
        # Only the owner stack loads the GitHub SDK; the others declare no GitHub object. It keeps
        # the bot team while any stack of the fleet uses tokens, and grants the App installation
        # while any uses the App, so stacks switch modes one at a time.
        if s.github_access_owner and fleet.installation is not None:
            self.github_app_access = _github_app_access(
                f"{name}-github-app-access", s, fleet, fleet_wide
            )
        if s.github_access_owner and fleet.team:
            self.github_access = _github_access(f"{name}-github-access", s, fleet, fleet_wide)

        self.namespace = FluxNamespace(f"{name}-flux-system", opts=protected)
        platform_token, apps_token = _git_credentials(s)
        # Each GitRepository names the provider of the credential it reads.
        git_provider = source_provider(apps_token)
        self.credentials = GitCredentials(
            f"{name}-credentials",
            CredentialsArgs(
                namespace=self.namespace.name,
                platform_token=platform_token,
                apps_token=apps_token,
                enterprise=RegistryLogin(
                    registry=s.enterprise_registry,
                    username=s.enterprise_username,
                    password=pulumi.Output.secret(s.enterprise_token.get_secret_value()),
                )
                if s.enterprise_token is not None
                else None,
            ),
            # Switching the owner stack's own secrets to the App (or back) waits for the access
            # the new mode needs; a fleet of token stacks alone keeps its order.
            opts=options.after(
                protected, *[a for a in (self.github_app_access, self.github_access) if a]
            )
            if self.github_app_access
            else protected,
        )

        runtime = RuntimeInfoArgs(
            namespace=self.namespace.name,
            environment=s.environment.value,
            git_branch=s.git_branch,
            cluster_name=s.cluster_name,
            cluster_domain=s.cluster_domain,
            extra=s.runtime_extra,
        )
        # Every Kustomization substitutes from it: without it none of them applies.
        self.runtime_info = RuntimeInfo(f"{name}-runtime-info", runtime, opts=protected)

        self.operator = FluxOperator(
            f"{name}-flux-operator",
            OperatorArgs(
                namespace=self.namespace.name,
                chart_version=s.operator_chart_version,
                chart_digest=s.operator_chart_digest,
            ),
            opts=options.after(protected, self.credentials),
        )

        self.instance = FluxInstance(
            f"{name}-flux",
            _instance_args(s, self.namespace.name),
            # The operator release installs the FluxInstance CRD and runs the controller that
            # readies it.
            opts=options.after(protected, self.operator),
        )

        # Everything below is a Flux object (or belongs with one) and waits for the CRDs the
        # FluxInstance installs.
        self.platform = Platform(
            f"{name}-platform",
            PlatformArgs(
                url=c.repository_url(s.github_owner, s.infra_repository),
                branch=s.git_branch,
                environment=s.environment.value,
                components=s.platform,
                after=[self.instance],
                git_provider=source_provider(platform_token),
                git_secret=self.credentials.platform,
                deletion_policy=s.kustomization_deletion_policy,
                protect=s.production,
            ),
            opts=child,
        )

        self.guardrails: TenantGuardrails | None = None
        if s.tenant_admission_policies:
            self.guardrails = TenantGuardrails(
                f"{name}-tenant-guardrails", GuardrailsArgs(), opts=protected
            )
        # A tenant's first reconcile is already checked (OCI-only HelmRepositories).
        guarded: list[pulumi.Resource] = list(self.guardrails.bindings) if self.guardrails else []

        self.tenants = [
            Tenant(
                f"{name}-tenant-{tenant}",
                TenantArgs(
                    namespace=tenant,
                    url=c.repository_url(s.github_owner, s.apps_repository),
                    branch=s.git_branch,
                    environment=s.environment.value,
                    apps_token=apps_token,
                    runtime_data=runtime.data,
                    # Nothing of the platform: a tenant's prerequisites are its own namespace kit
                    # and the FluxInstance's CRDs. What d1 had tenants wait for the platform for
                    # (Kyverno's copies into the namespace, its OCI-only source check) this stack
                    # declares itself (the kit, `TenantGuardrails`); CRDs a tenant's manifests may
                    # use from the platform are retried by kustomize-controller every
                    # retryInterval. Depending on the platform component would add one edge per
                    # tenant and platform resource (the SDK expands a component into its children).
                    after=[self.instance, *guarded],
                    deletion_policy=s.kustomization_deletion_policy,
                    protect=s.production,
                    git_provider=git_provider,
                ),
                opts=child,
            )
            for tenant in s.tenants
        ]

        self.image_automation: ImageAutomation | None = None
        if s.image_automation:
            # Required with image automation (config rules): the tenants' copy stays read-only.
            if s.apps_push_token is None:
                raise ValueError("appsPushToken is required with imageAutomation")
            push_token: GitCredential = pulumi.Output.secret(s.apps_push_token.get_secret_value())
            self.image_automation = ImageAutomation(
                f"{name}-image-automation",
                AutomationArgs(
                    apps_url=c.repository_url(s.github_owner, s.apps_repository),
                    branch=s.git_branch,
                    author_name=s.automation_author_name,
                    author_email=s.automation_author_email,
                    # The push credential when the stack has one: tenants keep read-only copies.
                    apps_token=push_token,
                    runtime_data=runtime.data,
                    after=[self.instance],
                    git_provider=source_provider(push_token),
                    infra=[
                        self.platform.source,
                        self.platform.service_account,
                        self.platform.cluster_role_binding,
                    ],
                    deletion_policy=s.kustomization_deletion_policy,
                    protect=s.production,
                ),
                opts=child,
            )

        self.receivers: Receivers | None = None
        if s.receivers:
            self.receivers = Receivers(
                f"{name}-receivers",
                ReceiversArgs(
                    owner=s.github_owner,
                    targets=s.receiver_targets,
                    endpoint=Endpoint(
                        host=s.receiver_public_host,
                        ingress=s.receiver_ingress,
                        ingress_class=s.receiver_ingress_class,
                        tls_secret=s.receiver_tls_secret,
                    ),
                    token_length=s.receiver_token_length,
                    token_special=s.receiver_token_special,
                    # The Receiver CRD and the tenant namespaces the receivers live in.
                    after=[
                        self.instance,
                        *(t.kit for t in self.tenants),
                        *([self.image_automation] if self.image_automation else []),
                    ],
                ),
                opts=child,
            )

        # Hub mode: spoke clusters reconciled by this cluster's Flux through kubeconfig Secrets.
        self.spokes = [
            Spoke(
                f"{name}-spoke-{spoke.name}",
                SpokeArgs(
                    spoke=spoke,
                    spoke_provider=args.spoke_providers[spoke.name],
                    url=c.repository_url(s.github_owner, s.infra_repository),
                    branch=s.git_branch,
                    git_token=platform_token,
                    after=[self.instance],
                    deletion_policy=_spoke_deletion_policy(s, spoke),
                ),
                opts=child,
            )
            for spoke in s.spoke_list
        ]

        self.spoke_token_days_left = (
            pulumi.Output.from_input(dict(args.spoke_token_days_left)) if self.spokes else None
        )
        self.cluster_name = pulumi.Output.from_input(s.cluster_name)
        self.environment = pulumi.Output.from_input(s.environment.value)
        self.flux_version = pulumi.Output.from_input(s.flux_version)
        self.operator_chart_version = pulumi.Output.from_input(s.operator_chart_version)
        self.token_days_left = pulumi.Output.from_input(dict(args.token_days_left))
        self.app_key_days_left = (
            pulumi.Output.from_input(args.app_key_days_left)
            if args.app_key_days_left is not None
            else None
        )
        self.secret_names = self.credentials.secret_names
        self.runtime_config_map = self.runtime_info.name
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[object]]:
        """The cluster's outputs under the stack output names.

        receiverUrls only with receivers, githubAppKeyDaysLeft only with a GitHub App,
        spokeTokenDaysLeft only on a hub.
        """
        receivers: dict[str, pulumi.Output[object]] = (
            {"receiverUrls": self.receivers.urls} if self.receivers else {}
        )
        spokes: dict[str, pulumi.Output[object]] = (
            {"spokeTokenDaysLeft": self.spoke_token_days_left}
            if self.spoke_token_days_left is not None
            else {}
        )
        app_key: dict[str, pulumi.Output[object]] = (
            {"githubAppKeyDaysLeft": self.app_key_days_left}
            if self.app_key_days_left is not None
            else {}
        )
        return {
            **receivers,
            "clusterName": self.cluster_name,
            "environment": self.environment,
            "fluxVersion": self.flux_version,
            "operatorChartVersion": self.operator_chart_version,
            "tokenDaysLeft": self.token_days_left,
            "secretNames": self.secret_names,
            "runtimeConfigMap": self.runtime_config_map,
            **app_key,
            **spokes,
        }


def _instance_args(s: Settings, namespace: pulumi.Input[str]) -> InstanceArgs:
    return InstanceArgs(
        namespace=namespace,
        distribution=Distribution(
            version=s.flux_version,
            registry=s.flux_registry,
            artifact=s.flux_artifact,
            variant=s.flux_variant,
            image_pull_secret=c.ENTERPRISE_SECRET if s.enterprise_token else None,
        ),
        components=s.components,
        cluster=ClusterSpec(
            type=s.cluster_type,
            multitenant=s.multitenant,
            tenant_default_service_account=s.tenant_default_service_account,
            network_policy=s.network_policy,
            domain=s.kubernetes_dns_domain,
        ),
        patches=s.patches,
        sync=Sync(
            kind=s.sync_kind,
            url=s.sync_url,
            ref=s.sync_ref,
            path=s.sync_path,
            pull_secret=s.sync_pull_secret,
            provider=_sync_provider(s),
            interval=s.sync_interval,
        )
        if s.sync_kind and s.sync_url and s.sync_ref and s.sync_path
        else None,
        ready_timeout_seconds=s.flux_ready_timeout_seconds,
    )


def _spoke_deletion_policy(s: Settings, spoke: SpokeSpec) -> str:
    """As for the stack's own Kustomizations, by the spoke's environment: production orphans.

    A policy that deletes (the chains prune, so MirrorPrune does too) waits for what it deletes
    to be gone: the hub's HelmReleases uninstall on the spoke through the kubeconfig Pulumi
    deletes right after the Kustomizations, and helm-controller skips the uninstall once that
    Secret is gone, leaving the releases running.
    """
    policy = s.deletion_policy
    if policy is DeletionPolicy.AUTO:
        policy = DeletionPolicy.ORPHAN if spoke.production else DeletionPolicy.DELETE
    if policy in (DeletionPolicy.DELETE, DeletionPolicy.MIRROR_PRUNE):
        return DeletionPolicy.WAIT_FOR_TERMINATION.value
    return policy.value


def _git_credentials(s: Settings) -> tuple[GitCredential, GitCredential]:
    """What `flux-system` and `flux-apps` are written from: the two tokens, or the App and the
    applications repository's own credential (a second App, or appsToken).

    `flux-apps` is copied into every tenant namespace, where tenant administrators read it, so in
    App mode it is never the App that reaches the platform repository.
    """
    if s.github_app:
        assert s.github_app_id is not None
        assert s.github_app_private_key is not None
        app = GitHubApp(
            app_id=s.github_app_id,
            private_key=pulumi.Output.secret(s.github_app_private_key.get_secret_value()),
            installation_id=s.github_app_installation_id,
            installation_owner=s.github_app_installation_owner,
        )
        return app, _apps_credential(s)
    assert s.platform_token is not None
    return pulumi.Output.secret(s.platform_token.get_secret_value()), _apps_credential(s)


def _apps_credential(s: Settings) -> GitCredential:
    if s.apps_app:
        assert s.github_apps_app_id is not None
        assert s.github_apps_private_key is not None
        return GitHubApp(
            app_id=s.github_apps_app_id,
            private_key=pulumi.Output.secret(s.github_apps_private_key.get_secret_value()),
            installation_id=s.github_apps_installation_id,
        )
    assert s.apps_token is not None
    return pulumi.Output.secret(s.apps_token.get_secret_value())


def _sync_provider(s: Settings) -> str | None:
    # A GitRepository sync reads the App's data from its pull secret only with provider github.
    if s.github_app and s.sync_kind == "GitRepository":
        return "github"
    return s.sync_provider


def _github_access(
    name: str, s: Settings, fleet: FleetAuth, opts: pulumi.ResourceOptions
) -> GitHubAccess:
    from fleet.program.github_access.team import (  # noqa: PLC0415
        GitHubAccess,
        GitHubAccessArgs,
    )

    return GitHubAccess(
        name,
        GitHubAccessArgs(
            owner=s.github_owner,
            team=s.bot_team,
            bot_username=s.bot_username or "",
            push_repositories=(s.infra_repository, s.apps_repository),
            # Any stack of the fleet whose FluxInstance syncs from the fleet repository needs it.
            pull_repositories=(s.fleet_repository,) if fleet.reads_fleet else (),
            push_access=s.bot_push_access,
            push_branch=s.bot_push_branch,
            merge_teams=s.merge_teams,
            # With both modes in use the team's ruleset is the only one, and the App bypasses it.
            bypass_app_ids=(fleet.installation.app_id,) if fleet.installation else (),
        ),
        opts=opts,
    )


def _github_app_access(
    name: str, s: Settings, fleet: FleetAuth, opts: pulumi.ResourceOptions
) -> GitHubAppAccess:
    from fleet.program.github_access.app import (  # noqa: PLC0415
        GitHubAppAccess,
        GitHubAppAccessArgs,
    )

    assert fleet.installation is not None
    # The App reaches the platform repository (and the fleet repository when a stack syncs from
    # it), never the applications repository: that one belongs to the second App, whose key
    # tenant namespaces hold, so it is read-only there and never a bypass actor.
    push = (s.infra_repository,)
    return GitHubAppAccess(
        name,
        GitHubAppAccessArgs(
            app_id=fleet.installation.app_id,
            installation_id=fleet.installation.installation_id,
            repositories=(*push, s.fleet_repository) if fleet.reads_fleet else push,
            push_repositories=push,
            # While the bot team stays, its ruleset carries the App's bypass (see GitHubAccess).
            push_access=PushAccess.NONE if fleet.team else s.bot_push_access,
            push_branch=s.bot_push_branch,
            apps_installation_id=(
                fleet.apps_installation.installation_id if fleet.apps_installation else None
            ),
            apps_repository=s.apps_repository,
        ),
        opts=opts,
    )
