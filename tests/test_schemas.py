"""Where the upstream schemas come from: FLEET_SCHEMAS_DIR, or a verified cache of pinned files."""

from __future__ import annotations

import hashlib
import urllib.error
from pathlib import Path

import pytest

from fleet.program import conventions as c
from fleet.tools.offline import conformance, schemas
from tests.helpers import ROOT

SHARED = ROOT.parent / "shared" / "schemas"


def content(pin: schemas.Pin) -> bytes:
    return f"upstream {pin.target}\n".encode()


def pinned_to(data: dict[str, bytes]) -> tuple[schemas.Pin, ...]:
    """PINS with hashes of the given fake contents, so a fake download verifies."""
    return tuple(
        schemas.Pin(
            p.repository, p.ref, p.source, p.target, hashlib.sha256(data[p.url]).hexdigest()
        )
        for p in schemas.PINS
    )


@pytest.fixture
def fake_upstream(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    data = {pin.url: content(pin) for pin in schemas.PINS}
    monkeypatch.setattr(schemas, "PINS", pinned_to(data))
    return data


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared/schemas beside this checkout")
def test_pins_match_the_shared_schemas() -> None:
    # The shared folder splits each Flux line's manifests into one file a CRD; the pins fetch the
    # manifests whole (test_a_flux_line_loads_from_a_whole_release_manifest).
    assert [p for p in schemas.stale(SHARED) if not p.target.startswith("flux/")] == []
    # flux/SOURCES.txt: "<X.Y.Z>: <n> CRDs from <repository> <tag> <commit> <path>".
    for line in (SHARED / "flux" / "SOURCES.txt").read_text().splitlines():
        release, _, rest = line.partition(": ")
        repository, tag, commit = rest.split()[3:6]
        assert (repository, commit) == schemas.FLUX_LINES_SOURCE, release
        assert tag == schemas.FLUX_LINES_RELEASE, release
        assert any(p.target.startswith(f"flux/{release}/") for p in schemas.PINS), release
    # SOURCES.txt: "<repository> <release> <commit>"; the pins fetch exactly those commits.
    sources = {
        line.split()[0]: line.split()[1:]
        for line in (SHARED / "crds" / "SOURCES.txt").read_text().splitlines()
        if line.strip()
    }
    for pin in schemas.PINS:
        if pin.target.startswith("crds/"):
            release, commit = sources[pin.repository]
            assert pin.ref == commit, pin.target
            assert schemas.RELEASES[pin.repository] == release, pin.target
    assert {p.name for p in (SHARED / "crds").glob("*.yaml")} == {
        Path(p.target).name for p in schemas.PINS if p.target.startswith("crds/")
    }


def test_fetch_writes_every_pinned_file_and_verifies_it(
    tmp_path: Path, fake_upstream: dict[str, bytes]
) -> None:
    fetched = schemas.fetch(tmp_path, fake_upstream.__getitem__)
    assert len(fetched) == len(schemas.PINS)
    assert schemas.stale(tmp_path) == []
    assert schemas.fetch(tmp_path, lambda url: pytest.fail(f"fetched {url} again")) == []


def test_fetch_refuses_a_file_whose_hash_differs(
    tmp_path: Path, fake_upstream: dict[str, bytes]
) -> None:
    pin = schemas.PINS[0]
    tampered = {**fake_upstream, pin.url: b"something else"}
    with pytest.raises(schemas.SchemasUnavailableError) as caught:
        schemas.fetch(tmp_path, tampered.__getitem__)
    assert f"{pin.url}: sha256 " in str(caught.value)
    assert not (tmp_path / pin.target).exists(), "a mismatching download is never written"


def test_no_network_fails_with_how_to_get_the_schemas(tmp_path: Path) -> None:
    calls: list[str] = []

    def offline(url: str) -> bytes:
        calls.append(url)
        raise urllib.error.URLError("Name or service not known")

    with pytest.raises(schemas.SchemasUnavailableError) as caught:
        schemas.fetch(tmp_path, offline)
    message = str(caught.value)
    assert len(calls) == 1, "no network: the other files are not tried one timeout each"
    assert "Name or service not known" in message
    assert "set $FLEET_SCHEMAS_DIR" in message
    assert "docs/conformance.md" in message


def test_schemas_come_from_the_environment_when_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(schemas.SCHEMAS_ENV, str(tmp_path))
    assert schemas.schemas_dir(lambda url: pytest.fail("nothing is fetched")) == tmp_path


def test_a_relative_schemas_folder_is_read_from_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As docs/conformance.md writes it (`.schemas`): absolute once read, so a command the tools
    run from another folder reads the same files."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(schemas.SCHEMAS_ENV, ".schemas")
    found = schemas.schemas_dir(lambda url: pytest.fail("nothing is fetched"))
    assert found == tmp_path.resolve() / ".schemas"
    assert found.is_absolute()


def test_schemas_otherwise_come_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_upstream: dict[str, bytes]
) -> None:
    monkeypatch.delenv(schemas.SCHEMAS_ENV, raising=False)
    monkeypatch.setattr(schemas, "CACHE_DIR", tmp_path / "cache")
    assert schemas.schemas_dir(fake_upstream.__getitem__) == tmp_path / "cache"
    assert schemas.stale(tmp_path / "cache") == []


