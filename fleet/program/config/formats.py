"""The format of every single config value: each pattern, predicate and constrained type, once.

A type here validates one value on its own and says what is allowed in plain words; rules that
read several keys are in `rules`. Nothing here knows about keys, stacks or the environment.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr

from fleet.program import conventions as c
from fleet.program.config import private_key

DNS1123_LABEL: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


DNS1123_SUBDOMAIN: Final = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)


_EXACT_SEMVER: Final = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


_FLUX_VERSION: Final = re.compile(r"^(?P<major>\d+)\.(?:(?P<minor>\d+)\.(?:x|\d+)|x)$")


_GITHUB_LOGIN: Final = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


_TEAM_SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


_GITHUB_REPO: Final = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


_FINE_GRAINED_PAT: Final = re.compile(r"^github_pat_[A-Za-z0-9_]{20,255}$")


_PAT: Final = re.compile(r"^(github_pat_[A-Za-z0-9_]{20,255}|ghp_[A-Za-z0-9]{36,255})$")


_API_TOKEN: Final = re.compile(r"^(github_pat_[A-Za-z0-9_]{20,255}|gh[pousr]_[A-Za-z0-9]{36,255})$")


_OTHER_GITHUB_TOKEN: Final = re.compile(r"^gh[pousr]_")


_ENV_KEY: Final = re.compile(r"^[A-Z_][A-Z0-9_]*$")


_DURATION: Final = re.compile(r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$")


_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_NO_SPACE: Final = re.compile(r"^\S+$")


_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+$")


_OCI_TAG: Final = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


_BUCKET: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")


_HOST: Final = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?::[0-9]{1,5})?$"
)


_OCI_PATH_COMPONENT: Final = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


_DIGEST: Final = re.compile(r"sha256:[a-f0-9]{64}")


# Set from their own keys; runtimeInfo cannot override them.
RUNTIME_KEYS: Final = ("ENVIRONMENT", "GIT_BRANCH", "CLUSTER_NAME", "CLUSTER_DOMAIN")


def flux_minor(version: str) -> int | None:
    """The minor of a Flux version or range (2.7.x -> 7); None for a major-only range (2.x)."""
    match = _FLUX_VERSION.match(version)
    minor = match.group("minor") if match else None
    return int(minor) if minor is not None else None


def split_component(entry: str) -> tuple[str, tuple[str, ...]]:
    """'name: dep, dep' -> (name, (dep, dep))."""
    name, _, deps = entry.partition(":")
    return name.strip(), tuple(d.strip() for d in deps.split(",") if d.strip())


def git_ref_ok(ref: str) -> bool:
    """Whether `ref` is a valid Git ref name (git check-ref-format's rules)."""
    if not ref or ref.startswith("/") or ref.endswith(("/", ".", ".lock")) or ref == "@":
        return False
    if any(token in ref for token in ("..", "//", "@{")):
        return False
    if any(ch.isspace() or ch in "~^:?*[\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in ref):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in ref.split("/"))


def registry_host_ok(host: str) -> bool:
    """A registry host name with an optional port, as in an image reference."""
    return bool(_HOST.match(host))


def registry_path_ok(path: str) -> bool:
    """An image repository path (lowercase components), or none."""
    return not path or all(_OCI_PATH_COMPONENT.match(part) for part in path.split("/"))


def oci_tag_ok(tag: str) -> bool:
    return bool(_OCI_TAG.match(tag))


def bucket_ok(name: str) -> bool:
    return bool(_BUCKET.match(name))


def oci_repository_ok(reference: str) -> bool:
    """host[:port]/path with lowercase path components, and no tag or digest."""
    host, _, path = reference.partition("/")
    return registry_host_ok(host) and bool(path) and registry_path_ok(path)


def oci_reference_ok(reference: str) -> bool:
    """host[:port]/path with an optional :tag and an optional @sha256:digest."""
    name, _, digest = reference.partition("@")
    if digest and not _DIGEST.fullmatch(digest):
        return False
    host, _, rest = name.partition("/")
    path, tag = rest, ""
    if ":" in rest.rsplit("/", 1)[-1]:
        path, _, tag = rest.rpartition(":")
    if tag and not oci_tag_ok(tag):
        return False
    return registry_host_ok(host) and bool(path) and registry_path_ok(path)


def dns_label_ok(value: str, max_length: int = 63) -> bool:
    return len(value) <= max_length and bool(DNS1123_LABEL.match(value))


def subdomain_ok(value: str) -> bool:
    """A DNS-1123 subdomain: what Kubernetes accepts as most object names."""
    return len(value) <= 253 and bool(DNS1123_SUBDOMAIN.match(value))


def _check(pattern: re.Pattern[str], allowed: str) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"allowed: {allowed}")
        return value

    return validate


def _inner_whitespace(token: str, allowed: str) -> None:
    """A space or line break inside a token is a paste gone wrong, not a kind of token: say so."""
    if any(ch.isspace() for ch in token):
        raise ValueError(
            "contains whitespace inside the value (no GitHub token does: copy it again "
            f"in one piece); allowed: {allowed}"
        )


def _secret_check(
    pattern: re.Pattern[str], allowed: str, *, token: bool = True
) -> Callable[[SecretStr], SecretStr]:
    def validate(value: SecretStr) -> SecretStr:
        if token:
            _inner_whitespace(value.get_secret_value(), allowed)
        if not pattern.match(value.get_secret_value()):
            raise ValueError(f"allowed: {allowed}")
        return value

    return validate


def _rsa_private_key(value: SecretStr) -> SecretStr:
    """An unencrypted RSA key in PEM, as GitHub issues it (`private_key`); never quoted."""
    try:
        private_key.check(value.get_secret_value())
    except private_key.UnusableKeyError as err:
        raise ValueError(str(err)) from None
    return value


def _strip_token(value: Any) -> Any:
    """Surrounding whitespace and newlines (`echo token |`, a pasted line) are not part of a token.

    No GitHub token contains whitespace, so removing it never changes a valid token; whitespace
    inside a value is refused by the format check.
    """
    return value.strip() if isinstance(value, str) else value


def _fine_grained(value: SecretStr) -> SecretStr:
    token = value.get_secret_value()
    _inner_whitespace(token, "a fine-grained personal access token (github_pat_...)")
    if token.startswith("ghp_"):
        raise ValueError(
            "a classic personal access token (ghp_...) is not accepted: it reaches every "
            "repository the bot account can, and the apps token is copied into every tenant "
            "namespace; allowed: a fine-grained token (github_pat_...) limited to the fleet "
            "repositories (see docs/first-run.md#tokens)"
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
    if not dns_label_ok(value):
        raise ValueError(
            "allowed: a DNS-1123 label (lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return value


def _subdomain(value: str) -> str:
    if not subdomain_ok(value):
        raise ValueError("allowed: a DNS-1123 subdomain (lowercase, dot-separated DNS labels)")
    return value


def _flux_version(value: str) -> str:
    match = _FLUX_VERSION.match(value)
    if not match:
        raise ValueError(
            "allowed: an exact Flux version or a patch/minor range such as 2.7.x, 2.7.3 or 2.x "
            "('latest' and comparison ranges are not accepted)"
        )
    minor = flux_minor(value)
    if match.group("major") != "2" or (minor is not None and minor not in c.SUPPORTED_FLUX_MINORS):
        supported = ", ".join(f"2.{m}.x" for m in c.SUPPORTED_FLUX_MINORS)
        raise ValueError(f"unsupported Flux version; allowed: {supported} (or 2.x)")
    return value


def _branch(value: str) -> str:
    if value.startswith("refs/"):
        raise ValueError(
            "allowed: a branch name such as main, not a full ref (Flux's ref.branch and "
            "push.branch take the short name)"
        )
    if not git_ref_ok(value):
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
    if not registry_host_ok(host) or not registry_path_ok(path):
        raise ValueError(
            "allowed: a registry host (optional :port) and an optional lowercase path, "
            "e.g. ghcr.io/fluxcd"
        )
    return value


def _oci_artifact(value: str) -> str:
    if not value.startswith("oci://") or not oci_reference_ok(value.removeprefix("oci://")):
        raise ValueError(
            "allowed: an oci:// artifact reference such as "
            "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:latest"
        )
    return value


def iso_date(value: Any) -> Any:
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
    if key in RUNTIME_KEYS:
        raise ValueError(f"{key} is set from its own config key and cannot be overridden")
    return value


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
    if any(ch not in string.punctuation for ch in value) or len(set(value)) != len(value):
        raise ValueError(
            "allowed: distinct ASCII punctuation characters such as -_.~ (empty: letters and digits only)"
        )
    return value


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if value not in allowed:
            raise ValueError("allowed: " + ", ".join(allowed))
        return value

    return validate


Label = Annotated[str, AfterValidator(_label)]


Subdomain = Annotated[str, AfterValidator(_subdomain)]


OptionalSubdomain = Annotated[str, AfterValidator(_optional_subdomain)]


PublicHost = Annotated[str, AfterValidator(_public_host)]


SpecialCharacters = Annotated[str, AfterValidator(_special_characters)]


ChartVersion = Annotated[
    str,
    AfterValidator(
        _check(_EXACT_SEMVER, "an exact chart version such as 0.58.1 (no 'latest', no ranges)")
    ),
]


# The OCI manifest digest of the chart that verify-chart verified and the release installs.
ChartDigest = Annotated[
    str,
    AfterValidator(
        _check(
            re.compile(rf"^{_DIGEST.pattern}$"),
            "a chart digest sha256:<64 lowercase hex digits>, as `cosign verify` and "
            "`crane digest ghcr.io/controlplaneio-fluxcd/charts/flux-operator:<version>` print it",
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


ExpiryDate = Annotated[date, BeforeValidator(iso_date)]


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


PemPrivateKey = Annotated[SecretStr, AfterValidator(_rsa_private_key)]


# GitHub's numeric ids (an App, an installation).
GitHubId = Annotated[int, Field(ge=1)]


Component = Annotated[str, AfterValidator(_one_of(c.FLUX_COMPONENTS))]


Variant = Annotated[str, AfterValidator(_one_of(c.FLUX_VARIANTS))]


ClusterType = Annotated[str, AfterValidator(_one_of(c.CLUSTER_TYPES))]


SyncKind = Annotated[str, AfterValidator(_one_of(c.SYNC_KINDS))]


SyncProvider = Annotated[str, AfterValidator(_one_of(c.SYNC_PROVIDERS))]
