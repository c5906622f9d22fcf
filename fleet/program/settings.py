"""Typed, validated settings of one cluster stack.

Every config key the program reads is a field here. Config is read once, validated once and turned
into a frozen `Settings` before any resource is registered, so a bad value fails `pulumi preview`
with one message listing every problem instead of a half-registered stack.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
)
from pydantic.alias_generators import to_camel

from fleet.program import checks, fleet_auth, receiver_plan
from fleet.program import conventions as c

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_EXACT_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_FLUX_VERSION = re.compile(r"^(?P<major>\d+)\.(?:(?P<minor>\d+)\.(?:x|\d+)|x)$")
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_TEAM_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_FINE_GRAINED_PAT = re.compile(r"^github_pat_[A-Za-z0-9_]{20,255}$")
_PAT = re.compile(r"^(github_pat_[A-Za-z0-9_]{20,255}|ghp_[A-Za-z0-9]{36,255})$")
_API_TOKEN = re.compile(r"^(github_pat_[A-Za-z0-9_]{20,255}|gh[pousr]_[A-Za-z0-9]{36,255})$")
_OTHER_GITHUB_TOKEN = re.compile(r"^gh[pousr]_")
_ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NO_SPACE = re.compile(r"^\S+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# A PEM private key as GitHub downloads it (PKCS#1) or re-encoded as PKCS#8; never echoed.
_PEM_PRIVATE_KEY = re.compile(
    r"^\s*-----BEGIN (?P<kind>RSA PRIVATE KEY|PRIVATE KEY)-----\r?\n"
    r"(?:[A-Za-z0-9+/=]+\r?\n)+"
    r"-----END (?P=kind)-----\s*$"
)


class ConfigError(Exception):
    """Invalid stack configuration: every problem, each naming its key, bad value and what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


class Environment(StrEnum):
    STAGING = "staging"
    PRODUCTION = "production"


class GitAuth(StrEnum):
    """How Flux authenticates to GitHub: the bot's fine-grained tokens, or a GitHub App."""

    TOKEN = "token"
    GITHUB_APP = "githubApp"


class DeletionPolicy(StrEnum):
    """What kustomize-controller does with what a Kustomization applied when the Kustomization goes.

    `auto` resolves per environment (`Settings.kustomization_deletion_policy`); the others are
    Flux's own `spec.deletionPolicy` values.
    """

    AUTO = "auto"
    ORPHAN = "Orphan"
    DELETE = "Delete"
    WAIT_FOR_TERMINATION = "WaitForTermination"
    MIRROR_PRUNE = "MirrorPrune"


class PushAccess(StrEnum):
    """How the bot gets the right to push to the branch image automation writes to."""

    NONE = "none"
    BRANCH_PROTECTION = "branchProtection"
    RULESET_BYPASS = "rulesetBypass"


def _check(pattern: re.Pattern[str], allowed: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"allowed: {allowed}")
        return value

    return validate


def _secret_check(pattern: re.Pattern[str], allowed: str) -> Callable[[SecretStr], SecretStr]:
    def validate(value: SecretStr) -> SecretStr:
        if not pattern.match(value.get_secret_value()):
            raise ValueError(f"allowed: {allowed}")
        return value

    return validate


def _strip_token(value: Any) -> Any:
    """Surrounding whitespace and newlines (`echo token |`, a pasted line) are not part of a token.

    No GitHub token contains whitespace, so removing it never changes a valid token; whitespace
    inside a value is refused by the format check.
    """
    return value.strip() if isinstance(value, str) else value


def _fine_grained(value: SecretStr) -> SecretStr:
    token = value.get_secret_value()
    if token.startswith("ghp_"):
        raise ValueError(
            "a classic personal access token (ghp_...) is not accepted: it reaches every "
            "repository the bot account can, and the apps token is copied into every tenant "
            "namespace; allowed: a fine-grained token (github_pat_...) limited to the fleet "
            "repositories (see Tokens in the README)"
        )
    if _OTHER_GITHUB_TOKEN.match(token):
        raise ValueError(
            "an OAuth, app or server token is not accepted (it expires within hours or is tied "
            "to an app); allowed: a fine-grained personal access token (github_pat_...)"
        )
    if not _FINE_GRAINED_PAT.match(token):
        raise ValueError("allowed: a fine-grained personal access token (github_pat_...)")
    return value


