"""Where the flux-operator chart comes from: the upstream OCI repository, a mirror of it, or a folder."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from fleet.program import conventions as c
from fleet.program.config.formats import oci_reference_ok


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
