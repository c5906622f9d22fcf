"""Verify the flux-operator chart's cosign signature before a stack installs it.

d1 pulls the operator chart through an OCIRepository whose `verify` accepts only a keyless cosign
signature made by the charts repository's release workflow. `helm.v3.Release` has no such check,
so the deploy workflow (and anyone running `up` by hand) verifies the chart a stack pins with the
same identity before `pulumi up`.

Verifying a tag and installing it later leaves a window: the tag may point elsewhere by the time
the provider pulls it. A stack that pins `operatorChartDigest` closes it: cosign verifies
`<chart>@<digest>` and the release installs that same digest (`fleet.program.operator`). A
production stack must pin it; a staging stack without one is verified by tag, and the digest
cosign verified is printed to pin.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from fleet.program import conventions as c
from fleet.program.conventions import Environment
from fleet.tools.offline import mock

# d1's OCIRepository `flux-operator` verify.matchOIDCIdentity.
OIDC_ISSUER: Final = r"^https://token\.actions\.githubusercontent\.com$"
OIDC_SUBJECT: Final = (
    r"^https://github\.com/controlplaneio-fluxcd/charts/\.github/workflows/release\.yml"
    r"@refs/tags/v\d+\.\d+\.\d+$"
)
PIN_KEY: Final = "operatorChartDigest"
COSIGN_HINT: Final = (
    "install cosign (https://docs.sigstore.dev/cosign/system_config/installation/, "
    "or `go install github.com/sigstore/cosign/v2/cmd/cosign@v2.4.1`)"
)


def chart_reference(version: str, chart: str = c.OPERATOR_CHART, digest: str | None = None) -> str:
    """The OCI artifact cosign verifies: the pinned digest, else the exact version's tag."""
    repository = chart.removeprefix("oci://")
    return f"{repository}@{digest}" if digest else f"{repository}:{version}"


def command(cosign: str, version: str, digest: str | None = None) -> list[str]:
    return [
        cosign,
        "verify",
        "--certificate-oidc-issuer-regexp",
        OIDC_ISSUER,
        "--certificate-identity-regexp",
        OIDC_SUBJECT,
        chart_reference(version, digest=digest),
    ]


def stack_chart_version(project_dir: Path, stack: str) -> str:
    config = mock.stack_config(project_dir, stack)
    version = config.get(f"{c.PROJECT}:operatorChartVersion")
    if not version:
        raise LookupError(f"Pulumi.{stack}.yaml sets no {c.PROJECT}:operatorChartVersion")
    return version


def stack_chart_digest(project_dir: Path, stack: str) -> str | None:
    value = mock.stack_config(project_dir, stack).get(f"{c.PROJECT}:operatorChartDigest")
    return str(value) if value else None


def _production(project_dir: Path, stack: str) -> bool:
    config = mock.stack_config(project_dir, stack)
    return str(config.get(f"{c.PROJECT}:environment")) == Environment.PRODUCTION


def _verified_digest(output: str) -> str | None:
    """The manifest digest in cosign's verification output (JSON, one document per signature)."""
    found = re.search(r'"docker-manifest-digest"\s*:\s*"(sha256:[a-f0-9]{64})"', output)
    return found.group(1) if found else None


def run(args: argparse.Namespace) -> int:
    """0 when the signature verifies, 1 when it does not, 2 when it cannot be checked."""
    if not (args.project_dir / f"Pulumi.{args.stack}.yaml").is_file():
        known = ", ".join(mock.known_stacks(args.project_dir))
        print(
            f"error: no stack file Pulumi.{args.stack}.yaml; known stacks: {known}", file=sys.stderr
        )
        return 2
    try:
        version = stack_chart_version(args.project_dir, args.stack)
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    digest = stack_chart_digest(args.project_dir, args.stack)
    reference = chart_reference(version, digest=digest)
    if digest is None and _production(args.project_dir, args.stack):
        print(
            f"{args.stack}: a production stack installs the chart by the digest verified here; "
            f"pin it: run `cosign verify` (or `crane digest {reference}`), then "
            f"`pulumi config set {PIN_KEY} sha256:<digest> --stack {args.stack}`",
            file=sys.stderr,
        )
        return 1
    cosign = shutil.which("cosign")
    if cosign is None:
        print(f"error: cosign is not on PATH; {COSIGN_HINT}", file=sys.stderr)
        return 2
    result = subprocess.run(
        command(cosign, version, digest), check=False, stdout=subprocess.PIPE, text=True
    )
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        print(
            f"{args.stack}: the signature of {reference} does not verify; do not install it",
            file=sys.stderr,
        )
        return 1
    print(f"{args.stack}: {reference} is signed by the charts release workflow")
    verified = _verified_digest(result.stdout)
    if digest is None and verified:
        # A tag may move between this check and the install: the digest pins what was verified.
        print(
            f"{args.stack}: pin what was verified: `pulumi config set {PIN_KEY} {verified} "
            f"--stack {args.stack}`"
        )
    return 0
