"""Typed, validated settings of one cluster stack.

Every config key the program reads is a field here. Config is read once, validated once and turned
into a frozen `Settings` before any resource is registered, so a bad value fails `pulumi preview`
with one message listing every problem instead of a half-registered stack.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import date
from enum import StrEnum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic.alias_generators import to_camel

from fleet.program import conventions as c
from fleet.program import receiver_plan

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_EXACT_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_FLUX_VERSION = re.compile(r"^(?P<major>\d+)\.(?:(?P<minor>\d+)\.(?:x|\d+)|x)$")
_GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_GITHUB_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_PAT = re.compile(r"^(github_pat_[A-Za-z0-9_]{20,255}|ghp_[A-Za-z0-9]{36,255})$")
_API_TOKEN = re.compile(r"^(github_pat_[A-Za-z0-9_]{20,255}|gh[pousr]_[A-Za-z0-9]{36,255})$")
_GIT_REF = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)(?!.*@\{)[^\s~^:?*\[\\]+(?<![/.])$")
_ENV_KEY = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")


class ConfigError(Exception):
    """Invalid stack configuration: every problem, each naming its key, bad value and what is allowed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid stack configuration ({len(problems)} problem(s)):\n{lines}")


class Environment(StrEnum):
    STAGING = "staging"
    PRODUCTION = "production"


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
GitHubRepo = Annotated[str, AfterValidator(_check(_GITHUB_REPO, "a GitHub repository name"))]
GitRef = Annotated[str, AfterValidator(_check(_GIT_REF, "a valid Git branch name"))]
Duration = Annotated[str, AfterValidator(_check(_DURATION, "a Go duration such as 1m or 1h30m"))]
Pat = Annotated[
    SecretStr,
    AfterValidator(
        _secret_check(_PAT, "a GitHub personal access token (github_pat_... or ghp_...)")
    ),
]
ApiToken = Annotated[
    SecretStr,
    AfterValidator(
        _secret_check(_API_TOKEN, "a GitHub token (github_pat_..., ghp_, gho_, ghs_ ...)")
    ),
]
RuntimeEntry = Annotated[str, AfterValidator(_runtime_entry)]


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


def _patch_entry(value: str) -> str:
    allowed = (
        "allowed: a YAML or JSON mapping with a string 'patch' and an optional 'target' with keys "
        + ", ".join(_PATCH_TARGET_KEYS)
    )
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


