"""The FluxInstance sync: complete, and a URL, ref, path and provider that fit its kind.

Each test reads the problems the program lists for a stack's configuration.
"""

from __future__ import annotations

import pytest

from tests.helpers import config_problems

GIT = {
    "syncKind": "GitRepository",
    "syncUrl": "https://github.com/acme/d1-fleet.git",
    "syncRef": "refs/heads/main",
    "syncPath": "clusters/staging",
}
OCI = {**GIT, "syncKind": "OCIRepository", "syncUrl": "oci://ghcr.io/acme/fleet", "syncRef": "v1"}
BUCKET = {**GIT, "syncKind": "Bucket", "syncUrl": "minio.example.com:9000", "syncRef": "fleet"}
AZURE = {
    **BUCKET,
    "syncProvider": "azure",
    "syncUrl": "https://acme.blob.core.windows.net",
}


def sync_problems(**sync: str) -> list[str]:
    """The problems of prod-eu (token mode, no image automation) with these sync keys."""
    return config_problems("prod-eu", sync)


@pytest.mark.parametrize("sync", [GIT, OCI, BUCKET, AZURE])
def test_a_complete_sync_of_each_kind_is_accepted(sync: dict[str, str]) -> None:
    assert sync_problems(**sync) == []


@pytest.mark.parametrize("given", ["syncProvider", "syncPullSecret", "syncKind"])
def test_any_sync_key_asks_for_the_four_that_make_a_sync(given: str) -> None:
    value = {"syncProvider": "generic", "syncPullSecret": "git-auth", "syncKind": "Bucket"}[given]
    problems = sync_problems(**{given: value})
    missing = [k for k in ("syncKind", "syncUrl", "syncRef", "syncPath") if k != given]
    assert problems == [f"d1-fleet:{k}: required when the FluxInstance syncs" for k in missing]


def test_a_sync_missing_one_key_names_that_key() -> None:
    assert sync_problems(**{**GIT, "syncPath": ""}) == [
        "d1-fleet:syncPath: required when the FluxInstance syncs"
    ]


@pytest.mark.parametrize(
    ("sync", "provider", "says"),
    [
        (OCI, "github", "sync.provider 'github' is only supported for GitRepository"),
        (BUCKET, "github", "sync.provider 'github' is only supported for GitRepository"),
        (GIT, "gcp", "sync.provider 'gcp' is only supported for OCIRepository and Bucket"),
    ],
)
def test_a_provider_the_kind_does_not_support_is_refused(
    sync: dict[str, str], provider: str, says: str
) -> None:
    assert sync_problems(**sync, syncProvider=provider) == [f"d1-fleet:syncProvider: {says}"]


@pytest.mark.parametrize("sync", [OCI, BUCKET])
def test_gcp_is_accepted_for_oci_and_buckets(sync: dict[str, str]) -> None:
    assert sync_problems(**sync, syncProvider="gcp") == []


def test_aws_for_git_needs_flux_2_9_and_not_for_oci() -> None:
    assert sync_problems(**GIT, syncProvider="aws", fluxVersion="2.8.x") == [
        "d1-fleet:syncProvider: 'aws' for a GitRepository needs Flux 2.9 or later, but "
        "fluxVersion is '2.8.x'; allowed: generic, azure or github"
    ]
    assert sync_problems(**GIT, syncProvider="aws", fluxVersion="2.9.x") == []
    assert sync_problems(**OCI, syncProvider="aws", fluxVersion="2.7.x") == []


_GIT_ALLOWED = (
    "an http://, https:// or ssh:// Git URL such as https://github.com/org/repo.git or "
    "ssh://git@github.com/org/repo.git (the GitRepository API refuses scp-like git@host:path)"
)


@pytest.mark.parametrize(
    "url",
    [
        "http://git.example.com/acme/fleet.git",
        "ssh://git@github.com/acme/d1-fleet.git",
        "https://github.com/acme/d1-fleet.git",
    ],
)
def test_git_urls_over_http_https_or_ssh_are_accepted(url: str) -> None:
    assert sync_problems(**{**GIT, "syncUrl": url}) == []


