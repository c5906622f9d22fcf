"""The settings-to-arguments mapping of a cluster: which setting feeds which component's argument.

Pure functions of `Settings` (and of the values another component hands over, taken as plain
inputs), so `Cluster.__init__` is wiring alone and the mapping is tested without a Pulumi runtime.
The GitHub arguments import their modules lazily: only the owner stack loads the GitHub SDK.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pulumi

from fleet.program import conventions as c
from fleet.program.conventions import DeletionPolicy
from fleet.program.credentials import (
    CredentialsArgs,
    GitCredential,
    GitHubApp,
    RegistryLogin,
    source_provider,
)
from fleet.program.github_access.plan import FleetAuth, PushAccess
from fleet.program.image_automation import AutomationArgs
from fleet.program.instance import ClusterSpec, Distribution, InstanceArgs, Sync
from fleet.program.operator import OperatorArgs
from fleet.program.platform import PlatformArgs
from fleet.program.receivers import Endpoint, ReceiversArgs
from fleet.program.runtime_info import RuntimeInfoArgs
from fleet.program.spokes import SpokeArgs
from fleet.program.tenants import TenantArgs

if TYPE_CHECKING:
    from fleet.program.config.model import Settings
    from fleet.program.github_access.app import GitHubAppAccessArgs
    from fleet.program.github_access.team import GitHubAccessArgs
    from fleet.program.spoke_plan import Spoke as SpokeSpec

Dependencies = Sequence[pulumi.Resource]


def git_credentials(s: Settings) -> tuple[GitCredential, GitCredential]:
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


def push_credential(s: Settings) -> GitCredential | None:
    """Image automation's push token, when the stack runs image automation."""
    if not s.image_automation:
        return None
    # Required with image automation (config rules): the tenants' copy stays read-only.
    if s.apps_push_token is None:
        raise ValueError("appsPushToken is required with imageAutomation")
    return pulumi.Output.secret(s.apps_push_token.get_secret_value())


def credentials(
    s: Settings,
    namespace: pulumi.Input[str],
    platform_token: GitCredential,
    apps_token: GitCredential,
) -> CredentialsArgs:
    return CredentialsArgs(
        namespace=namespace,
        platform_token=platform_token,
        apps_token=apps_token,
        enterprise=RegistryLogin(
            registry=s.enterprise_registry,
            username=s.enterprise_username,
            password=pulumi.Output.secret(s.enterprise_token.get_secret_value()),
        )
        if s.enterprise_token is not None
        else None,
    )


def runtime_info(s: Settings, namespace: pulumi.Input[str]) -> RuntimeInfoArgs:
    return RuntimeInfoArgs(
        namespace=namespace,
        environment=s.environment.value,
        git_branch=s.git_branch,
        cluster_name=s.cluster_name,
        cluster_domain=s.cluster_domain,
        extra=s.runtime_extra,
    )


def operator(s: Settings, namespace: pulumi.Input[str]) -> OperatorArgs:
    return OperatorArgs(
        namespace=namespace,
        chart=s.operator_chart,
        chart_version=s.operator_chart_version,
        chart_digest=s.operator_chart_digest,
    )


def instance(s: Settings, namespace: pulumi.Input[str]) -> InstanceArgs:
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


def _sync_provider(s: Settings) -> str | None:
    # A GitRepository sync reads the App's data from its pull secret only with provider github.
    if s.github_app and s.sync_kind == "GitRepository":
        return "github"
    return s.sync_provider


def platform(
    s: Settings,
    platform_token: GitCredential,
    git_secret: pulumi.Resource | None,
    *,
    after: Dependencies,
) -> PlatformArgs:
    return PlatformArgs(
        url=c.repository_url(s.github_owner, s.infra_repository),
        branch=s.git_branch,
        environment=s.environment.value,
        components=s.platform,
        after=list(after),
        git_provider=source_provider(platform_token),
        git_secret=git_secret,
        deletion_policy=s.kustomization_deletion_policy,
        protect=s.production,
    )


def tenant(
    s: Settings,
    namespace: str,
    apps_token: GitCredential,
    runtime_data: Mapping[str, str],
    *,
    after: Dependencies,
) -> TenantArgs:
    return TenantArgs(
        namespace=namespace,
        url=c.repository_url(s.github_owner, s.apps_repository),
        branch=s.git_branch,
        environment=s.environment.value,
        apps_token=apps_token,
        runtime_data=runtime_data,
        after=list(after),
        deletion_policy=s.kustomization_deletion_policy,
        protect=s.production,
        git_provider=source_provider(apps_token),
    )


def image_automation(
    s: Settings,
    push_token: GitCredential,
    runtime_data: Mapping[str, str],
    *,
    after: Dependencies,
    infra: Dependencies,
) -> AutomationArgs:
    return AutomationArgs(
        apps_url=c.repository_url(s.github_owner, s.apps_repository),
        branch=s.git_branch,
        author_name=s.automation_author_name,
        author_email=s.automation_author_email,
        # The push credential when the stack has one: tenants keep read-only copies.
        apps_token=push_token,
        runtime_data=runtime_data,
        after=list(after),
        git_provider=source_provider(push_token),
        infra=list(infra),
        deletion_policy=s.kustomization_deletion_policy,
        protect=s.production,
    )


def receivers(s: Settings, *, after: Dependencies) -> ReceiversArgs:
    return ReceiversArgs(
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
        after=list(after),
    )


def spoke(
    s: Settings,
    spec: SpokeSpec,
    spoke_provider: pulumi.ProviderResource,
    *,
    git_token: GitCredential,
    after: Dependencies,
) -> SpokeArgs:
    return SpokeArgs(
        spoke=spec,
        spoke_provider=spoke_provider,
        url=c.repository_url(s.github_owner, s.infra_repository),
        branch=s.git_branch,
        git_token=git_token,
        after=list(after),
        deletion_policy=spoke_deletion_policy(s, spec),
    )


def spoke_deletion_policy(s: Settings, spoke: SpokeSpec) -> str:
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


def github_access(s: Settings, fleet: FleetAuth) -> GitHubAccessArgs:
    from fleet.program.github_access.team import GitHubAccessArgs  # noqa: PLC0415

    return GitHubAccessArgs(
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
    )


def github_app_access(s: Settings, fleet: FleetAuth) -> GitHubAppAccessArgs:
    from fleet.program.github_access.app import GitHubAppAccessArgs  # noqa: PLC0415

    assert fleet.installation is not None
    # The App reaches the platform repository (and the fleet repository when a stack syncs from
    # it), never the applications repository: that one belongs to the second App, whose key
    # tenant namespaces hold, so it is read-only there and never a bypass actor.
    push = (s.infra_repository,)
    return GitHubAppAccessArgs(
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
    )
