"""Rules across config keys: combinations the cluster, Flux or the Flux Operator would refuse.

Each check declares the settings it reads and runs whenever those were valid, even when other keys
were not, so one run lists every problem. A problem names the key the user set (a value left at its
default is never blamed), and every check over a user list is linear and iterative: a stack with
thousands of tenants or a long dependency chain gets an answer, not a stall or a RecursionError.
Rules compare the settings' enums, never their string values. The table in
docs/settings-checks.md lists every rule; keep it in step.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from urllib.parse import urlsplit

from fleet.program import conventions as c
from fleet.program.config import expiry, formats
from fleet.program.config.formats import flux_minor
from fleet.program.config.keys import (
    APP_INSTALLATION_KEYS,
    APP_KEYS,
    APPS_APP_KEYS,
    APPS_TOKEN_KEYS,
    PLATFORM_TOKEN_KEYS,
    field_name,
    required_keys,
)
from fleet.program.conventions import DeletionPolicy, GitAuth
from fleet.program.github_access.plan import PushAccess

Problem = tuple[str, str]  # (camelCase key, message)
Check = Callable[["Values"], Iterable[Problem]]

# Controllers that serve the kinds a stack declares, and the Flux minor that first serves each API
# the stack uses (Flux 2.7 made the image automation API v1; GitRepository and Kustomization v1
# exist in every Flux the operator supports).
SOURCE_CONTROLLER: Final = "source-controller"
KUSTOMIZE_CONTROLLER: Final = "kustomize-controller"
IMAGE_AUTOMATION_MIN_MINOR: Final = 7
# Flux 2.9 added AWS authentication for GitRepository (FluxInstance CRD, sync.provider).
GIT_AWS_PROVIDER_MIN_MINOR: Final = 9
# Registries the Flux Operator maps to a variant itself; any other needs `fluxVariant`.
KNOWN_REGISTRIES: Final = (
    "fluxcd",
    "ghcr.io/fluxcd",
    "ghcr.io/controlplaneio-fluxcd/alpine",
    "ghcr.io/controlplaneio-fluxcd/distroless",
    "ghcr.io/controlplaneio-fluxcd/distroless-fips",
    "709825985650.dkr.ecr.us-east-1.amazonaws.com/controlplane/fluxcd",
)
# Flux 2.6 authenticates as a GitHub App on every API the stack uses (clone, push, commit status);
# Flux 2.8 finds an installation by its owner.
APP_MIN_FLUX_MINOR: Final = 6
APP_OWNER_MIN_FLUX_MINOR: Final = 8
RESERVED_NAMESPACES: Final = ("flux-system", "default")
MAX_COMPONENT_NAME: Final = 50  # "<name>-controllers" must stay a DNS-1123 label
_SHOWN_CYCLE: Final = 8


@dataclass(frozen=True)
class Values:
    """Settings that passed their own validation, by field name, defaults filled in.

    A key that was missing or invalid is absent, so checks that read it are skipped rather than
    reporting a consequence of a problem already listed. A list with some invalid entries holds
    its valid ones, so its own checks (duplicates, reserved names, cycles) still run.
    """

    values: Mapping[str, Any]
    defaults: Mapping[str, Any]
    today: date

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def has(self, *names: str) -> bool:
        return all(name in self.values for name in names)

    def changed(self, name: str) -> bool:
        """Whether the key holds something other than its default (so the user chose it)."""
        return name in self.values and self.values[name] != self.defaults.get(name)


_CHECKS: list[tuple[tuple[str, ...], Check]] = []


def _reads(*names: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        _CHECKS.append((names, check))
        return check

    return register


def run(values: Values) -> list[Problem]:
    """Every problem of every check whose inputs are valid, in check order."""
    return [problem for names, check in _CHECKS if values.has(*names) for problem in check(values)]


def duplicates(items: Iterable[str]) -> list[str]:
    """Items listed more than once, in order of first appearance."""
    counts = Counter(items)
    return [item for item, n in counts.items() if n > 1]


@_reads("kube_context", "kubeconfig")
def _cluster_access(v: Values) -> Iterator[Problem]:
    if not v["kube_context"] and not v["kubeconfig"]:
        yield (
            "kubeContext",
            "set kubeContext (or kubeconfig) so this stack can only reach its own cluster",
        )


@_reads("github_access_owner", "bot_username", "git_auth")
def _owner_needs_bot(v: Values) -> Iterator[Problem]:
    # With a GitHub App there is no bot account: the App's installation gets the repositories.
    if (
        v["github_access_owner"]
        and not v["bot_username"]
        and v["git_auth"] is not GitAuth.GITHUB_APP
    ):
        yield ("botUsername", "required when githubAccessOwner is true")


@_reads("bot_push_access", "merge_teams", "git_auth")
def _branch_protection_needs_merge_teams(v: Values) -> Iterator[Problem]:
    # App mode refuses branchProtection itself (app_refuses_branch_protection).
    if v["git_auth"] is GitAuth.GITHUB_APP:
        return
    if v["bot_push_access"] is PushAccess.BRANCH_PROTECTION and not v["merge_teams"]:
        yield (
            "mergeTeams",
            "required with botPushAccess branchProtection: only the listed teams and the bot may "
            "push (merging a pull request is a push)",
        )


@_reads("deletion_policy", "flux_version")
def _deletion_policy_needs_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if (
        v["deletion_policy"] is DeletionPolicy.WAIT_FOR_TERMINATION
        and minor is not None
        and minor < c.WAIT_FOR_TERMINATION_MIN_MINOR
    ):
        yield ("deletionPolicy", "WaitForTermination requires Flux 2.6 or later")


@_reads("receivers", "flux_components")
def _receivers_need_notification_controller(v: Values) -> Iterator[Problem]:
    if v["receivers"] and "notification-controller" not in v["flux_components"]:
        yield ("fluxComponents", "receivers need the notification-controller component")


@_reads("upsert_existing_objects", "force_field_ownership")
def _upsert_needs_force(v: Values) -> Iterator[Problem]:
    # pulumi-kubernetes upserts by server-side apply, forced in preview (no live object yet) but
    # not in `up`: fields another manager (the flux CLI, kustomize-controller) set to other values
    # conflict there (provider/pkg/await/await.go, Creation and patchForce).
    if v["upsert_existing_objects"] and not v["force_field_ownership"]:
        yield (
            "upsertExistingObjects",
            "requires forceFieldOwnership: true: without it pulumi up fails with a server-side "
            "apply conflict on every field another manager (the flux CLI, kustomize-controller) "
            "set differently, while pulumi preview passes",
        )


# Keys that are read only under another setting: set without it they do nothing, which is
# almost always a forgotten switch, so they are reported as the other credential mode's keys are.
_RECEIVER_KEYS: Final = {
    "receiver_host": "receiverHost",
    "receiver_token_length": "receiverTokenLength",
    "receiver_token_special": "receiverTokenSpecial",
    "receiver_ingress": "receiverIngress",
    "receiver_ingress_class": "receiverIngressClass",
    "receiver_tls_secret": "receiverTlsSecret",
}
_INGRESS_KEYS: Final = {
    "receiver_ingress_class": "receiverIngressClass",
    "receiver_tls_secret": "receiverTlsSecret",
}
_ENTERPRISE_KEYS: Final = {
    "enterprise_registry": "enterpriseRegistry",
    "enterprise_username": "enterpriseUsername",
}


def _inert(v: Values, keys: Mapping[str, str], reason: str) -> Iterator[Problem]:
    for name, key in keys.items():
        if v.changed(name):
            yield (key, f"has no effect {reason}, or remove the key")


@_reads("receivers", *_RECEIVER_KEYS)
def _receiver_keys_need_receivers(v: Values) -> Iterator[Problem]:
    if not v["receivers"]:
        yield from _inert(v, _RECEIVER_KEYS, "while receivers is false; set receivers: true")


@_reads("receivers", "receiver_ingress", *_INGRESS_KEYS)
def _ingress_keys_need_the_ingress(v: Values) -> Iterator[Problem]:
    if v["receivers"] and not v["receiver_ingress"]:
        yield from _inert(
            v, _INGRESS_KEYS, "while receiverIngress is false (no Ingress is declared); set it"
        )


@_reads("sync_kind", "sync_interval")
def _sync_interval_needs_sync(v: Values) -> Iterator[Problem]:
    if v["sync_kind"] is None and v["sync_interval"] is not None:
        yield (
            "syncInterval",
            "has no effect without syncKind (the FluxInstance does not sync); set the sync "
            "keys, or remove the key",
        )


@_reads("bot_push_access", "bot_push_branch")
def _push_branch_needs_push_access(v: Values) -> Iterator[Problem]:
    if v["bot_push_access"] is PushAccess.NONE and v.changed("bot_push_branch"):
        yield (
            "botPushBranch",
            "has no effect while botPushAccess is none (no branch rule is declared); set "
            "botPushAccess, or remove the key",
        )


@_reads("enterprise_token", *_ENTERPRISE_KEYS)
def _enterprise_keys_need_the_token(v: Values) -> Iterator[Problem]:
    if v["enterprise_token"] is None:
        yield from _inert(
            v,
            _ENTERPRISE_KEYS,
            "without enterpriseToken (no registry login is declared); set the token "
            "(FLEET_ENTERPRISE_TOKEN)",
        )


_AUTOMATION_KEYS: Final = {
    "automation_author_name": "automationAuthorName",
    "automation_author_email": "automationAuthorEmail",
}


@_reads("image_automation", *_AUTOMATION_KEYS)
def _automation_keys_need_image_automation(v: Values) -> Iterator[Problem]:
    if not v["image_automation"]:
        yield from _inert(
            v, _AUTOMATION_KEYS, "while imageAutomation is false; set imageAutomation: true"
        )


@_reads("receivers", "receiver_host", "cluster_domain", "kubernetes_dns_domain")
def _receiver_host_reachable(v: Values) -> Iterator[Problem]:
    # GitHub resolves the host on the internet: a name in the cluster's own DNS domain (or a
    # Service name, *.svc) resolves only inside the cluster, so no webhook would ever arrive.
    if not v["receivers"]:
        return
    key = "receiverHost" if v["receiver_host"] else "clusterDomain"
    host = str(v["receiver_host"] or f"{c.RECEIVER_HOST_PREFIX}.{v['cluster_domain']}").lower()
    domain = str(v["kubernetes_dns_domain"]).lower()
    if host == domain or host.endswith((f".{domain}", ".svc")):
        yield (
            key,
            f"{host!r} is a name inside the cluster (kubernetesDnsDomain {domain!r}, or a "
            "Service's .svc name), which GitHub cannot reach; allowed: a public DNS name "
            "that routes to the receiver's Ingress or load balancer",
        )


@_reads("enterprise_token", "enterprise_token_expires")
def _enterprise_pair(v: Values) -> Iterator[Problem]:
    if (v["enterprise_token"] is None) != (v["enterprise_token_expires"] is None):
        yield ("enterpriseTokenExpires", "enterpriseToken and its expiry date go together")


@_reads("apps_push_token", "apps_push_token_expires", "image_automation")
def _apps_push_token(v: Values) -> Iterator[Problem]:
    if (v["apps_push_token"] is None) != (v["apps_push_token_expires"] is None):
        yield ("appsPushTokenExpires", "appsPushToken and its expiry date go together")
    if v["apps_push_token"] is not None and not v["image_automation"]:
        yield (
            "appsPushToken",
            "only read with imageAutomation: true (it is image automation's push credential); "
            "unset it",
        )
    if v["apps_push_token"] is None and v["image_automation"]:
        yield (
            "appsPushToken",
            "required with imageAutomation: true: image automation pushes with it from "
            "apps-update alone, so the credential every tenant namespace holds stays read-only; "
            "allowed: a fine-grained token with Contents write on the applications repository "
            "alone (FLEET_APPS_PUSH_TOKEN, or fleet init), and appsPushTokenExpires",
        )


@_reads()
def _expired_tokens(v: Values) -> Iterator[Problem]:
    dates = {
        name: v.values.get(f"{field_name(name)}_token_expires")
        for name in ("platform", "apps", "enterprise", "appsPush")
    }
    report = expiry.report(dates, warning_days=0, today=v.today)
    for problem in report.expired:
        key, _, message = problem.partition(": ")
        yield (key, message)


@_reads("git_auth")
def _credentials_for_mode(v: Values) -> Iterator[Problem]:
    # A key that is absent from the values was invalid and is reported already; None is unset.
    mode = v["git_auth"]
    for key in required_keys(mode):
        if field_name(key) in v.values and v[field_name(key)] is None:
            yield (
                key,
                "missing required key"
                + (f" with gitAuth {mode}" if mode is GitAuth.GITHUB_APP else ""),
            )
    # App mode keeps appsToken as one way to read the applications repository (`_apps_credential`).
    other = (
        PLATFORM_TOKEN_KEYS
        if mode is GitAuth.GITHUB_APP
        else (*APP_KEYS, *APP_INSTALLATION_KEYS, *APPS_APP_KEYS)
    )
    for key in other:
        if v.values.get(field_name(key)) is not None:
            yield (key, f"not allowed with gitAuth {mode}; unset it (token and App keys never mix)")


_APPS_CREDENTIAL_KEYS: Final = (*APPS_APP_KEYS, *APPS_TOKEN_KEYS)


@_reads("git_auth", "apps_repository", *(field_name(key) for key in _APPS_CREDENTIAL_KEYS))
def _apps_credential(v: Values) -> Iterator[Problem]:
    # Tenant namespaces hold a copy of the applications repository's credential, and their
    # administrators (ClusterRole admin) read Secrets: in App mode it cannot be the App whose key
    # mints tokens for the platform repository and bypasses its rules.
    if v["git_auth"] is not GitAuth.GITHUB_APP:
        return
    app = [key for key in APPS_APP_KEYS if v[field_name(key)] is not None]
    token = [key for key in APPS_TOKEN_KEYS if v[field_name(key)] is not None]
    repo = v["apps_repository"]
    if not app and not token:
        yield (
            "githubAppsAppId",
            "missing with gitAuth githubApp: tenant namespaces need a credential that reaches "
            f"{repo} only, and the GitHub App's key never leaves flux-system; allowed: a second "
            f"GitHub App installed on {repo} alone (githubAppsAppId, githubAppsInstallationId, "
            "githubAppsPrivateKey, githubAppsKeyCreated), or a fine-grained token for "
            f"{repo} (appsToken, appsTokenExpires)",
        )
        return
    if app and token:
        yield (
            "appsToken",
            "set either the second App (githubApps*) or appsToken for the applications "
            "repository, not both",
        )
        return
    given, group = (app, APPS_APP_KEYS) if app else (token, APPS_TOKEN_KEYS)
    for key in group:
        if key not in given:
            yield (key, f"missing required key with {given[0]} (gitAuth githubApp)")


@_reads("git_auth", "github_app_id", "github_apps_app_id")
def _apps_app_is_another_app(v: Values) -> Iterator[Problem]:
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and v["github_apps_app_id"] is not None
        and v["github_apps_app_id"] == v["github_app_id"]
    ):
        yield (
            "githubAppsAppId",
            "is githubAppId: the applications repository's App must be a second App, installed "
            "on that repository alone, so the first App's key never reaches tenant namespaces",
        )


@_reads("git_auth", "github_apps_key_created")
def _apps_key_created(v: Values) -> Iterator[Problem]:
    created = v["github_apps_key_created"]
    if v["git_auth"] is GitAuth.GITHUB_APP and created is not None and created > v.today:
        yield (
            "githubAppsKeyCreated",
            f"{created.isoformat()} is in the future; allowed: the date the key was generated "
            "on (YYYY-MM-DD), today or earlier",
        )


@_reads("git_auth", "github_app_installation_id", "github_app_installation_owner")
def _one_installation(v: Values) -> Iterator[Problem]:
    given = [key for key in APP_INSTALLATION_KEYS if v[field_name(key)] is not None]
    if v["git_auth"] is GitAuth.GITHUB_APP and len(given) != 1:
        yield (
            "githubAppInstallationId",
            "set exactly one of githubAppInstallationId or githubAppInstallationOwner"
            + (" (both are set)" if given else ""),
        )


@_reads("git_auth", "flux_version")
def _app_needs_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if v["git_auth"] is GitAuth.GITHUB_APP and minor is not None and minor < APP_MIN_FLUX_MINOR:
        yield (
            "fluxVersion",
            f"{v['flux_version']!r} is too old for gitAuth githubApp, which needs Flux "
            f"2.{APP_MIN_FLUX_MINOR} or later (App auth on every Flux API); allowed: fluxVersion "
            f"2.{APP_MIN_FLUX_MINOR}.x or later, or gitAuth token",
        )


@_reads("git_auth", "github_app_installation_owner", "flux_version")
def _installation_owner_needs_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and v["github_app_installation_owner"] is not None
        and minor is not None
        and minor < APP_OWNER_MIN_FLUX_MINOR
    ):
        yield (
            "githubAppInstallationOwner",
            f"needs Flux 2.{APP_OWNER_MIN_FLUX_MINOR} or later, but fluxVersion is "
            f"{v['flux_version']!r}; set githubAppInstallationId instead",
        )


@_reads("git_auth", "github_app_installation_owner", "github_owner")
def _installation_owner_owns_the_repositories(v: Values) -> Iterator[Problem]:
    # Flux looks the installation up by this account and reads githubOwner's repositories with
    # it: another account's installation cannot reach them. GitHub logins ignore case.
    owner = v["github_app_installation_owner"]
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and owner is not None
        and owner.lower() != v["github_owner"].lower()
    ):
        yield (
            "githubAppInstallationOwner",
            f"{owner!r} is not githubOwner {v['github_owner']!r}, the account that owns the "
            "repositories Flux reads; allowed: githubOwner's login, where the App is installed",
        )


@_reads("git_auth", "github_access_owner", "github_app_installation_owner")
def _owner_stack_needs_installation_id(v: Values) -> Iterator[Problem]:
    if (
        v["git_auth"] is GitAuth.GITHUB_APP
        and v["github_access_owner"]
        and v["github_app_installation_owner"] is not None
    ):
        yield (
            "githubAppInstallationOwner",
            "the githubAccessOwner stack grants the installation its repositories by id; "
            "set githubAppInstallationId instead",
        )


@_reads("git_auth", "bot_push_access")
def _app_refuses_branch_protection(v: Values) -> Iterator[Problem]:
    if v["git_auth"] is GitAuth.GITHUB_APP and v["bot_push_access"] is PushAccess.BRANCH_PROTECTION:
        yield (
            "botPushAccess",
            "branchProtection names a team; with gitAuth githubApp use rulesetBypass or none",
        )


@_reads("git_auth", "sync_kind", "sync_provider", "sync_pull_secret")
def _app_sync(v: Values) -> Iterator[Problem]:
    if v["git_auth"] is not GitAuth.GITHUB_APP or v["sync_kind"] != "GitRepository":
        return
    if v["sync_provider"] not in (None, "github"):
        yield ("syncProvider", "with gitAuth githubApp a GitRepository sync uses provider github")
    if v["sync_pull_secret"] is None:
        yield (
            "syncPullSecret",
            "required with gitAuth githubApp: the secret holding the App's data, e.g. flux-system",
        )


@_reads("git_auth", "sync_kind", "sync_url")
def _app_sync_url(v: Values) -> Iterator[Problem]:
    url = v["sync_url"]
    if v["git_auth"] is not GitAuth.GITHUB_APP or v["sync_kind"] != "GitRepository" or not url:
        return
    if urlsplit(url).scheme != "https":
        yield (
            "syncUrl",
            f"{url!r}: with gitAuth githubApp Flux authenticates over HTTPS with an installation "
            "token; allowed: an https:// URL such as https://github.com/org/fleet.git",
        )


# Secrets the stack writes itself: tokens in token mode, a registry login.
_STACK_SECRETS: Final = (c.PLATFORM_SECRET, c.APPS_SECRET, c.ENTERPRISE_SECRET)


@_reads("git_auth", "sync_kind", "sync_provider", "sync_pull_secret")
def _token_sync_provider(v: Values) -> Iterator[Problem]:
    # source-controller reads App data from the pull secret when the provider is github and
    # fails without it; in token mode the stack's own secrets hold tokens.
    if v["git_auth"] is GitAuth.GITHUB_APP or v["sync_kind"] != "GitRepository":
        return
    if v["sync_provider"] == "github" and v["sync_pull_secret"] in (None, *_STACK_SECRETS):
        yield (
            "syncProvider",
            "github needs a syncPullSecret holding GitHub App data, and with gitAuth token "
            f"{', '.join(_STACK_SECRETS)} hold tokens; allowed: no syncProvider (or generic), "
            "a syncPullSecret created with the App's data, or gitAuth githubApp",
        )


@_reads("git_auth", "github_app_key_max_age_days")
def _app_key_age_needs_app(v: Values) -> Iterator[Problem]:
    # Pulumi.yaml declares the default, so only a value other than it shows the user chose one.
    if v["git_auth"] is not GitAuth.GITHUB_APP and v.changed("github_app_key_max_age_days"):
        yield (
            "githubAppKeyMaxAgeDays",
            "only read with gitAuth githubApp; unset it (token and App keys never mix)",
        )


@_reads("git_auth", "github_access_owner", "bot_username", "merge_teams")
def _app_has_no_bot(v: Values) -> Iterator[Problem]:
    if v["git_auth"] is not GitAuth.GITHUB_APP:
        return
    if v["merge_teams"]:
        yield (
            "mergeTeams",
            "not allowed with gitAuth githubApp: it only joins branchProtection's push "
            "allowances, which App mode refuses; unset it",
        )
    # The githubAccessOwner stack keeps the bot team while other stacks use tokens (checked
    # against the fleet's stack files); any other App-mode stack has no bot account.
    if v["bot_username"] is not None and not v["github_access_owner"]:
        yield (
            "botUsername",
            "not allowed with gitAuth githubApp: only the githubAccessOwner stack declares the "
            "bot team; unset it",
        )


@_reads("git_auth", "github_app_key_created")
def _app_key_created(v: Values) -> Iterator[Problem]:
    created = v["github_app_key_created"]
    if v["git_auth"] is GitAuth.GITHUB_APP and created is not None:
        for problem in expiry.KeyAge.of(created, 1, v.today).problems:
            key, _, message = problem.partition(": ")
            yield (key, message)


@_reads("flux_version", "flux_components", "image_automation")
def _components_need_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if minor is None:
        return
    if "source-watcher" in v["flux_components"] and minor < c.SOURCE_WATCHER_MIN_MINOR:
        # Blame what the user chose: the version when the component list is the default one.
        key = "fluxComponents" if v.changed("flux_components") else "fluxVersion"
        yield (
            key,
            f"fluxVersion {v['flux_version']!r} is too old for source-watcher (in fluxComponents"
            f"{'' if v.changed('flux_components') else ' by default'}), which needs Flux "
            f"2.{c.SOURCE_WATCHER_MIN_MINOR} or later; allowed: fluxVersion "
            f"2.{c.SOURCE_WATCHER_MIN_MINOR}.x or later, or fluxComponents without source-watcher",
        )
    if v["image_automation"] and minor < IMAGE_AUTOMATION_MIN_MINOR:
        yield (
            "imageAutomation",
            f"true needs Flux 2.{IMAGE_AUTOMATION_MIN_MINOR} or later (ImageUpdateAutomation "
            f"{c.IMAGE_AUTOMATION_API}), but fluxVersion is {v['flux_version']!r}; allowed: "
            f"fluxVersion 2.{IMAGE_AUTOMATION_MIN_MINOR}.x or later, or imageAutomation false",
        )


@_reads("flux_components", "tenants", "platform_components", "image_automation", "sync_kind")
def _kinds_need_controllers(v: Values) -> Iterator[Problem]:
    components = set(v["flux_components"])
    # GitRepository flux-infra is always declared; Kustomizations come with components, tenants,
    # image automation and a FluxInstance sync.
    needs = {SOURCE_CONTROLLER: "GitRepository flux-infra"}
    kustomizations = [
        what
        for what, present in (
            ("platformComponents", bool(v["platform_components"])),
            ("tenants", bool(v["tenants"])),
            ("imageAutomation", v["image_automation"]),
            ("syncKind", v["sync_kind"] is not None),
        )
        if present
    ]
    if kustomizations:
        needs[KUSTOMIZE_CONTROLLER] = "the Kustomizations of " + ", ".join(kustomizations)
    for controller, reason in needs.items():
        if controller not in components:
            yield (
                "fluxComponents",
                f"{controller} is missing; the stack declares {reason}, which {controller} "
                f"serves; allowed: a list that includes {controller}",
            )


@_reads("flux_components")
def _unique_components(v: Values) -> Iterator[Problem]:
    for name in duplicates(v["flux_components"]):
        yield ("fluxComponents", f"component {name!r} is listed more than once")


@_reads("runtime_info")
def _unique_runtime_keys(v: Values) -> Iterator[Problem]:
    for key in duplicates(entry.partition("=")[0] for entry in v["runtime_info"]):
        yield ("runtimeInfo", f"key {key!r} is set more than once; allowed: each key once")


@_reads("flux_registry", "flux_variant")
def _registry_needs_variant(v: Values) -> Iterator[Problem]:
    registry = v["flux_registry"].rstrip("/")
    if v["flux_variant"] is None and registry not in KNOWN_REGISTRIES:
        yield (
            "fluxRegistry",
            f"{registry!r} is not a registry the Flux Operator knows the variant of; allowed: "
            f"{', '.join(KNOWN_REGISTRIES)}, or any registry together with fluxVariant",
        )


_SYNC_KEYS: Final = {
    "sync_kind": "syncKind",
    "sync_url": "syncUrl",
    "sync_ref": "syncRef",
    "sync_path": "syncPath",
}


@_reads(*_SYNC_KEYS, "sync_provider", "sync_pull_secret")
def _sync_complete(v: Values) -> Iterator[Problem]:
    given = [v[name] for name in (*_SYNC_KEYS, "sync_provider", "sync_pull_secret")]
    if any(value is not None for value in given):
        for name, key in _SYNC_KEYS.items():
            if not v[name]:
                yield (key, "required when the FluxInstance syncs")


@_reads("sync_kind", "sync_provider", "flux_version")
def _sync_provider(v: Values) -> Iterator[Problem]:
    kind, provider = v["sync_kind"], v["sync_provider"]
    if provider == "github" and kind not in (None, "GitRepository"):
        yield ("syncProvider", "sync.provider 'github' is only supported for GitRepository")
    if provider == "gcp" and kind == "GitRepository":
        yield ("syncProvider", "sync.provider 'gcp' is only supported for OCIRepository and Bucket")
    minor = flux_minor(v["flux_version"])
    if (
        provider == "aws"
        and kind == "GitRepository"
        and minor is not None
        and minor < GIT_AWS_PROVIDER_MIN_MINOR
    ):
        yield (
            "syncProvider",
            f"'aws' for a GitRepository needs Flux 2.{GIT_AWS_PROVIDER_MIN_MINOR} or later, but "
            f"fluxVersion is {v['flux_version']!r}; allowed: generic, azure or github",
        )


@_reads("sync_kind", "sync_url", "sync_provider")
def _sync_url(v: Values) -> Iterator[Problem]:
    kind, url = v["sync_kind"], v["sync_url"]
    if not kind or not url:
        return
    fits, allowed = _sync_url_fits(kind, url, v["sync_provider"])
    if not fits:
        yield ("syncUrl", f"{url!r} does not fit syncKind {kind}; allowed: {allowed}")


def _sync_url_fits(kind: str, url: str, provider: str | None) -> tuple[bool, str]:
    """Whether a sync URL fits its source kind (and provider), and what would."""
    parts = urlsplit(url)
    if kind == "GitRepository":
        return parts.scheme in ("http", "https", "ssh") and bool(parts.netloc), (
            "an http://, https:// or ssh:// Git URL such as https://github.com/org/repo.git or "
            "ssh://git@github.com/org/repo.git (the GitRepository API refuses scp-like "
            "git@host:path)"
        )
    if kind == "OCIRepository":
        return url.startswith("oci://") and formats.oci_repository_ok(url.removeprefix("oci://")), (
            "oci:// and a repository such as oci://ghcr.io/org/fleet, without a tag "
            "(the tag goes in syncRef)"
        )
    if provider == "azure":
        return parts.scheme == "https" and bool(parts.netloc), (
            "the https:// URL of the Azure storage account, "
            "e.g. https://account.blob.core.windows.net"
        )
    return formats.registry_host_ok(url), (
        "a bucket endpoint host with an optional port and no scheme, "
        "e.g. s3.amazonaws.com or minio.example.com:9000"
    )


@_reads("sync_kind", "sync_ref")
def _sync_ref(v: Values) -> Iterator[Problem]:
    kind, ref = v["sync_kind"], v["sync_ref"]
    if not kind or not ref:
        return
    if kind == "GitRepository":
        if not ref.startswith("refs/") or not formats.git_ref_ok(ref):
            yield (
                "syncRef",
                f"{ref!r} is not a full Git ref; allowed: refs/heads/<branch>, refs/tags/<tag> "
                "or another full ref (the operator passes it to GitRepository spec.ref.name)",
            )
    elif kind == "OCIRepository":
        if not formats.oci_tag_ok(ref):
            yield (
                "syncRef",
                f"{ref!r} is not an OCI tag; allowed: letters, digits, '_', '.' and '-', at most "
                "128 characters, not starting with '.' or '-', e.g. latest or v1.2.3",
            )
    elif not formats.bucket_ok(ref):
        yield (
            "syncRef",
            f"{ref!r} is not a bucket name; allowed: 3 to 63 lowercase letters, digits, '.', '_' "
            "and '-', starting and ending with a letter or digit",
        )


@_reads("sync_path")
def _sync_path(v: Values) -> Iterator[Problem]:
    path = v["sync_path"]
    if path and ".." in path.split("/"):
        yield (
            "syncPath",
            f"{path!r} leaves the source; allowed: a path inside it, e.g. clusters/staging",
        )


@_reads("tenants", "image_automation")
def _tenants(v: Values) -> Iterator[Problem]:
    tenants = v["tenants"]
    for name in duplicates(tenants):
        yield ("tenants", f"tenant {name!r} is listed more than once")
    for name in tenants:
        if name in RESERVED_NAMESPACES or name.startswith("kube-"):
            yield (
                "tenants",
                f"tenant {name!r} is a reserved namespace "
                "(flux-system, default and kube-* are not allowed)",
            )
    if v["image_automation"] and c.APPS_UPDATE_NAMESPACE in set(tenants):
        yield (
            "tenants",
            f"tenant {c.APPS_UPDATE_NAMESPACE!r} is the image automation namespace",
        )


@_reads("platform_components")
def _platform_components(v: Values) -> Iterator[Problem]:
    entries: tuple[str, ...] = v["platform_components"]
    parsed = [formats.split_component(entry) for entry in entries]
    names = {name for name, _ in parsed}
    # The well-formed entries' dependencies (a component listed twice keeps both lists), searched
    # for a cycle whatever else is wrong, so a first run shows the cycle too.
    graph: dict[str, tuple[str, ...]] = {}
    for (name, deps), entry in zip(parsed, entries, strict=True):
        if not all(formats.dns_label_ok(n, MAX_COMPONENT_NAME) for n in (name, *deps)):
            yield (
                "platformComponents",
                f"{entry!r}: allowed: 'name' or 'name: dependency, ...' with DNS-1123 label "
                f"names of at most {MAX_COMPONENT_NAME} characters",
            )
            continue
        graph[name] = (*graph.get(name, ()), *deps)
        for dep in deps:
            if dep not in names:
                yield (
                    "platformComponents",
                    f"component {name!r} depends on {dep!r}, which is not a configured component",
                )
    for name in duplicates(name for name, _ in parsed):
        yield ("platformComponents", f"component {name!r} is listed more than once")
    cycle = find_cycle(graph)
    if cycle:
        yield ("platformComponents", "dependency cycle: " + _show_cycle(cycle))


def find_cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A dependency cycle as a path of names (first == last), or None.

    Iterative depth-first search: linear in nodes and edges, and no recursion limit to hit on a
    long chain.
    """
    done: set[str] = set()
    for root in graph:
        if root in done:
            continue
        path = [root]
        on_path = {root: 0}
        pending = [iter(graph.get(root, ()))]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                node = path.pop()
                del on_path[node]
                done.add(node)
                pending.pop()
            elif dep in on_path:
                return [*path[on_path[dep] :], dep]
            elif dep not in done:
                on_path[dep] = len(path)
                path.append(dep)
                pending.append(iter(graph.get(dep, ())))
    return None