def test_conformance_reports_unreachable_schemas(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(schemas.SCHEMAS_ENV, raising=False)
    monkeypatch.setattr(schemas, "CACHE_DIR", tmp_path / "cache")

    def unreachable(url: str) -> bytes:
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(schemas, "_download", unreachable)
    with pytest.raises(conformance.SchemasMissingError, match="cannot get the pinned upstream"):
        conformance.schemas_dir()


def test_the_cache_is_never_committed() -> None:
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert f"{schemas.CACHE_DIR.relative_to(ROOT)}/" in ignored


def test_default_flux_version_is_the_line_the_pinned_crds_describe() -> None:
    assert f"2.{schemas.flux_minor()}.x" == c.DEFAULT_FLUX_VERSION
    assert max(c.SUPPORTED_FLUX_MINORS) == schemas.flux_minor()
    assert min(c.SUPPORTED_FLUX_MINORS) == 7


def test_committed_stacks_keep_their_explicit_flux_version() -> None:
    for name in ("staging", "prod-eu"):
        assert "d1-fleet:fluxVersion: 2.7.x" in (ROOT / f"Pulumi.{name}.yaml").read_text()


def test_a_flux_line_loads_from_a_whole_release_manifest(tmp_path: Path) -> None:
    """The fetched files are the Flux Operator's manifests of each release (CRDs beside the
    controllers' Deployments, controlplaneio-fluxcd/flux-operator config/data/flux/v<X.Y.Z>/);
    conformance takes the CRDs out of them as it does from one-CRD files."""
    shared = conformance.schemas_dir()
    (tmp_path / "crds").mkdir()
    for path in (shared / "crds").glob("*.yaml"):
        (tmp_path / "crds" / path.name).write_text(path.read_text())
    line = tmp_path / "flux" / "2.7.5"
    line.mkdir(parents=True)
    deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: source-controller}\n"
    crds = [p.read_text() for p in sorted((shared / "flux" / "2.7.5").glob("source.*.yaml"))]
    (line / "source-controller.yaml").write_text("---\n".join([deployment, *crds]))
    whole = conformance.Schemas(tmp_path).for_flux("2.7.x")
    split = conformance.Schemas(shared).for_flux("2.7.x")
    key = ("source.toolkit.fluxcd.io", "GitRepository")
    assert whole.crds[key] == split.crds[key]
    assert whole.crds[key] != conformance.Schemas(shared).crds[key], "2.7 differs from crds/"
