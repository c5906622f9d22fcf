"""Verify the flux-operator chart's cosign signature before a stack installs it.

d1 pulls the operator chart through an OCIRepository whose `verify` accepts only a keyless cosign
signature made by the charts repository's release workflow. `helm.v3.Release` has no such check,
so the deploy workflow (and anyone running `up` by hand) verifies the exact chart version a stack
pins with the same identity before `pulumi up`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Final

from fleet.program import conventions as c
from fleet.tools import cli_args, offline

# d1's OCIRepository `flux-operator` verify.matchOIDCIdentity.
OIDC_ISSUER: Final = r"^https://token\.actions\.githubusercontent\.com$"
OIDC_SUBJECT: Final = (
    r"^https://github\.com/controlplaneio-fluxcd/charts/\.github/workflows/release\.yml"
    r"@refs/tags/v\d+\.\d+\.\d+$"
)
COSIGN_HINT: Final = (
    "install cosign (https://docs.sigstore.dev/cosign/system_config/installation/, "
    "or `go install github.com/sigstore/cosign/v2/cmd/cosign@v2.4.1`)"
)


def chart_reference(version: str, chart: str = c.OPERATOR_CHART) -> str:
    """The OCI artifact cosign verifies: the chart's repository and the exact version."""
    return f"{chart.removeprefix('oci://')}:{version}"


def command(cosign: str, version: str) -> list[str]:
    return [
        cosign,
        "verify",
        "--certificate-oidc-issuer-regexp",
        OIDC_ISSUER,
        "--certificate-identity-regexp",
        OIDC_SUBJECT,
        chart_reference(version),
    ]


def stack_chart_version(project_dir: Path, stack: str) -> str:
    config = offline.stack_config(project_dir, stack)
    version = config.get(f"{c.PROJECT}:operatorChartVersion")
    if not version:
        raise LookupError(f"Pulumi.{stack}.yaml sets no {c.PROJECT}:operatorChartVersion")
    return version


def arguments(parser: argparse.ArgumentParser) -> None:
    cli_args.add_stack(parser)
    cli_args.add_project_dir(parser)


def run(args: argparse.Namespace) -> int:
    """0 when the signature verifies, 1 when it does not, 2 when it cannot be checked."""
    if not (args.project_dir / f"Pulumi.{args.stack}.yaml").is_file():
        known = ", ".join(offline.known_stacks(args.project_dir))
        print(
            f"error: no stack file Pulumi.{args.stack}.yaml; known stacks: {known}", file=sys.stderr
        )
        return 2
    try:
        version = stack_chart_version(args.project_dir, args.stack)
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    cosign = shutil.which("cosign")
    if cosign is None:
        print(f"error: cosign is not on PATH; {COSIGN_HINT}", file=sys.stderr)
        return 2
    result = subprocess.run(command(cosign, version), check=False)
    if result.returncode != 0:
        print(
            f"{args.stack}: the signature of {chart_reference(version)} does not verify; "
            "do not install it",
            file=sys.stderr,
        )
        return 1
    print(f"{args.stack}: {chart_reference(version)} is signed by the charts release workflow")
    return 0