@pytest.mark.parametrize(
    "url", ["ftp://github.com/acme/fleet.git", "https:///acme/fleet.git", "github.com/acme/fleet"]
)
def test_other_git_urls_are_refused(url: str) -> None:
    assert sync_problems(**{**GIT, "syncUrl": url}) == [
        f"d1-fleet:syncUrl: {url!r} does not fit syncKind GitRepository; allowed: {_GIT_ALLOWED}"
    ]


def test_an_oci_url_is_refused_with_its_form() -> None:
    assert sync_problems(**{**OCI, "syncUrl": "ghcr.io/acme/fleet"}) == [
        "d1-fleet:syncUrl: 'ghcr.io/acme/fleet' does not fit syncKind OCIRepository; allowed: "
        "oci:// and a repository such as oci://ghcr.io/org/fleet, without a tag (the tag goes in "
        "syncRef)"
    ]


@pytest.mark.parametrize(
    "url", ["http://acme.blob.core.windows.net", "https://", "acme.blob.core.windows.net"]
)
def test_an_azure_bucket_needs_its_https_account_url(url: str) -> None:
    assert sync_problems(**{**AZURE, "syncUrl": url}) == [
        f"d1-fleet:syncUrl: {url!r} does not fit syncKind Bucket; allowed: the https:// URL of "
        "the Azure storage account, e.g. https://account.blob.core.windows.net"
    ]


def test_another_bucket_needs_a_host_without_a_scheme() -> None:
    assert sync_problems(**{**BUCKET, "syncUrl": "https://s3.amazonaws.com"}) == [
        "d1-fleet:syncUrl: 'https://s3.amazonaws.com' does not fit syncKind Bucket; allowed: a "
        "bucket endpoint host with an optional port and no scheme, e.g. s3.amazonaws.com or "
        "minio.example.com:9000"
    ]


@pytest.mark.parametrize("ref", ["main", "heads/main", "refs/heads/a..b"])
def test_a_git_ref_that_is_not_full_is_refused(ref: str) -> None:
    assert sync_problems(**{**GIT, "syncRef": ref}) == [
        f"d1-fleet:syncRef: {ref!r} is not a full Git ref; allowed: refs/heads/<branch>, "
        "refs/tags/<tag> or another full ref (the operator passes it to GitRepository "
        "spec.ref.name)"
    ]


@pytest.mark.parametrize("ref", ["refs/tags/v1.0.0", "refs/pull/7/head"])
def test_full_git_refs_are_accepted(ref: str) -> None:
    assert sync_problems(**{**GIT, "syncRef": ref}) == []


def test_an_oci_ref_is_a_tag() -> None:
    assert sync_problems(**{**OCI, "syncRef": ".v1"}) == [
        "d1-fleet:syncRef: '.v1' is not an OCI tag; allowed: letters, digits, '_', '.' and '-', "
        "at most 128 characters, not starting with '.' or '-', e.g. latest or v1.2.3"
    ]
    assert sync_problems(**{**OCI, "syncRef": "refs/heads/main"})


@pytest.mark.parametrize("sync", [BUCKET, AZURE])
def test_a_bucket_ref_is_a_bucket_name(sync: dict[str, str]) -> None:
    assert sync_problems(**{**sync, "syncRef": "Fleet"}) == [
        "d1-fleet:syncRef: 'Fleet' is not a bucket name; allowed: 3 to 63 lowercase letters, "
        "digits, '.', '_' and '-', starting and ending with a letter or digit"
    ]


@pytest.mark.parametrize("path", ["..", "../other", "clusters/../../other", "clusters/.."])
def test_a_path_leaving_the_source_is_refused(path: str) -> None:
    assert sync_problems(**{**GIT, "syncPath": path}) == [
        f"d1-fleet:syncPath: {path!r} leaves the source; allowed: a path inside it, e.g. "
        "clusters/staging"
    ]


@pytest.mark.parametrize("path", ["clusters/..staging", "./clusters/staging", "a...b/c"])
def test_a_path_with_dots_inside_names_is_accepted(path: str) -> None:
    assert sync_problems(**{**GIT, "syncPath": path}) == []
