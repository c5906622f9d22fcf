"""The settings-to-arguments mapping of a cluster, without a Pulumi runtime or a resource."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date

import pulumi
import pytest

from fleet.program import cluster_args as to
from fleet.program import conventions as c
from fleet.program.config.model import Settings
from fleet.program.credentials import GitHubApp
from fleet.program.github_access.plan import PushAccess, alone
from fleet.program.spoke_plan import Spoke
from tests.helpers import TOKEN_KEYS, app_config, stack_settings


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """The test's own event loop: a secret `Output` is created on the current one."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def app_settings(stack: str) -> Settings:
    """A committed stack in App mode: the two Apps, no token, a ruleset bypass for the bot."""
    return stack_settings(
        stack,
        drop=(*TOKEN_KEYS, "mergeTeams"),
        **app_config(),
        botPushAccess="rulesetBypass",
    )


def test_cluster_args_operator_and_instance_follow_the_settings() -> None:
    s = stack_settings("staging")
    operator = to.operator(s, "flux-system")
    assert (operator.chart_version, operator.chart_digest) == (
        s.operator_chart_version,
        s.operator_chart_digest,
    )
    instance = to.instance(s, "flux-system")
    assert instance.distribution.version == s.flux_version
    assert instance.distribution.registry == s.flux_registry
    assert instance.distribution.image_pull_secret is None
    assert instance.components == s.components
    assert instance.cluster.domain == s.kubernetes_dns_domain
    assert instance.sync is None
    assert instance.ready_timeout_seconds == s.flux_ready_timeout_seconds


def test_cluster_args_instance_syncs_only_with_every_sync_key() -> None:
    s = stack_settings(
        "staging",
        syncKind="GitRepository",
        syncUrl="https://github.com/org/fleet.git",
        syncRef="refs/heads/main",
        syncPath="clusters/staging",
    )
    sync = to.instance(s, "flux-system").sync
    assert sync is not None
    assert (sync.kind, sync.url, sync.ref, sync.path, sync.provider) == (
        "GitRepository",
        "https://github.com/org/fleet.git",
        "refs/heads/main",
        "clusters/staging",
        None,
    )


def test_cluster_args_runtime_info_carries_the_cluster_identity() -> None:
    s = stack_settings("prod-eu")
    runtime = to.runtime_info(s, "flux-system")
    assert runtime.environment == "production"
    assert (runtime.cluster_name, runtime.cluster_domain, runtime.git_branch) == (
        s.cluster_name,
        s.cluster_domain,
        s.git_branch,
    )


@pytest.mark.usefixtures("loop")
def test_cluster_args_token_mode_credentials_stay_secret_outputs() -> None:
    s = stack_settings("staging")
    platform_token, apps_token = to.git_credentials(s)
    assert isinstance(platform_token, pulumi.Output)
    assert isinstance(apps_token, pulumi.Output)
    args = to.credentials(s, "flux-system", platform_token, apps_token)
    assert args.enterprise is None
    platform = to.platform(s, platform_token, None, after=[])
    assert platform.url == c.repository_url(s.github_owner, s.infra_repository)
    assert platform.git_provider is None
    assert platform.protect is s.production
    tenant = to.tenant(s, "payments", apps_token, {}, after=[])
    assert tenant.url == c.repository_url(s.github_owner, s.apps_repository)
    assert (tenant.namespace, tenant.git_provider) == ("payments", None)
    assert tenant.deletion_policy == s.kustomization_deletion_policy


@pytest.mark.usefixtures("loop")
def test_cluster_args_app_mode_reads_the_platform_with_the_app_and_apps_with_the_second() -> None:
    s = app_settings("staging")
    platform_token, apps_token = to.git_credentials(s)
    assert isinstance(platform_token, GitHubApp)
    assert isinstance(apps_token, GitHubApp)
    assert platform_token.app_id == s.github_app_id
    assert apps_token.app_id == s.github_apps_app_id
    assert to.platform(s, platform_token, None, after=[]).git_provider == "github"


@pytest.mark.usefixtures("loop")
def test_cluster_args_push_credential_only_with_image_automation() -> None:
    assert to.push_credential(stack_settings("staging", imageAutomation="false")) is None
    s = stack_settings("staging", imageAutomation="true")
    assert isinstance(to.push_credential(s), pulumi.Output)
    with pytest.raises(ValueError, match="appsPushToken is required"):
        to.push_credential(s.model_copy(update={"apps_push_token": None}))


def test_cluster_args_spoke_deletion_policy_orphans_production_spokes_only() -> None:
    """A deleting policy waits for what it deletes (the chain's HelmReleases uninstall through the
    kubeconfig Secret Pulumi deletes next); production spokes orphan."""
    s = stack_settings("staging")
    spokes = [
        Spoke("a", "https://a.example.com", date(2026, 1, 1), production=True),
        Spoke("b", "https://b.example.com", date(2026, 1, 1), production=False),
    ]
    assert [to.spoke_deletion_policy(s, spoke) for spoke in spokes] == [
        "Orphan",
        "WaitForTermination",
    ]
    explicit = s.model_copy(update={"deletion_policy": type(s.deletion_policy)("Delete")})
    assert to.spoke_deletion_policy(explicit, spokes[0]) == "WaitForTermination"


def test_cluster_args_github_access_grants_the_bot_both_repositories() -> None:
    s = stack_settings("prod-eu")
    args = to.github_access(s, alone(s.stack_auth))
    assert args.push_repositories == (s.infra_repository, s.apps_repository)
    assert args.bypass_app_ids == ()
    assert args.push_access is s.bot_push_access


def test_cluster_args_github_app_access_never_reaches_the_applications_repository() -> None:
    s = app_settings("prod-eu")
    args = to.github_app_access(s, alone(s.stack_auth))
    assert s.apps_repository not in args.repositories
    assert args.push_repositories == (s.infra_repository,)
    assert args.push_access is (PushAccess.NONE if alone(s.stack_auth).team else s.bot_push_access)
