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

from fleet.program import cluster_args as to
from fleet.program import options
from fleet.program.credentials import (
    GitCredentials,
)
from fleet.program.github_access.plan import FleetAuth, alone
from fleet.program.image_automation import ImageAutomation
from fleet.program.instance import FluxInstance
from fleet.program.namespace import FluxNamespace
from fleet.program.operator import FluxOperator
from fleet.program.platform import Platform
from fleet.program.receivers import Receivers
from fleet.program.runtime_info import RuntimeInfo
from fleet.program.spokes import Spoke
from fleet.program.tenant_guardrails import GuardrailsArgs, TenantGuardrails
from fleet.program.tenants import Tenant

if TYPE_CHECKING:
    from fleet.program.config.model import Settings
    from fleet.program.github_access.app import GitHubAppAccess, GitHubAppAccessArgs
    from fleet.program.github_access.team import GitHubAccess, GitHubAccessArgs


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
                f"{name}-github-app-access", to.github_app_access(s, fleet), fleet_wide
            )
        if s.github_access_owner and fleet.team:
            self.github_access = _github_access(
                f"{name}-github-access", to.github_access(s, fleet), fleet_wide
            )

        self.namespace = FluxNamespace(f"{name}-flux-system", opts=protected)
        platform_token, apps_token = to.git_credentials(s)
        self.credentials = GitCredentials(
            f"{name}-credentials",
            to.credentials(s, self.namespace.name, platform_token, apps_token),
            # Switching the owner stack's own secrets to the App (or back) waits for the access
            # the new mode needs; a fleet of token stacks alone keeps its order.
            opts=options.after(
                protected, *[a for a in (self.github_app_access, self.github_access) if a]
            )
            if self.github_app_access
            else protected,
        )

        runtime = to.runtime_info(s, self.namespace.name)
        # Every Kustomization substitutes from it: without it none of them applies.
        self.runtime_info = RuntimeInfo(f"{name}-runtime-info", runtime, opts=protected)

        self.operator = FluxOperator(
            f"{name}-flux-operator",
            to.operator(s, self.namespace.name),
            opts=options.after(protected, self.credentials),
        )

        self.instance = FluxInstance(
            f"{name}-flux",
            to.instance(s, self.namespace.name),
            # The operator release installs the FluxInstance CRD and runs the controller that
            # readies it.
            opts=options.after(protected, self.operator),
        )

        # Everything below is a Flux object (or belongs with one) and waits for the CRDs the
        # FluxInstance installs.
        self.platform = Platform(
            f"{name}-platform",
            to.platform(s, platform_token, self.credentials.platform, after=[self.instance]),
            opts=child,
        )

        self.guardrails: TenantGuardrails | None = None
        if s.tenant_admission_policies:
            self.guardrails = TenantGuardrails(
                f"{name}-tenant-guardrails", GuardrailsArgs(), opts=protected
            )
        # A tenant's first reconcile is already checked (OCI-only HelmRepositories).
        guarded: list[pulumi.Resource] = list(self.guardrails.bindings) if self.guardrails else []

        # Nothing of the platform: a tenant's prerequisites are its own namespace kit and the
        # FluxInstance's CRDs. What d1 had tenants wait for the platform for (Kyverno's copies
        # into the namespace, its OCI-only source check) this stack declares itself (the kit,
        # `TenantGuardrails`); CRDs a tenant's manifests may use from the platform are retried by
        # kustomize-controller every retryInterval. Depending on the platform component would add
        # one edge per tenant and platform resource (the SDK expands a component into its
        # children).
        self.tenants = [
            Tenant(
                f"{name}-tenant-{tenant}",
                to.tenant(s, tenant, apps_token, runtime.data, after=[self.instance, *guarded]),
                opts=child,
            )
            for tenant in s.tenants
        ]

        self.image_automation: ImageAutomation | None = None
        push_token = to.push_credential(s)
        if push_token is not None:
            self.image_automation = ImageAutomation(
                f"{name}-image-automation",
                to.image_automation(
                    s,
                    push_token,
                    runtime.data,
                    after=[self.instance],
                    infra=[
                        self.platform.source,
                        self.platform.service_account,
                        self.platform.cluster_role_binding,
                    ],
                ),
                opts=child,
            )

        self.receivers: Receivers | None = None
        if s.receivers:
            self.receivers = Receivers(
                f"{name}-receivers",
                # The Receiver CRD and the tenant namespaces the receivers live in.
                to.receivers(
                    s,
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
                to.spoke(
                    s,
                    spoke,
                    args.spoke_providers[spoke.name],
                    git_token=platform_token,
                    after=[self.instance],
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


def _github_access(name: str, args: GitHubAccessArgs, opts: pulumi.ResourceOptions) -> GitHubAccess:
    from fleet.program.github_access.team import GitHubAccess  # noqa: PLC0415

    return GitHubAccess(name, args, opts=opts)


def _github_app_access(
    name: str, args: GitHubAppAccessArgs, opts: pulumi.ResourceOptions
) -> GitHubAppAccess:
    from fleet.program.github_access.app import GitHubAppAccess  # noqa: PLC0415

    return GitHubAppAccess(name, args, opts=opts)