def _label(value: str) -> str:
    if len(value) > 63 or not _DNS1123_LABEL.match(value):
        raise ValueError(
            "allowed: a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return value


def _subdomain(value: str) -> str:
    if len(value) > 253 or not _DNS1123_SUBDOMAIN.match(value):
        raise ValueError("allowed: a DNS-1123 subdomain (lowercase, dot-separated DNS labels)")
    return value


def _flux_version(value: str) -> str:
    match = _FLUX_VERSION.match(value)
    if not match:
        raise ValueError(
            "allowed: an exact Flux version or a patch/minor range such as 2.7.x, 2.7.3 or 2.x "
            "('latest' and comparison ranges are not accepted)"
        )
    minor = match.group("minor")
    if match.group("major") != "2" or (
        minor is not None and int(minor) not in c.SUPPORTED_FLUX_MINORS
    ):
        supported = ", ".join(f"2.{m}.x" for m in c.SUPPORTED_FLUX_MINORS)
        raise ValueError(f"unsupported Flux version; allowed: {supported} (or 2.x)")
    return value


def _branch(value: str) -> str:
    if value.startswith("refs/"):
        raise ValueError(
            "allowed: a branch name such as main, not a full ref (Flux's ref.branch and "
            "push.branch take the short name)"
        )
    if not checks.git_ref_ok(value):
        raise ValueError(
            "allowed: a valid Git branch name (no spaces, '..', '~', '^', ':', '?', '*', '[', "
            "'\\', no leading or trailing '/', not ending in '.' or '.lock')"
        )
    return value


def _repository(value: str) -> str:
    if "/" in value or "://" in value or value.startswith("git@"):
        raise ValueError(
            "allowed: a repository name such as d1-infra, not a URL or owner/name "
            "(the owner is githubOwner)"
        )
    if value.lower().endswith(".git"):
        raise ValueError(
            f"allowed: the repository name without '.git' ({value[:-4]!r}); the program adds it"
        )
    if value in (".", "..") or not _GITHUB_REPO.match(value):
        raise ValueError(
            "allowed: a GitHub repository name (letters, digits, '.', '_' and '-', "
            "at most 100 characters)"
        )
    return value


def _registry(value: str) -> str:
    if "://" in value:
        raise ValueError(
            "allowed: a registry host and optional path without a scheme, e.g. ghcr.io/fluxcd"
        )
    host, _, path = value.rstrip("/").partition("/")
    if not checks.registry_host_ok(host) or not checks.registry_path_ok(path):
        raise ValueError(
            "allowed: a registry host (optional :port) and an optional lowercase path, "
            "e.g. ghcr.io/fluxcd"
        )
    return value


def _oci_artifact(value: str) -> str:
    if not value.startswith("oci://") or not checks.oci_reference_ok(value.removeprefix("oci://")):
        raise ValueError(
            "allowed: an oci:// artifact reference such as "
            "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:latest"
        )
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            if not _ISO_DATE.match(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("allowed: a date as YYYY-MM-DD, e.g. 2027-06-30") from None
    if isinstance(value, date):
        return value
    raise ValueError("allowed: a date as YYYY-MM-DD, e.g. 2027-06-30")


def _runtime_entry(value: str) -> str:
    key, sep, _ = value.partition("=")
    if not sep or not _ENV_KEY.match(key):
        raise ValueError("allowed: KEY=value with KEY in upper case letters, digits and '_'")
    if key in _RUNTIME_KEYS:
        raise ValueError(f"{key} is set from its own config key and cannot be overridden")
    return value


_RUNTIME_KEYS = ("ENVIRONMENT", "GIT_BRANCH", "CLUSTER_NAME", "CLUSTER_DOMAIN")

Label = Annotated[str, AfterValidator(_label)]
Subdomain = Annotated[str, AfterValidator(_subdomain)]
ChartVersion = Annotated[
    str,
    AfterValidator(
        _check(
            _EXACT_SEMVER,
            "an exact chart version such as 0.58.1 (no 'latest', no ranges)",
        )
    ),
]
FluxVersion = Annotated[str, AfterValidator(_flux_version)]
GitHubLogin = Annotated[
    str, AfterValidator(_check(_GITHUB_LOGIN, "a GitHub user or organisation login"))
]
GitHubRepo = Annotated[str, AfterValidator(_repository)]
GitRef = Annotated[str, AfterValidator(_branch)]
GitHubTeamSlug = Annotated[
    str, AfterValidator(_check(_TEAM_SLUG, "a GitHub team slug (lowercase letters, digits, '-')"))
]
Duration = Annotated[str, AfterValidator(_check(_DURATION, "a Go duration such as 1m or 1h30m"))]
ExpiryDate = Annotated[date, BeforeValidator(_iso_date)]
Registry = Annotated[str, AfterValidator(_registry)]
OciArtifact = Annotated[str, AfterValidator(_oci_artifact)]
RegistryUser = Annotated[
    str, AfterValidator(_check(_NO_SPACE, "a registry username, without spaces or line breaks"))
]
Email = Annotated[str, AfterValidator(_check(_EMAIL, "an email address such as bot@example.com"))]
# Fine-grained PATs only: Flux's Git secrets and the tenant copies of the apps token.
Pat = Annotated[SecretStr, BeforeValidator(_strip_token), AfterValidator(_fine_grained)]
RegistryToken = Annotated[
    SecretStr,
    BeforeValidator(_strip_token),
    AfterValidator(
        _secret_check(_PAT, "a GitHub personal access token (github_pat_... or ghp_...)")
    ),
]
ApiToken = Annotated[
    SecretStr,
    BeforeValidator(_strip_token),
    AfterValidator(
        _secret_check(_API_TOKEN, "a GitHub token (github_pat_..., ghp_, gho_, ghs_ ...)")
    ),
]
RuntimeEntry = Annotated[str, AfterValidator(_runtime_entry)]
PemPrivateKey = Annotated[
    SecretStr,
    AfterValidator(
        _secret_check(
            _PEM_PRIVATE_KEY,
            "a PEM private key as GitHub issues it (-----BEGIN RSA PRIVATE KEY----- ... "
            "-----END RSA PRIVATE KEY-----, with its line breaks)",
        )
    ),
]
# GitHub's numeric ids (an App, an installation).
GitHubId = Annotated[int, Field(ge=1)]


def _optional_subdomain(value: str) -> str:
    return _subdomain(value) if value else value


def _public_host(value: str) -> str:
    if not value:
        return value
    _subdomain(value)
    if "." not in value or value.replace(".", "").isdigit():
        raise ValueError(
            "allowed: a public DNS name GitHub can reach, such as flux-webhook.example.com "
            "(at least two labels, no IP address, no scheme or path)"
        )
    return value


def _special_characters(value: str) -> str:
    if any(ch not in _PUNCTUATION for ch in value) or len(set(value)) != len(value):
        raise ValueError(
            "allowed: distinct ASCII punctuation characters such as -_.~ (empty: letters and digits only)"
        )
    return value


_PUNCTUATION = string.punctuation

OptionalSubdomain = Annotated[str, AfterValidator(_optional_subdomain)]
PublicHost = Annotated[str, AfterValidator(_public_host)]
SpecialCharacters = Annotated[str, AfterValidator(_special_characters)]


_PATCH_TARGET_KEYS = (
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
)


_PATCH_ALLOWED = (
    "allowed: a string holding a YAML or JSON mapping with a string 'patch' and an optional "
    "'target' with keys " + ", ".join(_PATCH_TARGET_KEYS)
)


def _patch_text(value: Any) -> Any:
    """A mapping written straight into the list is refused in words: the CLI wants strings."""
    if isinstance(value, dict):
        raise ValueError(
            "a bare mapping, but fluxPatches is a list of strings (Pulumi.yaml declares it so, "
            "and the Pulumi CLI refuses anything else): write the mapping as a block string "
            "after '- |'; " + _PATCH_ALLOWED
        )
    return value


def _patch_entry(value: str) -> str:
    allowed = _PATCH_ALLOWED
    try:
        entry = yaml.safe_load(value)
    except yaml.YAMLError:
        raise ValueError(allowed) from None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("patch"), str)
        or set(entry) - {"patch", "target"}
    ):
        raise ValueError(allowed)
    target = entry.get("target", {})
    if not isinstance(target, dict) or set(target) - set(_PATCH_TARGET_KEYS):
        raise ValueError(allowed)
    if not all(isinstance(v, str) for v in target.values()):
        raise ValueError(allowed)
    return value