PatchEntry = Annotated[str, AfterValidator(_patch_entry)]


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

    # Fine-grained PATs (secret config) and their expiry dates.
    platform_token: Pat
    platform_token_expires: date
    apps_token: Pat
    apps_token_expires: date
    enterprise_token: Pat | None = None
    enterprise_token_expires: date | None = None
    enterprise_registry: str = "ghcr.io"
    enterprise_username: Annotated[str, Field(min_length=1)] = "flux"
    token_warning_days: Annotated[int, Field(ge=0, le=366)] = 14

    # Flux Operator Helm release.
    operator_chart_version: ChartVersion

    # FluxInstance.
    flux_version: FluxVersion = c.DEFAULT_FLUX_VERSION
    flux_registry: Annotated[str, Field(min_length=1)] = c.DEFAULT_FLUX_REGISTRY
    flux_artifact: Annotated[str, Field(pattern=r"^oci://.*$")] = c.DEFAULT_FLUX_ARTIFACT
    flux_variant: Variant | None = None
    flux_components: tuple[Component, ...] = c.DEFAULT_COMPONENTS
    image_automation: bool = False
    cluster_type: ClusterType = "kubernetes"
    multitenant: bool = True
    tenant_default_service_account: Subdomain = "default"
    network_policy: bool = True
    kubernetes_dns_domain: Subdomain = "cluster.local"
    flux_patches: tuple[PatchEntry, ...] | None = None
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
    automation_author_name: Annotated[str, Field(min_length=1)] = c.BOT_AUTHOR_NAME
    automation_author_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = (
        c.BOT_AUTHOR_EMAIL
    )

    # Webhook receivers: GitHub pushes trigger Flux at once instead of on the poll interval.
    receivers: bool = False
    receiver_host: PublicHost = ""
    receiver_token_length: Annotated[int, Field(ge=24, le=128)] = 40
    receiver_token_special: SpecialCharacters = ""
    receiver_ingress: bool = True
    receiver_ingress_class: OptionalSubdomain = ""
    receiver_tls_secret: OptionalSubdomain = ""

    @model_validator(mode="after")
    def _cross_field_rules(self) -> Settings:
        problems: list[tuple[str, str]] = []
        if not self.kube_context and not self.kubeconfig:
            problems.append(
                (
                    "kubeContext",
                    "set kubeContext (or kubeconfig) so this stack can only reach its own cluster",
                )
            )
        if self.github_access_owner and not self.bot_username:
            problems.append(("botUsername", "required when githubAccessOwner is true"))
        if (self.enterprise_token is None) != (self.enterprise_token_expires is None):
            problems.append(
                (
                    "enterpriseTokenExpires",
                    "enterpriseToken and its expiry date go together",
                )
            )
        minor = self.flux_minor
        if (
            "source-watcher" in self.components
            and minor is not None
            and minor < c.SOURCE_WATCHER_MIN_MINOR
        ):
            problems.append(("fluxComponents", "source-watcher requires Flux 2.7 or later"))
        sync = {
            "syncKind": self.sync_kind,
            "syncUrl": self.sync_url,
            "syncRef": self.sync_ref,
            "syncPath": self.sync_path,
        }
        if any(v is not None for v in (*sync.values(), self.sync_provider, self.sync_pull_secret)):
            problems.extend(
                (key, "required when the FluxInstance syncs") for key, v in sync.items() if not v
            )
        if self.sync_provider == "github" and self.sync_kind not in (
            None,
            "GitRepository",
        ):
            problems.append(
                (
                    "syncProvider",
                    "sync.provider 'github' is only supported for GitRepository",
                )
            )
        if self.sync_provider == "gcp" and self.sync_kind == "GitRepository":
            problems.append(
                (
                    "syncProvider",
                    "sync.provider 'gcp' is only supported for OCIRepository and Bucket",
                )
            )
        problems.extend(("tenants", m) for m in _tenant_problems(self.tenants))
        if self.image_automation and c.APPS_UPDATE_NAMESPACE in self.tenants:
            problems.append(
                ("tenants", f"tenant {c.APPS_UPDATE_NAMESPACE!r} is the image automation namespace")
            )
        problems.extend(
            ("platformComponents", m) for m in _component_problems(self.platform_components)
        )
        if self.receivers and "notification-controller" not in self.components:
            problems.append(
                ("fluxComponents", "receivers need the notification-controller component")
            )
        if problems:
            raise _CrossFieldError(problems)
        return self

    @property
    def platform(self) -> tuple[PlatformComponent, ...]:
        """Platform components in config order, each with the components it depends on."""
        return tuple(_parse_component(entry) for entry in self.platform_components)

    @property
    def production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def flux_minor(self) -> int | None:
        match = _FLUX_VERSION.match(self.flux_version)
        minor = match.group("minor") if match else None
        return int(minor) if minor is not None else None

    @property
    def components(self) -> tuple[str, ...]:
        """FluxInstance components: the configured ones plus the image controllers when automating."""
        extra = c.IMAGE_AUTOMATION_COMPONENTS if self.image_automation else ()
        wanted = set(self.flux_components) | set(extra)
        return tuple(name for name in c.FLUX_COMPONENTS if name in wanted)

    @property
    def patches(self) -> tuple[dict[str, Any], ...]:
        """FluxInstance kustomize patches: d1's unless the stack configures its own."""
        if self.flux_patches is None:
            return c.D1_PATCHES
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
    name, _, deps = entry.partition(":")
    return PlatformComponent(
        name=name.strip(),
        depends_on=tuple(d.strip() for d in deps.split(",") if d.strip()),
    )


_RESERVED_NAMESPACES = ("flux-system", "default")


def _tenant_problems(tenants: tuple[str, ...]) -> list[str]:
    problems = [
        f"tenant {t!r} is listed more than once"
        for t in sorted(set(tenants))
        if tenants.count(t) > 1
    ]
    problems.extend(
        f"tenant {t!r} is a reserved namespace (flux-system, default and kube-* are not allowed)"
        for t in tenants
        if t in _RESERVED_NAMESPACES or t.startswith("kube-")
    )
    return problems