def _show_cycle(cycle: list[str]) -> str:
    if len(cycle) <= _SHOWN_CYCLE:
        return " -> ".join(cycle)
    head = " -> ".join(cycle[: _SHOWN_CYCLE // 2])
    tail = " -> ".join(cycle[-2:])
    return f"{head} -> ... -> {tail} ({len(cycle) - 1} components)"


# Hub mode (`spokes`).
HELM_CONTROLLER: Final = "helm-controller"


@_reads("spokes", "tenants", "image_automation")
def _spokes(v: Values) -> Iterator[Problem]:
    names = [formats.split_spoke(entry).name for entry in v["spokes"]]
    for name in duplicates(names):
        yield ("spokes", f"spoke {name!r} is listed more than once; allowed: each spoke once")
    # Each spoke gets a hub namespace of its name, beside the tenants'.
    taken = {*v["tenants"], *([c.APPS_UPDATE_NAMESPACE] if v["image_automation"] else [])}
    for name in dict.fromkeys(names):
        if name in RESERVED_NAMESPACES or name.startswith("kube-") or name in taken:
            yield (
                "spokes",
                f"spoke {name!r} names a namespace the hub already uses (flux-system, default, "
                "kube-*, a tenant, apps-update); allowed: another DNS-1123 label",
            )


@_reads("spokes", "spoke_token_max_age_days")
def _spoke_tokens(v: Values) -> Iterator[Problem]:
    for spoke in (formats.split_spoke(entry) for entry in v["spokes"]):
        due = spoke.token_due(v["spoke_token_max_age_days"])
        if spoke.rotated > v.today:
            yield (
                "spokes",
                f"spoke {spoke.name}: rotated {spoke.rotated.isoformat()} is in the future; "
                "allowed: the date the token was last renewed (today when renewing it)",
            )
        elif due < v.today:
            yield (
                "spokes",
                f"spoke {spoke.name}: its token was due for renewal on {due.isoformat()} "
                f"(spokeTokenMaxAgeDays {v['spoke_token_max_age_days']}); renew it: set "
                f"rotated={v.today.isoformat()} in its entry and run pulumi up",
            )


@_reads("spokes", "flux_components")
def _spokes_need_controllers(v: Values) -> Iterator[Problem]:
    if not v["spokes"]:
        return
    # The chain is Kustomizations from a GitRepository, and HelmReleases installed on the spokes.
    for controller in (SOURCE_CONTROLLER, KUSTOMIZE_CONTROLLER, HELM_CONTROLLER):
        if controller not in set(v["flux_components"]):
            yield (
                "fluxComponents",
                f"{controller} is missing; the spokes' chain needs it; allowed: a list that "
                f"includes {controller}",
            )


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


@_reads("multitenant", "network_policy", "flux_patches", "tenant_default_service_account")
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


def _pem_body(text: str) -> str:
    """A PEM key's base64 body, without armour or whitespace (how a pasted copy may differ)."""
    return "".join(line for line in text.split() if not line.startswith("-----") and line)


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


@_reads()
def _distinct_credentials(v: Values) -> Iterator[Problem]:
    yield from _same_values(v, _CREDENTIALS, str.strip)
    yield from _same_values(v, _APP_KEYS, _pem_body)


def _api_server(server: str) -> tuple[str, int]:
    parts = urlsplit(server)
    return ((parts.hostname or "").lower(), parts.port or 443)


@_reads("spokes", "cluster_name", "kube_context", "kubeconfig")
def _spokes_are_other_clusters(v: Values) -> Iterator[Problem]:
    # The hub's Flux runs with cluster-admin on its own cluster; a spoke is another cluster, and
    # two spokes on one API server would let each one's chain prune or overwrite the other's.
    hub_access = (v["kube_context"], v["kubeconfig"])
    servers: dict[tuple[str, int], str] = {}
    for spoke in (formats.split_spoke(entry) for entry in v["spokes"]):
        if spoke.name == v["cluster_name"] or (spoke.context, spoke.kubeconfig) == hub_access:
            yield (
                "spokes",
                f"spoke {spoke.name} is the hub itself (its name is clusterName, or Pulumi reaches "
                "it with the hub's kubeContext and kubeconfig); allowed: another cluster",
            )
        first = servers.setdefault(_api_server(spoke.server), spoke.name)
        if first != spoke.name:
            yield (
                "spokes",
                f"spoke {spoke.name} has the API server of spoke {first} ({spoke.server}); "
                "allowed: one spoke per API server",
            )
