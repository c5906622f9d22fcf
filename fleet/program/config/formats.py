"""The format of every single config value: each pattern, predicate and constrained type, once.

A type here validates one value on its own and says what is allowed in plain words; rules that
read several keys are in `rules`. Nothing here knows about keys, stacks or the environment.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Final

import yaml
from pydantic import AfterValidator, BeforeValidator, Field, SecretStr

from fleet.program import conventions as c
from fleet.program import spoke_plan
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
PATCH_TARGET_KEYS: Final = (
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
)
# Target fields kustomize matches as regular expressions, anchored, with Go's RE2 syntax
# (kubernetes-sigs/kustomize api/types/selector.go, NewSelectorRegex).
PATCH_REGEX_KEYS: Final = ("group", "version", "kind", "name", "namespace")
# Perl constructs Python's `re` accepts but RE2 refuses: lookaround, backreferences, atomic
# groups, conditionals.
_NOT_RE2: Final = re.compile(r"\(\?(?:[=!]|<[=!]|>|\(|P=)|\\[1-9]")


# Predicates, shared by the types below and by the cross-key rules.


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


# Validators: each raises ValueError with what is allowed, never the value (it may be secret).


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


_PATCH_ALLOWED: Final = (
    "allowed: a string holding a YAML or JSON mapping with a string 'patch' and an optional "
    "'target' with keys " + ", ".join(PATCH_TARGET_KEYS)
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
    if not isinstance(target, dict) or set(target) - set(PATCH_TARGET_KEYS):
        raise ValueError(allowed)
    if not all(isinstance(v, str) for v in target.values()):
        raise ValueError(allowed)
    # What Flux's kustomize would refuse inside the cluster, refused here first.
    for key in PATCH_REGEX_KEYS:
        if key in target and (reason := _regex_problem(target[key])):
            raise ValueError(
                f"target {key} {target[key]!r} is not a regular expression kustomize can use "
                f"({reason}); allowed: an RE2 expression, e.g. 'flux-.*' or a plain name"
            )
    if reason := _patch_body_problem(entry["patch"]):
        raise ValueError(
            f"its 'patch' text is not a patch kustomize can apply ({reason}); allowed: a "
            "strategic merge patch (a YAML mapping) or a JSON 6902 patch (a YAML list of "
            "operations)"
        )
    return value


def _regex_problem(pattern: str) -> str | None:
    """Why RE2 would not compile `pattern`, or None."""
    if _NOT_RE2.search(pattern):
        return "lookaround, backreferences and atomic groups are not RE2"
    try:
        re.compile(pattern)
    except re.error as error:
        return str(error)
    return None


def _patch_body_problem(text: str) -> str | None:
    """Why the inner patch is neither a strategic merge patch nor a JSON 6902 list, or None."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return f"it does not parse as YAML{where}"
    if not documents:
        return "it is empty"
    if not all(isinstance(d, dict | list) for d in documents):
        return "it is a plain value, not a mapping or a list"
    return None


