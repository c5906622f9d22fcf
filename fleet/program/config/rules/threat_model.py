"""The threat model's guarantees, held by the program itself: tenant lockdown, credentials of
different reach never one value, a spoke never the hub nor another spoke's API server."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Final

from fleet.program.config import entries
from fleet.program.config.rules.base import Problem, Rules, Values

RULES: Final = Rules()

# The threat model's guarantees, held by the program itself: a bare `pulumi up` or an Automation
# API run skips the policy pack, so nothing here may rely on it.

# What the Flux Operator's multitenant profile adds to the controllers' arguments
# (controlplaneio-fluxcd/flux-operator internal/builder/profiles.go, `GetProfileMultitenant`); a
# later argument of the same flag wins, so a patch may repeat them only with the lockdown's values.
_LOCKDOWN_ARGUMENT: Final = re.compile(
    r"--(no-cross-namespace-refs|no-remote-bases|default-service-account)(?:=([A-Za-z0-9_.-]*))?"
)
# strconv.ParseBool's true spellings (a bare boolean flag is true).
_TRUE: Final = ("", "1", "t", "T", "TRUE", "true", "True")


@RULES.reads("multitenant", "network_policy", "flux_patches", "tenant_default_service_account")
def _tenant_lockdown(v: Values) -> Iterator[Problem]:
    if not v["multitenant"]:
        yield (
            "multitenant",
            "false lifts Flux's tenant lockdown: a tenant's Flux objects could use flux-system's "
            "sources and credentials (an ImageUpdateAutomation pushing to the platform "
            "repository) and run as the controllers; allowed: true",
        )
    if not v["network_policy"]:
        yield (
            "networkPolicy",
            "false drops the network policies that keep tenant pods away from the Flux "
            "controllers; allowed: true",
        )
    account = v["tenant_default_service_account"]
    for index, entry in enumerate(v["flux_patches"]):
        for flag, value in _LOCKDOWN_ARGUMENT.findall(entry):
            keeps = value == account if flag == "default-service-account" else value in _TRUE
            if not keeps:
                yield (
                    f"fluxPatches[{index}]",
                    f"sets --{flag}={value}, overriding the tenant lockdown's (multitenant: "
                    f"true); allowed: --{flag} only with the lockdown's value "
                    f"({account if flag == 'default-service-account' else 'true'}), or not at all",
                )


# Credentials by reach, widest first: the same value under two of them gives the narrower place
# (tenant namespaces, apps-update) the wider reach.
_CREDENTIALS: Final = (
    ("githubToken", "github_token"),
    ("platformToken", "platform_token"),
    ("appsPushToken", "apps_push_token"),
    ("appsToken", "apps_token"),
    ("enterpriseToken", "enterprise_token"),
)
_APP_KEYS: Final = (
    ("githubAppPrivateKey", "github_app_private_key"),
    ("githubAppsPrivateKey", "github_apps_private_key"),
)


def _secret_text(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


def _without_whitespace(text: str) -> str:
    """A PEM key without its whitespace: how a pasted copy of one key may differ (line breaks,
    indentation, a trailing newline)."""
    return "".join(text.split())


def _same_values(
    v: Values, group: tuple[tuple[str, str], ...], norm: Callable[[str], str]
) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for key, name in group:
        text = _secret_text(v.values.get(name))
        if text is None:
            continue
        wider = seen.setdefault(norm(text), key)
        if wider != key:
            yield (
                key,
                f"holds the same value as {wider}, which reaches more (each is written where "
                "its own reach is meant to stop); allowed: a credential of its own",
            )


@RULES.reads()
def _distinct_credentials(v: Values) -> Iterator[Problem]:
    yield from _same_values(v, _CREDENTIALS, str.strip)
    yield from _same_values(v, _APP_KEYS, _without_whitespace)


@RULES.reads("spokes", "cluster_name", "kube_context", "kubeconfig")
def _spokes_are_other_clusters(v: Values) -> Iterator[Problem]:
    # The hub's Flux runs with cluster-admin on its own cluster; a spoke is another cluster, and
    # two spokes on one API server would let each one's chain prune or overwrite the other's.
    hub_access = (v["kube_context"], v["kubeconfig"])
    servers: dict[tuple[str, int], str] = {}
    for spoke in (entries.split_spoke(entry) for entry in v["spokes"]):
        if spoke.name == v["cluster_name"] or (spoke.context, spoke.kubeconfig) == hub_access:
            yield (
                "spokes",
                f"spoke {spoke.name} is the hub itself (its name is clusterName, or Pulumi reaches "
                "it with the hub's kubeContext and kubeconfig); allowed: another cluster",
            )
        first = servers.setdefault(entries.api_server(spoke.server), spoke.name)
        if first != spoke.name:
            yield (
                "spokes",
                f"spoke {spoke.name} has the API server of spoke {first} ({spoke.server}); "
                "allowed: one spoke per API server",
            )