PatchEntry = Annotated[str, BeforeValidator(_patch_text), AfterValidator(_patch_entry)]
# d1's patches as config entries, so the default is a value Pulumi.yaml can declare.
D1_PATCH_ENTRIES: tuple[str, ...] = tuple(json.dumps(patch) for patch in c.D1_PATCHES)


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if value not in allowed:
            raise ValueError("allowed: " + ", ".join(allowed))
        return value

    return validate


Component = Annotated[str, AfterValidator(_one_of(c.FLUX_COMPONENTS))]
Variant = Annotated[str, AfterValidator(_one_of(c.FLUX_VARIANTS))]
ClusterType = Annotated[str, AfterValidator(_one_of(c.CLUSTER_TYPES))]
SyncKind = Annotated[str, AfterValidator(_one_of(c.SYNC_KINDS))]
SyncProvider = Annotated[str, AfterValidator(_one_of(c.SYNC_PROVIDERS))]


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

    # Flux Operator Helm release.
    operator_chart_version: ChartVersion

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

    @property
    def platform(self) -> tuple[PlatformComponent, ...]:
        """Platform components in config order, each with the components it depends on."""
        return tuple(_parse_component(entry) for entry in self.platform_components)

    @property
    def github_app(self) -> bool:
        return self.git_auth is GitAuth.GITHUB_APP

    @property
    def stack_auth(self) -> fleet_auth.StackAuth:
        """How this stack authenticates, as the owner stack's fleet-wide plan reads it."""
        return fleet_auth.StackAuth(
            github_app=self.github_app,
            app_id=self.github_app_id,
            installation_id=self.github_app_installation_id,
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
        return checks.flux_minor(self.flux_version)

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
    def runtime_extra(self) -> dict[str, str]:
        return dict(entry.split("=", 1) for entry in self.runtime_info)


class PlatformComponent(BaseModel):
    """One platform component: a controllers and a configs Kustomization in d1-infra."""

    model_config = ConfigDict(frozen=True)

    name: str
    depends_on: tuple[str, ...] = ()


def _parse_component(entry: str) -> PlatformComponent:
    name, depends_on = checks.split_component(entry)
    return PlatformComponent(name=name, depends_on=depends_on)


# What the fleet-wide receiver check reads from the other stacks' files.
_FLEET_FIELDS = (
    "receivers",
    "cluster_domain",
    "receiver_host",
    "github_owner",
    "fleet_repository",
    "infra_repository",
    "apps_repository",
    "tenants",
    "image_automation",
    "sync_kind",
    "sync_url",
    # The fleet's credential modes, for the owner stack's GitHub objects.
    "git_auth",
    "github_app_id",
    "github_app_installation_id",
)


def fleet_problems(
    stack: str,
    settings: Settings,
    others: Mapping[str, Mapping[str, Any]],
    *,
    project: str = c.PROJECT,
) -> list[str]:
    """Problems only the whole fleet shows: GitHub's webhook limit, receiver hosts shared by stacks,
    and credential modes the owner stack cannot serve together (`fleet_github`).

    `others` maps each other stack of the project to the raw values of its stack file. Each cluster
    declares the webhooks of its own receivers, so a repository collects one webhook per receiver
    per cluster; GitHub rejects the 21st, which would fail `pulumi up` halfway through a rollout.
    """
    problems = fleet_github(settings, others, project=project)[1]
    if not settings.receivers:
        return problems
    members: dict[str, Settings] = {stack: settings}
    for name, raw in sorted(others.items()):
        try:
            members[name] = _fleet_member(raw)
        except ValidationError:
            problems.append(
                f"{project}:receivers: cannot count the webhooks of stack {name!r}: "
                "its stack file has invalid values"
            )
    per_stack = {
        name: receiver_plan.webhooks_per_repository(m.github_owner, m.receiver_targets)
        for name, m in members.items()
    }
    total: Counter[str] = Counter()
    for counts in per_stack.values():
        total.update(counts)
    for repository, count in sorted(total.items()):
        if count > c.GITHUB_WEBHOOK_LIMIT:
            shares = ", ".join(
                f"{name}: {counts[repository]}"
                for name, counts in per_stack.items()
                if counts[repository]
            )
            problems.append(
                f"{project}:receivers: {repository} would get {count} webhooks from this fleet "
                f"({shares}); GitHub accepts at most {c.GITHUB_WEBHOOK_LIMIT} per repository and "
                "event: enable receivers on fewer clusters or tenants"
            )
    host = settings.receiver_public_host
    sharing = [
        name
        for name, m in members.items()
        if name != stack and m.receivers and m.receiver_public_host == host
    ]
    if sharing:
        problems.append(
            f"{project}:receiverHost: {host!r} is also the receiver host of stack(s) "
            f"{', '.join(sharing)}; each cluster needs its own host or GitHub reaches the wrong one"
        )
    return problems


def fleet_github(
    settings: Settings,
    others: Mapping[str, Mapping[str, Any]],
    *,
    project: str = c.PROJECT,
) -> tuple[fleet_auth.FleetAuth, list[str]]:
    """What the owner stack declares on GitHub for every stack's `gitAuth`, and what stops it.

    A stack that does not own the organisation's objects declares none and reads no other file.
    """
    if not settings.github_access_owner:
        return fleet_auth.alone(settings.stack_auth), []
    modes: dict[str, fleet_auth.StackAuth | None] = {}
    for name, raw in others.items():
        try:
            modes[name] = _fleet_member(raw).stack_auth
        except ValidationError:
            modes[name] = None
    owner = fleet_auth.Owner(
        auth=settings.stack_auth,
        bot_username=settings.bot_username,
        branch_protection=settings.bot_push_access is PushAccess.BRANCH_PROTECTION,
    )
    fleet, found = fleet_auth.plan(owner, modes)
    others_owning = sorted(
        name for name, raw in others.items() if str(raw.get("githubAccessOwner")).lower() == "true"
    )
    if others_owning:
        found.append(
            (
                "githubAccessOwner",
                f"stack(s) {', '.join(others_owning)} also set githubAccessOwner: true; exactly "
                "one stack of the fleet owns the organisation's GitHub objects (two would fight "
                "over the bot team, and destroying either would take the bot's access from every "
                "cluster); allowed: true on one stack file only",
            )
        )
    return fleet, [f"{project}:{key}: {message}" for key, message in found]


def _fleet_member(raw: Mapping[str, Any]) -> Settings:
    """The receiver-related values of another stack, validated; every other field stays unset."""
    values: dict[str, Any] = {}
    for name in _FLEET_FIELDS:
        key = Settings.model_fields[name].alias or name
        if key in raw:
            values[name] = _adapter(name).validate_python(raw[key])
    # Only the properties that place receivers are read from it.
    return Settings.model_construct(**values)


SECRET_KEYS = frozenset(
    {"platformToken", "appsToken", "enterpriseToken", "githubToken", "githubAppPrivateKey"}
)
# The credential keys each mode needs (the other mode's keys must stay unset).
TOKEN_KEYS = checks.TOKEN_KEYS
APP_KEYS = checks.APP_KEYS


def required_keys(git_auth: str) -> tuple[str, ...]:
    """The credential keys a stack with this `gitAuth` must set."""
    return checks.required_credential_keys(git_auth)


def config_keys() -> dict[str, str]:
    """Every config key the program reads, with its Pulumi config type (for Pulumi.yaml)."""
    return {
        field.alias or name: _declared_type(field.annotation, field.default)
        for name, field in Settings.model_fields.items()
    }


def _declared_type(annotation: Any, default: Any) -> str:
    # The CLI checks a default against its key's type, and "" (not set) is no integer: an optional
    # number without a default of its own (an App id) is declared as text; `parse` reads it as one.
    kind = _pulumi_type(annotation)
    return "string" if kind == "integer" and default is None else kind


def _pulumi_type(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        (annotation,) = (arg for arg in get_args(annotation) if arg is not type(None))
        return _pulumi_type(annotation)
    if origin is Annotated:
        return _pulumi_type(get_args(annotation)[0])
    if origin is tuple:
        return "array"
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "integer"
    return "string"


def unset_when_empty() -> frozenset[str]:
    """Optional keys without a value of their own: Pulumi.yaml declares them with default ""."""
    return frozenset(
        field.alias or name
        for name, field in Settings.model_fields.items()
        if not field.is_required() and field.default is None
    )


def read(get: Callable[[str], str | None], keys: Iterable[str]) -> dict[str, Any]:
    """The raw value of every known key and every key in `keys` that is set, through `Config.get`.

    `keys` are all the keys the stack sets in the project's namespace, known or not, so `parse` can
    name the ones it does not know. Array values arrive as JSON text and are decoded here; a value
    that is not JSON stays a string, which `parse` reports as "not a YAML list".
    """
    kinds = config_keys()
    empty_is_unset = unset_when_empty()
    raw: dict[str, Any] = {}
    # Known keys are always asked for: a reader may find values `keys` does not list.
    for key in dict.fromkeys([*kinds, *keys]):
        value = get(key)
        # An empty string on a key without a default is the "not set" default Pulumi.yaml declares.
        if value is None or (value == "" and key in empty_is_unset):
            continue
        if kinds.get(key) == "array":
            try:
                raw[key] = json.loads(value)
            except ValueError:
                raw[key] = value
        else:
            raw[key] = value
    return raw


def parse(
    raw: Mapping[str, Any],
    *,
    today: date | None = None,
    secret: Iterable[str] = (),
    project: str = c.PROJECT,
) -> Settings:
    """Validate raw config values (strings, or lists for array keys) into `Settings`.

    Every key is validated on its own, then every cross-key check whose inputs are valid runs, so
    one `ConfigError` lists every problem. Values of `SECRET_KEYS` and of `secret` keys never
    appear in a message.
    """
    hidden = SECRET_KEYS | set(secret)
    problems = [f"{project}:{p}" for p in unknown_keys(raw)]
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        key = field.alias or name
        if key not in raw:
            if field.is_required():
                problems.append(f"{project}:{key}: missing required key")
            else:
                values[name] = field.get_default(call_default_factory=True)
            continue
        try:
            values[name] = _adapter(name).validate_python(raw[key])
        except ValidationError as err:
            problems.extend(_describe(err, key, raw[key], hidden, project))
            valid = _valid_entries(name, raw[key], err)
            if valid:
                values[name] = valid
    defaults = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
        if not field.is_required()
    }
    found = checks.run(checks.Values(values, defaults, today or date.today()))
    problems.extend(f"{project}:{key}: {message}" for key, message in found)
    if problems:
        raise ConfigError(problems)
    return Settings.model_construct(**values)


def _valid_entries(name: str, value: Any, err: ValidationError) -> tuple[Any, ...] | None:
    """The entries of a list that passed their own validation, so one bad entry hides nothing.

    The list's cross checks (duplicates, reserved names, missing controllers, cycles) then run on
    what is left. None when the value is no list, or no entry of it is valid: its checks are
    skipped, as for any invalid key.
    """
    if not isinstance(value, list):
        return None
    bad = set()
    for error in err.errors(include_url=False):
        loc = error["loc"]
        if not loc or not isinstance(loc[0], int):
            return None
        bad.add(loc[0])
    good = [entry for index, entry in enumerate(value) if index not in bad]
    if not good:
        return None
    try:
        valid: tuple[Any, ...] = _adapter(name).validate_python(good)
    except ValidationError:
        return None
    return valid


def unknown_keys(raw: Mapping[str, Any]) -> list[str]:
    """A problem for each key the program does not know, with the closest known key."""
    known = config_keys()
    by_lower = {key.lower(): key for key in known}
    problems = []
    for key in raw:
        if key in known:
            continue
        close = difflib.get_close_matches(key.lower(), by_lower, n=1, cutoff=0.6)
        hint = f"did you mean {by_lower[close[0]]!r}? " if close else ""
        problems.append(
            f"{key}: unknown key; {hint}allowed: the keys declared in Pulumi.yaml "
            "(see Configuration in the README)"
        )
    return problems


@functools.cache
def _adapter(name: str) -> TypeAdapter[Any]:
    field = Settings.model_fields[name]
    if not field.metadata:
        return TypeAdapter(field.annotation)  # type: ignore[arg-type]
    return TypeAdapter(Annotated[field.annotation, *field.metadata])  # type: ignore[arg-type]


def _describe(
    err: ValidationError, key: str, value: Any, hidden: set[str] | frozenset[str], project: str
) -> list[str]:
    problems: list[str] = []
    for error in err.errors(include_url=False):
        index = next((part for part in error["loc"] if isinstance(part, int)), None)
        where = f"{project}:{key}" + (f"[{index}]" if index is not None else "")
        if key in hidden:
            shown = "[secret]"
        elif index is not None and isinstance(value, list) and index < len(value):
            shown = repr(value[index])
        else:
            shown = repr(value)
        problems.append(f"{where}: {shown} is invalid: {_plain(error)}")
        if index is None:
            break  # one message per scalar key, even when several rules fail
    return problems


_LIST = "allowed: a YAML list such as [a, b], not a single string"
_WHOLE = "allowed: a whole number"
# Plain words for the validation library's error types (by type, given the error's context).
_PLAIN: dict[str, Callable[[dict[str, Any]], str]] = {
    "tuple_type": lambda _: _LIST,
    "list_type": lambda _: _LIST,
    "iterable_type": lambda _: _LIST,
    "bool_parsing": lambda _: "allowed: true or false",
    "bool_type": lambda _: "allowed: true or false",
    "int_parsing": lambda _: _WHOLE,
    "int_type": lambda _: _WHOLE,
    "int_from_float": lambda _: _WHOLE,
    "greater_than_equal": lambda ctx: f"{_WHOLE} of at least {ctx['ge']}",
    "less_than_equal": lambda ctx: f"{_WHOLE} of at most {ctx['le']}",
    "enum": lambda ctx: f"allowed: {ctx['expected']}",
    "string_too_short": lambda ctx: f"allowed: at least {ctx['min_length']} character(s)",
    "string_too_long": lambda ctx: f"allowed: at most {ctx['max_length']} characters",
    "string_type": lambda _: "allowed: a text value",
}


def _plain(error: Any) -> str:
    """The error in plain words: what is allowed, never the validation library's wording."""
    if error["type"] == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    describe = _PLAIN.get(error["type"])
    if describe is None:
        return "not a value this key accepts; see Configuration in the README"
    return describe(error.get("ctx") or {})
