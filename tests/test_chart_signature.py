"""`python -m fleet verify-chart`: cosign is asked for d1's identity and the stack's exact chart.

A stand-in `cosign` records its arguments; that proves the call and the exit codes, not that
Sigstore verifies (only a run with network access shows that).
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
import yaml

from fleet.cli import main
from fleet.engine.types import HELM_RELEASE
from fleet.tools.offline import mock
from fleet.tools.operations import chart_signature
from tests.helpers import stack_run

ROOT = Path(__file__).resolve().parent.parent


DIGEST = "sha256:" + "ab" * 32


def fake_cosign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exit_code: int, output: str = ""
) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "cosign.log"
    fake = bin_dir / "cosign"
    printed = f"printf '%s\\n' '{output}'\n" if output else ""
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n{printed}exit {exit_code}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    return record


def test_verify_chart_asks_cosign_for_d1s_identity_and_the_pinned_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = fake_cosign(tmp_path, monkeypatch, 0)
    assert main(["verify-chart", "staging"]) == 0
    args = record.read_text().splitlines()
    assert args == [
        "verify",
        "--certificate-oidc-issuer-regexp",
        r"^https://token\.actions\.githubusercontent\.com$",
        "--certificate-identity-regexp",
        r"^https://github\.com/controlplaneio-fluxcd/charts/\.github/workflows/release\.yml"
        r"@refs/tags/v\d+\.\d+\.\d+$",
        "ghcr.io/controlplaneio-fluxcd/charts/flux-operator:0.58.1",
    ]
    # The identity accepts the release workflow of a tag, nothing else.
    subject = re.compile(chart_signature.OIDC_SUBJECT)
    ok = "https://github.com/controlplaneio-fluxcd/charts/.github/workflows/release.yml@refs/tags/v0.58.1"
    assert subject.match(ok)
    assert not subject.match(ok.replace("controlplaneio-fluxcd/charts", "someone/charts"))
    assert not subject.match(ok.replace("refs/tags/v0.58.1", "refs/heads/main"))


def test_verify_chart_fails_when_the_signature_does_not_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cosign(tmp_path, monkeypatch, 1)
    assert main(["verify-chart", "staging"]) == 1
    assert "do not install it" in capsys.readouterr().err


def test_verify_chart_without_cosign_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["verify-chart", "staging"]) == 2
    assert "cosign is not on PATH" in capsys.readouterr().err


def test_deploy_verifies_the_chart_before_every_up() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())
    for job in ("staging", "production"):
        steps = workflow["jobs"][job]["steps"]
        runs = [str(step.get("run", "")) for step in steps]
        verify = next(i for i, run in enumerate(runs) if "fleet verify-chart" in run)
        up = next(i for i, step in enumerate(steps) if step.get("with", {}).get("command") == "up")
        assert verify < up, job


def test_verify_chart_of_an_unknown_stack_names_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["verify-chart", "prod-xx"]) == 2
    err = capsys.readouterr().err
    assert "no stack file Pulumi.prod-xx.yaml" in err
    assert "prod-eu, staging" in err


def test_verify_chart_of_a_stack_without_a_chart_version_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.bare.yaml").write_text("config:\n  d1-fleet:environment: staging\n")
    assert main(["verify-chart", "bare", "--project-dir", str(tmp_path)]) == 2
    assert "sets no d1-fleet:operatorChartVersion" in capsys.readouterr().err


def _project(tmp_path: Path, stack: str, extra: str = "") -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    text = (ROOT / f"Pulumi.{stack}.yaml").read_text() + extra
    (project / f"Pulumi.{stack}.yaml").write_text(text)
    return project


def test_verify_chart_verifies_the_pinned_digest_the_release_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    record = fake_cosign(tmp_path, monkeypatch, 0)
    project = _project(tmp_path, "prod-eu", f"  d1-fleet:operatorChartDigest: {DIGEST}\n")
    assert main(["verify-chart", "prod-eu", "--project-dir", str(project)]) == 0
    assert record.read_text().splitlines()[-1] == (
        f"ghcr.io/controlplaneio-fluxcd/charts/flux-operator@{DIGEST}"
    )
    assert f"flux-operator@{DIGEST} is signed" in capsys.readouterr().out


def test_verify_chart_refuses_a_production_stack_without_a_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tag verified now and pulled again by the provider later may be another artifact."""
    record = fake_cosign(tmp_path, monkeypatch, 0)
    assert main(["verify-chart", "prod-eu"]) == 1
    err = capsys.readouterr().err
    assert "pulumi config set operatorChartDigest sha256:<digest> --stack prod-eu" in err
    assert not record.exists()


def test_verify_chart_prints_the_verified_digest_to_pin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    output = '[{"critical":{"image":{"docker-manifest-digest":"' + DIGEST + '"}}}]'
    fake_cosign(tmp_path, monkeypatch, 0, output)
    assert main(["verify-chart", "staging"]) == 0
    assert f"`pulumi config set operatorChartDigest {DIGEST} --stack staging`" in (
        capsys.readouterr().out
    )


def test_the_release_installs_the_pinned_digest() -> None:
    """pulumi-kubernetes (provider/go.mod: helm.sh/helm/v3 v3.20.2) hands `chart` and `version`
    to Helm verbatim (provider/pkg/provider/helm_release.go, `chartPathOptionsFromRelease`,
    `locateChart`, `DownloadTo`); Helm's `registry.Client.ValidateReference`
    (pkg/registry/client.go) pulls `repository@digest` for a reference with a digest
    (`newReference`, pkg/registry/reference.go) and refuses a version tag that resolves to
    another digest; `OCIGetter.get` (pkg/getter/ocigetter.go) appends no tag to it."""
    pinned = stack_run("staging", {"operatorChartDigest": DIGEST})
    (release,) = pinned.of_type(HELM_RELEASE)
    assert (
        release.inputs["chart"]
        == f"oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator@{DIGEST}"
    )
    assert release.inputs["version"] == "0.58.1"
    (tag,) = stack_run("staging").of_type(HELM_RELEASE)
    assert tag.inputs["chart"] == "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator"
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", {"operatorChartDigest": "sha256:abc"})
    assert "d1-fleet:operatorChartDigest: 'sha256:abc' is invalid: allowed: a chart digest" in str(
        caught.value
    )
