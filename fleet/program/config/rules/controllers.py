"""Rules on the Flux distribution: the components a stack needs, the version each needs, the registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from fleet.program import conventions as c
from fleet.program.config.formats import flux_minor
from fleet.program.config.rules.base import (
    KUSTOMIZE_CONTROLLER,
    SOURCE_CONTROLLER,
    Problem,
    Rules,
    Values,
    duplicates,
)

RULES: Final = Rules()

# Flux 2.7 made the image automation API v1 (GitRepository and Kustomization v1 exist in every
# Flux the operator supports).
IMAGE_AUTOMATION_MIN_MINOR: Final = 7

# Registries the Flux Operator maps to a variant itself; any other needs `fluxVariant`.
KNOWN_REGISTRIES: Final = (
    "fluxcd",
    "ghcr.io/fluxcd",
    "ghcr.io/controlplaneio-fluxcd/alpine",
    "ghcr.io/controlplaneio-fluxcd/distroless",
    "ghcr.io/controlplaneio-fluxcd/distroless-fips",
    "709825985650.dkr.ecr.us-east-1.amazonaws.com/controlplane/fluxcd",
)


@RULES.reads("flux_version", "flux_components", "image_automation")
def _components_need_flux_version(v: Values) -> Iterator[Problem]:
    minor = flux_minor(v["flux_version"])
    if minor is None:
        return
    if "source-watcher" in v["flux_components"] and minor < c.SOURCE_WATCHER_MIN_MINOR:
        # Blame what the user chose: the version when the component list is the default one.
        key = "fluxComponents" if v.changed("flux_components") else "fluxVersion"
        yield (
            key,
            f"fluxVersion {v['flux_version']!r} is too old for source-watcher (in fluxComponents"
            f"{'' if v.changed('flux_components') else ' by default'}), which needs Flux "
            f"2.{c.SOURCE_WATCHER_MIN_MINOR} or later; allowed: fluxVersion "
            f"2.{c.SOURCE_WATCHER_MIN_MINOR}.x or later, or fluxComponents without source-watcher",
        )
    if v["image_automation"] and minor < IMAGE_AUTOMATION_MIN_MINOR:
        yield (
            "imageAutomation",
            f"true needs Flux 2.{IMAGE_AUTOMATION_MIN_MINOR} or later (ImageUpdateAutomation "
            f"{c.IMAGE_AUTOMATION_API}), but fluxVersion is {v['flux_version']!r}; allowed: "
            f"fluxVersion 2.{IMAGE_AUTOMATION_MIN_MINOR}.x or later, or imageAutomation false",
        )


@RULES.reads("flux_components", "tenants", "platform_components", "image_automation", "sync_kind")
def _kinds_need_controllers(v: Values) -> Iterator[Problem]:
    components = set(v["flux_components"])
    # GitRepository flux-infra is always declared; Kustomizations come with components, tenants,
    # image automation and a FluxInstance sync.
    needs = {SOURCE_CONTROLLER: "GitRepository flux-infra"}
    kustomizations = [
        what
        for what, present in (
            ("platformComponents", bool(v["platform_components"])),
            ("tenants", bool(v["tenants"])),
            ("imageAutomation", v["image_automation"]),
            ("syncKind", v["sync_kind"] is not None),
        )
        if present
    ]
    if kustomizations:
        needs[KUSTOMIZE_CONTROLLER] = "the Kustomizations of " + ", ".join(kustomizations)
    for controller, reason in needs.items():
        if controller not in components:
            yield (
                "fluxComponents",
                f"{controller} is missing; the stack declares {reason}, which {controller} "
                f"serves; allowed: a list that includes {controller}",
            )


@RULES.reads("flux_components")
def _unique_components(v: Values) -> Iterator[Problem]:
    for name in duplicates(v["flux_components"]):
        yield ("fluxComponents", f"component {name!r} is listed more than once")


@RULES.reads("runtime_info")
def _unique_runtime_keys(v: Values) -> Iterator[Problem]:
    for key in duplicates(entry.partition("=")[0] for entry in v["runtime_info"]):
        yield ("runtimeInfo", f"key {key!r} is set more than once; allowed: each key once")


@RULES.reads("flux_registry", "flux_variant")
def _registry_needs_variant(v: Values) -> Iterator[Problem]:
    registry = v["flux_registry"].rstrip("/")
    if v["flux_variant"] is None and registry not in KNOWN_REGISTRIES:
        yield (
            "fluxRegistry",
            f"{registry!r} is not a registry the Flux Operator knows the variant of; allowed: "
            f"{', '.join(KNOWN_REGISTRIES)}, or any registry together with fluxVariant",
        )
