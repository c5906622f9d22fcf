"""Rules on reaching the cluster and applying to it: the kube access keys, upserts, deletion."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.program import conventions as c
from fleet.program.config.formats import flux_minor
from fleet.program.config.rules.base import Problem, Rules, Values
from fleet.program.conventions import DeletionPolicy

RULES: Final = Rules()


@RULES.reads("kube_context", "kubeconfig")
def _cluster_access(v: Values) -> Iterator[Problem]:
    if not v["kube_context"] and not v["kubeconfig"]:
        yield (
            "kubeContext",
            "set kubeContext (or kubeconfig) so this stack can only reach its own cluster",
        )


@RULES.reads("upsert_existing_objects", "force_field_ownership")
def _upsert_needs_force(v: Values) -> Iterator[Problem]:
    # pulumi-kubernetes upserts by server-side apply, forced in preview (no live object yet) but
    # not in `up`: fields another manager (the flux CLI, kustomize-controller) set to other values
    # conflict there (provider/pkg/await/await.go, Creation and patchForce).
    if v["upsert_existing_objects"] and not v["force_field_ownership"]:
        yield (
            "upsertExistingObjects",
            "requires forceFieldOwnership: true: without it pulumi up fails with a server-side "
            "apply conflict on every field another manager (the flux CLI, kustomize-controller) "
            "set differently, while pulumi preview passes",
        )


@RULES.reads("operator_chart", "operator_chart_digest")
def _digest_needs_oci_chart(v: Values) -> Iterator[Problem]:
    # A digest pins an OCI manifest; a local chart folder has none, and `<folder>@sha256:...` is
    # no path Helm can open.
    if v["operator_chart_digest"] and not v["operator_chart"].startswith("oci://"):
        yield (
            "operatorChartDigest",
            "pins an OCI manifest, so operatorChart must be an oci:// repository, not a local folder",
        )


@RULES.reads("deletion_policy", "flux_version")
def _deletion_policy_needs_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if (
        v["deletion_policy"] is DeletionPolicy.WAIT_FOR_TERMINATION
        and minor is not None
        and minor < c.WAIT_FOR_TERMINATION_MIN_MINOR
    ):
        yield ("deletionPolicy", "WaitForTermination requires Flux 2.6 or later")