def _component_problems(entries: tuple[str, ...]) -> list[str]:
    components = [_parse_component(e) for e in entries]
    names = [comp.name for comp in components]
    problems: list[str] = []
    for comp, entry in zip(components, entries, strict=True):
        bad = [
            n for n in (comp.name, *comp.depends_on) if not _DNS1123_LABEL.match(n) or len(n) > 50
        ]
        if bad:
            problems.append(
                f"{entry!r}: allowed: 'name' or 'name: dependency, ...' with DNS-1123 label names"
            )
            continue
        duplicate = f"component {comp.name!r} is listed more than once"
        if names.count(comp.name) > 1 and duplicate not in problems:
            problems.append(duplicate)
        problems.extend(
            f"component {comp.name!r} depends on {dep!r}, which is not a configured component"
            for dep in comp.depends_on
            if dep not in names
        )
    if not problems:
        cycle = _find_cycle({comp.name: comp.depends_on for comp in components})
        if cycle:
            problems.append("dependency cycle: " + " -> ".join(cycle))
    return problems


def _find_cycle(graph: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A dependency cycle as a path of names (first == last), or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in graph:
        if node not in state and (found := visit(node)):
            return found
    return None


class _CrossFieldError(ValueError):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))


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
)


def fleet_problems(
    stack: str,
    settings: Settings,
    others: Mapping[str, Mapping[str, Any]],
    *,
    project: str = c.PROJECT,
) -> list[str]:
    """Problems only the whole fleet shows: GitHub's webhook limit and receiver hosts shared by stacks.

    `others` maps each other stack of the project to the raw values of its stack file. Each cluster
    declares the webhooks of its own receivers, so a repository collects one webhook per receiver
    per cluster; GitHub rejects the 21st, which would fail `pulumi up` halfway through a rollout.
    """
    if not settings.receivers:
        return []
    problems: list[str] = []
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


def _fleet_member(raw: Mapping[str, Any]) -> Settings:
    """The receiver-related values of another stack, validated; every other field stays unset."""
    values: dict[str, Any] = {}
    for name in _FLEET_FIELDS:
        field = Settings.model_fields[name]
        key = field.alias or name
        if key in raw:
            kind: Any = (
                Annotated[(field.annotation, *field.metadata)]
                if field.metadata
                else field.annotation
            )
            values[name] = TypeAdapter(kind).validate_python(raw[key])
    # Only the properties that place receivers are read from it.
    return Settings.model_construct(**values)


SECRET_KEYS = frozenset({"platformToken", "appsToken", "enterpriseToken", "githubToken"})


def config_keys() -> dict[str, str]:
    """Every config key the program reads, with its Pulumi config type (for Pulumi.yaml)."""
    return {
        field.alias or name: _pulumi_type(field.annotation)
        for name, field in Settings.model_fields.items()
    }


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


def read(get: Callable[[str], str | None], get_object: Callable[[str], Any]) -> dict[str, Any]:
    """Collect the raw value of every key that is set, through a config reader such as pulumi.Config."""
    raw: dict[str, Any] = {}
    for key, kind in config_keys().items():
        value = get_object(key) if kind == "array" else get(key)
        if value is not None:
            raw[key] = value
    return raw


def parse(raw: Mapping[str, Any], *, project: str = c.PROJECT) -> Settings:
    """Validate raw config values (strings, or lists for array keys) into `Settings`."""
    try:
        return Settings.model_validate(dict(raw))
    except ValidationError as err:
        raise ConfigError(_describe(err, raw, project)) from None


def _describe(err: ValidationError, raw: Mapping[str, Any], project: str) -> list[str]:
    problems: list[str] = []
    for error in err.errors(include_url=False):
        loc = error["loc"]
        ctx_error = error.get("ctx", {}).get("error")
        if isinstance(ctx_error, _CrossFieldError):
            problems.extend(f"{project}:{key}: {message}" for key, message in ctx_error.problems)
            continue
        key = str(loc[0]) if loc else "?"
        where = f"{project}:{key}" + "".join(
            f"[{part}]" for part in loc[1:] if isinstance(part, int)
        )
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            problems.append(f"{where}: missing required key")
        else:
            shown = "[secret]" if key in SECRET_KEYS else repr(error["input"])
            problems.append(f"{where}: {shown} is invalid: {message}")
    return problems
