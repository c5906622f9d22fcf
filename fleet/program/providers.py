"""Explicit providers, so a stack only ever reaches the cluster and organisation it is configured for.

Relying on the ambient kube context would let a prod-eu run land on whatever cluster the operator's
shell last pointed at; every Kubernetes resource is therefore created through a provider built from
the stack's own kubeContext/kubeconfig, and every GitHub resource through a provider pinned to the
configured organisation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

if TYPE_CHECKING:
    import pulumi_github as github

    from fleet.program.config.model import Settings
    from fleet.program.spoke_plan import Spoke


def for_cluster(
    settings: Settings, prefix: str = "", github_token: str | None = None
) -> dict[str, pulumi.ProviderResource]:
    """The providers one cluster's resources use, keyed by package, named `<prefix><package>`.

    `github_token` is the GitHub API token the configuration resolved (`config.sources.api_token`).

    The GitHub provider (and its SDK) is only loaded for a stack that declares GitHub objects: the
    owner of the organisation's, or one with webhook receivers.
    """
    found: dict[str, pulumi.ProviderResource] = {"kubernetes": kubernetes(settings, prefix)}
    if settings.github_access_owner or settings.receivers:
        found["github"] = github_provider(settings, prefix, github_token)
    return found


def kubernetes(settings: Settings, prefix: str = "") -> k8s.Provider:
    """A provider for exactly the kube context (or kubeconfig) named in the stack's config.

    Its identity is the cluster name (`cluster_identifier`): pulumi-kubernetes replaces a provider,
    and with it every resource of the stack, when its identity changes, and without an identifier
    that identity follows the kubeconfig's contents, which differ between CI and a laptop for the
    same cluster. With an unchanged identifier a kubeconfig or context change is an update.
    """
    return _cluster_provider(
        f"{prefix}kubernetes",
        settings.kube_context,
        settings.kubeconfig,
        settings.cluster_name,
        settings,
    )


def _cluster_provider(
    name: str,
    context: str | None,
    kubeconfig: str | None,
    identifier: str,
    settings: Settings,
) -> k8s.Provider:
    """A provider for one cluster, with the apply rules every cluster of the stack shares."""
    return k8s.Provider(
        name,
        context=context,
        kubeconfig=kubeconfig,
        cluster_identifier=identifier,
        # Never fall back to the current context: an unset context means the kubeconfig's own
        # current-context, and only when a dedicated kubeconfig file is configured.
        enable_server_side_apply=True,
        # A token rotation or a runtime value change updates the Secret or ConfigMap in place;
        # without these, new data replaces the object (delete, then create: the names are fixed),
        # leaving Flux without its Git credentials for a moment.
        enable_secret_mutable=True,
        enable_config_map_mutable=True,
        # Off by default: since 4.29 creating an existing object fails with AlreadyExists;
        # with this on (and server-side apply), `up` adopts it instead (see `fleet adopt`).
        upsert_existing_objects=settings.upsert_existing_objects,
        # On for the first `up` after adopting objects another manager (the flux CLI,
        # kustomize-controller, Kyverno) applied: the stack then owns every field it declares,
        # and later updates no longer conflict with the previous manager's fields.
        enable_patch_force=settings.force_field_ownership or None,
    )


def github_provider(
    settings: Settings, prefix: str = "", token: str | None = None
) -> github.Provider:
    """A provider pinned to the configured organisation, its token a Pulumi secret."""
    import pulumi_github as github  # noqa: PLC0415 (only the owner stack pays for this import)

    return github.Provider(
        f"{prefix}github",
        owner=settings.github_owner,
        token=pulumi.Output.secret(token) if token else None,
    )


def for_spokes(settings: Settings) -> dict[str, pulumi.ProviderResource]:
    """One provider per spoke of a hub stack, keyed by spoke name (none for a cluster stack)."""
    return {spoke.name: spoke_kubernetes(spoke, settings) for spoke in settings.spoke_list}


def spoke_kubernetes(spoke: Spoke, settings: Settings) -> k8s.Provider:
    """A provider for exactly the spoke's kube context (or kubeconfig), identified by its name.

    Same reasons as `kubernetes`: the identifier keeps a kubeconfig change an update, and the
    mutable Secret keeps a token Secret's data changes in place.
    """
    return _cluster_provider(
        f"spoke-{spoke.name}-kubernetes", spoke.context, spoke.kubeconfig, spoke.name, settings
    )