def _one_of(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def validate(value: str) -> str:
        if value not in allowed:
            raise ValueError("allowed: " + ", ".join(allowed))
        return value

    return validate


_SPOKE_FIELDS: Final = ("server", "environment", "rotated", "context", "kubeconfig", "chain")
_SPOKE_ALLOWED: Final = (
    "allowed: '<name>: server=https://<host>[:port], environment=staging|production, "
    "rotated=YYYY-MM-DD, context=<kube context> and/or kubeconfig=<path>[, chain=<steps joined by "
    "'>' in the order " + ">".join(spoke_plan.CHAIN) + ">]' with <name> a DNS-1123 label"
)


def split_spoke(entry: str) -> spoke_plan.Spoke:
    """'name: key=value, ...' -> the spoke; ValueError saying what is allowed."""
    name, sep, rest = entry.partition(":")
    name = name.strip()
    if not sep or not dns_label_ok(name):
        raise ValueError(_SPOKE_ALLOWED)
    fields: dict[str, str] = {}
    for part in (p.strip() for p in rest.split(",")):
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or key not in _SPOKE_FIELDS or key in fields or not value:
            raise ValueError(f"{key or part!r} in spoke {name}: {_SPOKE_ALLOWED}")
        fields[key] = value
    missing = [k for k in ("server", "environment", "rotated") if k not in fields]
    if missing or not ("context" in fields or "kubeconfig" in fields):
        raise ValueError(
            f"spoke {name} needs {', '.join(missing) or 'context or kubeconfig'}; {_SPOKE_ALLOWED}"
        )
    host = _https_host(fields["server"])
    if host is None:
        raise ValueError(f"spoke {name}: server must be https://<host>[:port]; {_SPOKE_ALLOWED}")
    if fields["environment"] not in tuple(c.Environment):
        raise ValueError(f"spoke {name}: environment allowed: staging or production")
    rotated = _iso_date(fields["rotated"])
    steps = tuple(s.strip() for s in fields.get("chain", ">".join(spoke_plan.CHAIN)).split(">"))
    order = [str(step) for step in spoke_plan.CHAIN]
    if (
        any(s not in order for s in steps)
        or len(set(steps)) != len(steps)
        or [order.index(s) for s in steps] != sorted(order.index(s) for s in steps)
    ):
        raise ValueError(
            f"spoke {name}: chain allowed: steps from {'>'.join(order)}, each once, in that order"
        )
    return spoke_plan.Spoke(
        name=name,
        server=fields["server"].rstrip("/"),
        rotated=rotated,
        production=fields["environment"] == c.Environment.PRODUCTION,
        context=fields.get("context"),
        kubeconfig=fields.get("kubeconfig"),
        chain=tuple(spoke_plan.Step(s) for s in steps),
    )


def _https_host(url: str) -> str | None:
    """The host[:port] of an https:// URL with nothing after it, else None."""
    if not url.startswith("https://"):
        return None
    host = url.removeprefix("https://").rstrip("/")
    return host if registry_host_ok(host) else None


def _spoke_entry(value: str) -> str:
    split_spoke(value)
    return value


# The constrained types the settings model declares its fields with.

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
ExpiryDate = Annotated[date, BeforeValidator(_iso_date)]
Registry = Annotated[str, AfterValidator(_registry)]
OciArtifact = Annotated[str, AfterValidator(_oci_artifact)]


def _operator_chart(value: str) -> str:
    """A mirror of the chart's OCI repository, or a local chart folder; named flux-operator either way.

    The policy pack and `fleet adopt` find the operator's release by that name; tag and digest stay
    in operatorChartVersion and operatorChartDigest.
    """
    if value.startswith("oci://"):
        reference = value.removeprefix("oci://")
        last = reference.rsplit("/", 1)[-1]
        ok = oci_reference_ok(reference) and "@" not in reference and ":" not in last
    else:
        ok = value.startswith("/")
    if not ok or not value.endswith("/flux-operator"):
        raise ValueError(
            "allowed: an oci:// chart repository ending in /flux-operator, without tag or digest "
            f"(a mirror of {c.OPERATOR_CHART}), or the absolute path of a local chart folder "
            "named flux-operator"
        )
    return value


OperatorChart = Annotated[str, AfterValidator(_operator_chart)]
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
PatchEntry = Annotated[str, BeforeValidator(_patch_text), AfterValidator(_patch_entry)]
# d1's patches as config entries, so the default is a value Pulumi.yaml can declare.
D1_PATCH_ENTRIES: Final[tuple[str, ...]] = tuple(json.dumps(patch) for patch in c.D1_PATCHES)
Component = Annotated[str, AfterValidator(_one_of(c.FLUX_COMPONENTS))]
Variant = Annotated[str, AfterValidator(_one_of(c.FLUX_VARIANTS))]
ClusterType = Annotated[str, AfterValidator(_one_of(c.CLUSTER_TYPES))]
SyncKind = Annotated[str, AfterValidator(_one_of(c.SYNC_KINDS))]
SyncProvider = Annotated[str, AfterValidator(_one_of(c.SYNC_PROVIDERS))]
SpokeEntry = Annotated[str, AfterValidator(_spoke_entry)]
