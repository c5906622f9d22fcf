"""Rules on the FluxInstance sync: complete, and a URL, ref, path and provider that fit its kind."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final
from urllib.parse import urlsplit

from fleet.program.config import formats
from fleet.program.config.formats import flux_minor
from fleet.program.config.rules.base import Problem, Rules, Values

RULES: Final = Rules()

# Flux 2.9 added AWS authentication for GitRepository (FluxInstance CRD, sync.provider).
GIT_AWS_PROVIDER_MIN_MINOR: Final = 9

_SYNC_KEYS: Final = {
    "sync_kind": "syncKind",
    "sync_url": "syncUrl",
    "sync_ref": "syncRef",
    "sync_path": "syncPath",
}


@RULES.reads(*_SYNC_KEYS, "sync_provider", "sync_pull_secret")
def _sync_complete(v: Values) -> Iterator[Problem]:
    given = [v[name] for name in (*_SYNC_KEYS, "sync_provider", "sync_pull_secret")]
    if any(value is not None for value in given):
        for name, key in _SYNC_KEYS.items():
            if not v[name]:
                yield (key, "required when the FluxInstance syncs")


@RULES.reads("sync_kind", "sync_provider", "flux_version")
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


@RULES.reads("sync_kind", "sync_url", "sync_provider")
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


@RULES.reads("sync_kind", "sync_ref")
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


@RULES.reads("sync_path")
def _sync_path(v: Values) -> Iterator[Problem]:
    path = v["sync_path"]
    if path and ".." in path.split("/"):
        yield (
            "syncPath",
            f"{path!r} leaves the source; allowed: a path inside it, e.g. clusters/staging",
        )
