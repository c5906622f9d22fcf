"""The CEL rules (`x-kubernetes-validations`) of the Flux CRDs, evaluated offline.

The API server runs these rules at admission, after the schema; a schema check alone would pass an
object the cluster then rejects. Each rule of the kinds a stack may declare is one predicate here,
keyed by the CRD's own kind, location and message, so a test can prove every rule of those CRDs is
checked and each predicate rejects what the rule rejects. No CEL engine is needed for rules this
small. Transition rules (`oldSelf`) compare with the object already stored, so they cannot be
evaluated offline; `is_transition` names them and conformance skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

Node = Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    """One CRD rule: where it sits in the object, its message, and a predicate that must hold."""

    kind: str
    path: tuple[str, ...]  # () is the object itself, ("spec", "sync") its spec.sync
    message: str
    holds: Callable[[Node], bool]


def has(node: Node, key: str) -> bool:
    """CEL `has(self.key)`: the field is set."""
    return node.get(key) is not None


def _exactly_one(node: Node, a: str, b: str) -> bool:
    return has(node, a) != has(node, b)


_KUBECONFIG = (
    "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified"
)
_OIDC = "generic-oidc"

RULES: Final[tuple[Rule, ...]] = (
    # Flux Operator: FluxInstance.
    Rule(
        "FluxInstance",
        (),
        "the only accepted name for a FluxInstance is 'flux'",
        lambda o: (o.get("metadata") or {}).get("name") == "flux",
    ),
    Rule(
        "FluxInstance",
        ("spec",),
        ".spec.storage must be set when .spec.sharding.storage is 'persistent'",
        lambda s: (s.get("sharding") or {}).get("storage") != "persistent" or has(s, "storage"),
    ),
    Rule(
        "FluxInstance",
        ("spec", "cluster"),
        ".objectLevelWorkloadIdentity must be set to true when .multitenantWorkloadIdentity "
        "is set to true",
        lambda c: (
            c.get("objectLevelWorkloadIdentity") is True
            or c.get("multitenantWorkloadIdentity") is not True
        ),
    ),
    Rule(
        "FluxInstance",
        ("spec", "sync"),
        "sync.provider 'gcp' is only supported for OCIRepository and Bucket",
        lambda s: s.get("provider") != "gcp" or s.get("kind") in ("OCIRepository", "Bucket"),
    ),
    Rule(
        "FluxInstance",
        ("spec", "sync"),
        "sync.provider 'github' is only supported for GitRepository",
        lambda s: s.get("provider") != "github" or s.get("kind") == "GitRepository",
    ),
    # source-controller: GitRepository.
    Rule(
        "GitRepository",
        ("spec",),
        "serviceAccountName can only be set when provider is 'azure' or 'aws'",
        lambda s: not has(s, "serviceAccountName") or s.get("provider") in ("azure", "aws"),
    ),
    # The same rule as Flux 2.7 and 2.8 have it, before AWS authentication (Flux 2.9).
    Rule(
        "GitRepository",
        ("spec",),
        "serviceAccountName can only be set when provider is 'azure'",
        lambda s: not has(s, "serviceAccountName") or s.get("provider") == "azure",
    ),
    # kustomize-controller: Kustomization (both halves of "exactly one" carry the same message).
    Rule(
        "Kustomization",
        ("spec", "kubeConfig"),
        _KUBECONFIG,
        lambda k: _exactly_one(k, "configMapRef", "secretRef"),
    ),
    # helm-controller: HelmRelease.
    Rule(
        "HelmRelease",
        ("spec",),
        "either chart or chartRef must be set",
        lambda s: _exactly_one(s, "chart", "chartRef"),
    ),
    Rule(
        "HelmRelease",
        ("spec", "install", "strategy"),
        ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
        lambda s: not has(s, "retryInterval") or s.get("name") != "RemediateOnFailure",
    ),
    Rule(
        "HelmRelease",
        ("spec", "kubeConfig"),
        _KUBECONFIG,
        lambda k: _exactly_one(k, "configMapRef", "secretRef"),
    ),
    Rule(
        "HelmRelease",
        ("spec", "upgrade", "strategy"),
        ".retryInterval can only be set when .name is 'RetryOnFailure'",
        lambda s: not has(s, "retryInterval") or s.get("name") == "RetryOnFailure",
    ),
    # notification-controller: Receiver and Provider.
    Rule(
        "Receiver",
        ("spec",),
        "generic-oidc receivers must define at least one oidcProvider",
        lambda s: s.get("type") != _OIDC or bool(s.get("oidcProviders")),
    ),
    Rule(
        "Receiver",
        ("spec",),
        "oidcProviders can only be set when type is generic-oidc",
        lambda s: s.get("type") == _OIDC or not s.get("oidcProviders"),
    ),
    Rule(
        "Receiver",
        ("spec",),
        "secretRef cannot be set when type is generic-oidc",
        lambda s: s.get("type") != _OIDC or not has(s, "secretRef"),
    ),
    Rule(
        "Receiver",
        ("spec",),
        "secretRef is required when type is not generic-oidc",
        lambda s: s.get("type") == _OIDC or has(s, "secretRef"),
    ),
    Rule(
        "Provider",
        ("spec",),
        "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', "
        "'bitbucketserver', 'bitbucket', 'azuredevops' provider types",
        lambda s: (
            not has(s, "commitStatusExpr")
            or s.get("type")
            in ("github", "gitlab", "gitea", "bitbucketserver", "bitbucket", "azuredevops")
        ),
    ),
    # image-reflector-controller: ImagePolicy.
    Rule(
        "ImagePolicy",
        ("spec",),
        "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'",
        lambda s: not has(s, "interval") or s.get("digestReflectionPolicy") == "Always",
    ),
    Rule(
        "ImagePolicy",
        ("spec",),
        "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'",
        lambda s: has(s, "interval") or s.get("digestReflectionPolicy") != "Always",
    ),
    # source-controller: HelmChart.
    Rule(
        "HelmChart",
        ("spec",),
        "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
        lambda s: (
            not has(s, "verify") or (s.get("sourceRef") or {}).get("kind") == "HelmRepository"
        ),
    ),
)


def is_transition(rule: str) -> bool:
    """Whether a CEL rule compares with the stored object, which only the API server has."""
    return "oldSelf" in rule


def rules_for(kind: str) -> tuple[Rule, ...]:
    return tuple(r for r in RULES if r.kind == kind)


def _at(obj: Node, path: tuple[str, ...]) -> Node | None:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node if isinstance(node, Mapping) else None


def violations(obj: Node) -> list[Rule]:
    """The rules of `obj`'s kind it breaks; a rule applies only where its field is set."""
    return [
        rule
        for rule in rules_for(str(obj.get("kind", "")))
        if (node := _at(obj, rule.path)) is not None and not rule.holds(node)
    ]
