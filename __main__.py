"""One Kubernetes cluster of the d1 fleet: GitHub access, credentials, Flux and its runtime info."""

from __future__ import annotations

import pulumi

from fleet.program import conventions as c
from fleet.program import providers
from fleet.program.credentials import CredentialsArgs, GitCredentials, RegistryLogin
from fleet.program.github_access import GitHubAccess, GitHubAccessArgs
from fleet.program.image_automation import AutomationArgs, ImageAutomation
from fleet.program.instance import ClusterSpec, Distribution, FluxInstance, InstanceArgs, Sync
from fleet.program.namespace import FluxNamespace
from fleet.program.operator import FluxOperator, OperatorArgs
from fleet.program.platform import Platform, PlatformArgs
from fleet.program.runtime_info import RuntimeInfo, RuntimeInfoArgs
from fleet.program.settings import ConfigError
from fleet.program.stack_config import load
from fleet.program.tenants import Tenant, TenantArgs

try:
    settings, expiry = load()
except ConfigError as err:
    raise pulumi.RunError(str(err)) from None

if settings.github_access_owner:
    GitHubAccess(
        "github-access",
        GitHubAccessArgs(
            owner=settings.github_owner,
            team=settings.bot_team,
            bot_username=settings.bot_username or "",
            push_repositories=(settings.infra_repository, settings.apps_repository),
            pull_repositories=(settings.fleet_repository,) if settings.syncs_from_fleet else (),
            push_access=settings.bot_push_access,
            push_branch=settings.bot_push_branch,
        ),
        opts=pulumi.ResourceOptions(providers=[providers.github_provider(settings)]),
    )

cluster = pulumi.ResourceOptions(providers=[providers.kubernetes(settings)])
# Production keeps what would take Flux down if deleted.
protected = pulumi.ResourceOptions.merge(
    cluster, pulumi.ResourceOptions(protect=settings.production)
)

namespace = FluxNamespace("flux-system", opts=protected)

credentials = GitCredentials(
    "credentials",
    CredentialsArgs(
        namespace=namespace.name,
        platform_token=pulumi.Output.secret(settings.platform_token.get_secret_value()),
        apps_token=pulumi.Output.secret(settings.apps_token.get_secret_value()),
        enterprise=RegistryLogin(
            registry=settings.enterprise_registry,
            username=settings.enterprise_username,
            password=pulumi.Output.secret(settings.enterprise_token.get_secret_value()),
        )
        if settings.enterprise_token is not None
        else None,
    ),
    opts=cluster,
)

runtime = RuntimeInfoArgs(
    namespace=namespace.name,
    environment=settings.environment.value,
    git_branch=settings.git_branch,
    cluster_name=settings.cluster_name,
    cluster_domain=settings.cluster_domain,
    extra=settings.runtime_extra,
)
runtime_info = RuntimeInfo("runtime-info", runtime, opts=cluster)

operator = FluxOperator(
    "flux-operator",
    OperatorArgs(namespace=namespace.name, chart_version=settings.operator_chart_version),
    opts=pulumi.ResourceOptions.merge(protected, pulumi.ResourceOptions(depends_on=[credentials])),
)

instance = FluxInstance(
    "flux",
    InstanceArgs(
        namespace=namespace.name,
        distribution=Distribution(
            version=settings.flux_version,
            registry=settings.flux_registry,
            artifact=settings.flux_artifact,
            variant=settings.flux_variant,
            image_pull_secret=c.ENTERPRISE_SECRET if settings.enterprise_token else None,
        ),
        components=settings.components,
        cluster=ClusterSpec(
            type=settings.cluster_type,
            multitenant=settings.multitenant,
            tenant_default_service_account=settings.tenant_default_service_account,
            network_policy=settings.network_policy,
            domain=settings.kubernetes_dns_domain,
        ),
        patches=settings.patches,
        sync=Sync(
            kind=settings.sync_kind,
            url=settings.sync_url,
            ref=settings.sync_ref,
            path=settings.sync_path,
            pull_secret=settings.sync_pull_secret,
            provider=settings.sync_provider,
            interval=settings.sync_interval,
        )
        if settings.sync_kind and settings.sync_url and settings.sync_ref and settings.sync_path
        else None,
        ready_timeout_seconds=settings.flux_ready_timeout_seconds,
    ),
    # The operator release installs the FluxInstance CRD and runs the controller that readies it.
    opts=pulumi.ResourceOptions.merge(protected, pulumi.ResourceOptions(depends_on=[operator])),
)

# Everything below is a Flux object (or belongs with one) and waits for the FluxInstance's CRDs.
apps_token = pulumi.Output.secret(settings.apps_token.get_secret_value())
platform = Platform(
    "platform",
    PlatformArgs(
        url=c.repository_url(settings.github_owner, settings.infra_repository),
        branch=settings.git_branch,
        environment=settings.environment.value,
        components=settings.platform,
        after=[instance],
    ),
    opts=cluster,
)

for tenant in settings.tenants:
    Tenant(
        f"tenant-{tenant}",
        TenantArgs(
            namespace=tenant,
            url=c.repository_url(settings.github_owner, settings.apps_repository),
            branch=settings.git_branch,
            environment=settings.environment.value,
            apps_token=apps_token,
            runtime_data=runtime.data,
            after=[instance, platform],
        ),
        opts=cluster,
    )

if settings.image_automation:
    ImageAutomation(
        "image-automation",
        AutomationArgs(
            apps_url=c.repository_url(settings.github_owner, settings.apps_repository),
            branch=settings.git_branch,
            author_name=settings.automation_author_name,
            author_email=settings.automation_author_email,
            apps_token=apps_token,
            runtime_data=runtime.data,
            after=[instance],
        ),
        opts=cluster,
    )

pulumi.export("clusterName", settings.cluster_name)
pulumi.export("environment", settings.environment.value)
pulumi.export("fluxVersion", settings.flux_version)
pulumi.export("operatorChartVersion", settings.operator_chart_version)
pulumi.export("tokenDaysLeft", expiry.days_left)
pulumi.export("secretNames", credentials.secret_names)
pulumi.export("runtimeConfigMap", runtime_info.name)
