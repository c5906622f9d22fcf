"""The platform team's rules for every cluster stack, checked by `pulumi preview --policy-pack policy`.

Each rule is a plain function over a resource's type, properties and `protect` flag (or over all
resources, for the production rules) that returns violation messages, so tests call it directly with
passing and violating resources; the `Policy` objects at the bottom only adapt them to CrossGuard.

Properties arrive as the engine sends them: camelCase Kubernetes fields, and Pulumi secrets as
`pulumi_policy.Secret` markers once `keep_secret_markers()` is installed (the SDK unwraps secrets
before validation otherwise, which would hide whether a value is secret).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import deserialize as _wire
from pulumi_policy import policy as _analyzer

FLUX_NAMESPACE = "flux-system"
RUNTIME_CONFIGMAP = "flux-runtime-info"
OPERATOR_CHART = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
FLUX_INSTANCE = "kubernetes:fluxcd.controlplane.io/v1:FluxInstance"
WEBHOOK = "github:index/repositoryWebhook:RepositoryWebhook"
# Hub mode: the label on a spoke's objects, the spoke's cluster-wide account (bound to
# cluster-admin on the spoke, in the namespace named after the spoke) and the label giving a
# spoke's Kustomizations the spoke's environment (fleet.program.spoke_plan).
SPOKE_LABEL = "fleet.controlplane.io/spoke"
SPOKE_ADMIN_ACCOUNT = "flux-cluster-admin"
ENVIRONMENT_LABEL = "fleet.controlplane.io/environment"
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
# kustomize-controller deletes what a Kustomization applied unless its policy or prune says not to.
_ALWAYS_DELETES = ("Delete", "WaitForTermination")


@dataclass(frozen=True)
class Resource:
    """What the stack rules read of one resource."""

    type: str
    urn: str
    props: Mapping[str, Any]
    protect: bool


def reveal(value: Any) -> Any:
    """The value with every secret marker removed (for rules that read values, not secretness)."""
    if isinstance(value, Secret):
        return reveal(value.value)
    if isinstance(value, Mapping):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(v) for v in value]
    return value


def from_wire(props: Mapping[str, Any], proxy_secrets: bool = False) -> dict[str, Any]:
    """Engine (gRPC) properties as plain values, each secret kept as a `Secret` marker."""
    if proxy_secrets:  # remediations keep the SDK's own secret proxies
        return _wire.deserialize_properties(dict(props), True)
    return {key: _from_wire(value) for key, value in props.items()}


def _from_wire(value: Any) -> Any:
    if isinstance(value, list):
        return [_from_wire(v) for v in value]
    if isinstance(value, dict):
        signature = value.get(_wire.SPECIAL_SIG_KEY)
        if signature == _wire.SPECIAL_SECRET_SIG:
            return Secret(_from_wire(value.get("value")))
        if signature is not None:  # assets and archives
            return _wire.deserialize_properties({"value": value})["value"]
        return {k: _from_wire(v) for k, v in value.items()}
    return value


def keep_secret_markers() -> None:
    """Make the analyzer hand validations `Secret` markers instead of unwrapped secret values."""
    _analyzer.deserialize_properties = from_wire  # type: ignore[attr-defined]


def _kind(resource_type: str, kind: str, group: str) -> bool:
    prefix, _, type_kind = resource_type.rpartition(":")
    return type_kind == kind and prefix.startswith(f"kubernetes:{group}/")


def _namespace(props: Mapping[str, Any]) -> str:
    metadata = reveal(props.get("metadata")) or {}
    return str(metadata.get("namespace") or "default")


# --- tenant isolation ---------------------------------------------------------------------------


def tenant_cluster_roles(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No tenant account gets a ClusterRole cluster-wide, or cluster-admin even in its namespace.

    Tenant accounts are every ServiceAccount outside flux-system (where only the platform's own
    accounts live), and the `system:serviceaccounts[:<namespace>]` groups that contain them. On a
    hub, a spoke's ClusterRoleBinding of `flux-cluster-admin` in the spoke's own namespace is the
    spoke's platform account, as `flux-system` accounts are a cluster's: no tenant's.
    """
    if resource_type not in (CLUSTER_ROLE_BINDING, ROLE_BINDING):
        return []
    role = reveal(props.get("roleRef")) or {}
    if resource_type == ROLE_BINDING and role.get("name") != "cluster-admin":
        return []
    spoke = _spoke_admin_namespace(resource_type, props)
    tenants = [
        s
        for s in reveal(props.get("subjects")) or []
        if _is_tenant_subject(s) and not (spoke is not None and s == _spoke_admin_subject(spoke))
    ]
    how = "a ClusterRoleBinding" if resource_type == CLUSTER_ROLE_BINDING else "a RoleBinding"
    return [
        f"tenant {subject.get('kind')} {_subject_name(subject)} is bound to ClusterRole "
        f"{role.get('name')!r} through {how}; tenants get ClusterRole admin through a RoleBinding "
        "in their own namespace"
        for subject in tenants
    ]


def _spoke_admin_namespace(resource_type: str, props: Mapping[str, Any]) -> str | None:
    """The spoke a cluster-admin ClusterRoleBinding is labelled for, if it is one."""
    role = reveal(props.get("roleRef")) or {}
    if resource_type != CLUSTER_ROLE_BINDING or role.get("name") != "cluster-admin":
        return None
    labels = (reveal(props.get("metadata")) or {}).get("labels") or {}
    spoke = labels.get(SPOKE_LABEL)
    return str(spoke) if spoke and spoke != FLUX_NAMESPACE else None


def _spoke_admin_subject(spoke: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "name": SPOKE_ADMIN_ACCOUNT, "namespace": spoke}


def _is_tenant_subject(subject: Mapping[str, Any]) -> bool:
    if subject.get("kind") == "ServiceAccount":
        return subject.get("namespace") != FLUX_NAMESPACE
    name = str(subject.get("name", ""))
    return subject.get("kind") == "Group" and (
        name == "system:serviceaccounts"
        or (
            name.startswith("system:serviceaccounts:")
            and name != f"system:serviceaccounts:{FLUX_NAMESPACE}"
        )
    )


def _subject_name(subject: Mapping[str, Any]) -> str:
    namespace = subject.get("namespace")
    return f"{namespace}/{subject.get('name')}" if namespace else str(subject.get("name"))


def tenant_service_accounts(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Kustomizations and HelmReleases outside flux-system impersonate a named service account.

    Without `serviceAccountName` they run as the controller's default tenant account at best, and
    as the controller itself if the lockdown is ever lifted.
    """
    if not (
        _kind(resource_type, "Kustomization", "kustomize.toolkit.fluxcd.io")
        or _kind(resource_type, "HelmRelease", "helm.toolkit.fluxcd.io")
    ):
        return []
    namespace = _namespace(props)
    if namespace == FLUX_NAMESPACE:
        return []
    spec = reveal(props.get("spec")) or {}
    if spec.get("serviceAccountName"):
        return []
    kind = resource_type.rpartition(":")[2]
    return [f"{kind} in tenant namespace {namespace!r} sets no spec.serviceAccountName"]


# --- secrets ------------------------------------------------------------------------------------


# What a GitHub token or a private key looks like, wherever it is pasted.
_CREDENTIAL = re.compile(
    r"(github_pat_[A-Za-z0-9_]{20,}|\bgh[pousr]_[A-Za-z0-9]{36,}|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
)


def secrets_stay_secret(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Credentials only ever travel as Pulumi secrets, and only in Secrets or a webhook's secret.

    On a real engine pulumi-kubernetes marks a Secret's whole `data` and `stringData` secret
    before policies run, so the Secret half of this rule guards the program's own inputs (tests,
    other providers); the credential scan of every other resource is what catches a token pasted
    into a ConfigMap, a runtime value or a custom resource, which no provider masks.
    """
    if resource_type not in (SECRET, WEBHOOK):
        # Marked secret or not, a value outside a Secret is stored in plain text on the cluster
        # (and flux-runtime-info is copied into every tenant namespace).
        return [
            f"{path} holds a credential outside a Secret: keep it in a Secret, as a Pulumi secret"
            for path in _plain_credentials(reveal(props), "")
        ]
    if resource_type == SECRET:
        return [
            f"Secret {field}.{key} is not a Pulumi secret: wrap it with pulumi.Output.secret"
            for field in ("data", "stringData")
            for key in _plain_entries(props.get(field))
        ]
    if resource_type == WEBHOOK:
        configuration = props.get("configuration")
        if isinstance(configuration, Secret) or not isinstance(configuration, Mapping):
            return []
        if configuration.get("secret") is not None and not isinstance(
            configuration.get("secret"), Secret
        ):
            return ["RepositoryWebhook configuration.secret is not a Pulumi secret"]
    return []


def _plain_credentials(value: Any, path: str) -> Iterable[str]:
    """Paths of plain (non-secret) strings under `value` that look like credentials."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, Secret):
            continue
        if isinstance(item, str):
            if _CREDENTIAL.search(item):
                yield where or "."
        elif isinstance(item, Mapping):
            stack.extend((f"{where}.{key}" if where else str(key), v) for key, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))


def _plain_entries(data: Any) -> list[str]:
    if data is None or isinstance(data, Secret) or not isinstance(data, Mapping):
        return []
    return sorted(key for key, value in data.items() if not isinstance(value, Secret))


# --- Flux lockdown ------------------------------------------------------------------------------


def flux_lockdown(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """The FluxInstance keeps multitenant lockdown and its network policies."""
    if resource_type != FLUX_INSTANCE:
        return []
    cluster = (reveal(props.get("spec")) or {}).get("cluster") or {}
    return [
        f"FluxInstance spec.cluster.{key} must be true"
        for key in ("multitenant", "networkPolicy")
        if cluster.get(key) is not True
    ]


# --- production ---------------------------------------------------------------------------------


def environment(resources: Iterable[Resource]) -> str | None:
    """The stack's environment, as it publishes it in flux-system/flux-runtime-info."""
    for r in resources:
        metadata = reveal(r.props.get("metadata")) or {}
        if (
            r.type == CONFIG_MAP
            and metadata.get("name") == RUNTIME_CONFIGMAP
            and metadata.get("namespace") == FLUX_NAMESPACE
        ):
            return (reveal(r.props.get("data")) or {}).get("ENVIRONMENT")
    return None


def production_operator(resources: Sequence[Resource]) -> list[tuple[str, str]]:
    """Production pins the operator chart to an exact version and protects it and the FluxInstance."""
    if environment(resources) != "production":
        return []
    found: list[tuple[str, str]] = []
    releases = [
        r
        for r in resources
        if r.type == HELM_RELEASE
        and str(reveal(r.props.get("chart")) or "").endswith("/flux-operator")
    ]
    if not releases:
        found.append(("", "no flux-operator Helm release: production stacks declare it"))
    if not any(r.type == FLUX_INSTANCE for r in resources):
        found.append(("", "no FluxInstance: production stacks declare it"))
    for r in resources:
        if r.type == HELM_RELEASE and r in releases:
            version = str(reveal(r.props.get("version")) or "")
            if not _EXACT_VERSION.match(version):
                found.append((r.urn, f"operator chart version {version!r} is not an exact version"))
            if not r.protect:
                found.append((r.urn, "the flux-operator release must be protected in production"))
        if r.type == FLUX_INSTANCE and not r.protect:
            found.append((r.urn, "the FluxInstance must be protected in production"))
    return found


def production_deletions(resources: Sequence[Resource]) -> list[tuple[str, str]]:
    """Production Flux objects whose deletion deletes workloads are protected or orphan on delete.

    A hub's Kustomizations for a staging spoke delete workloads on that spoke only, and carry its
    environment as a label. A Kustomization deletes what it applied when its deletionPolicy is Delete or WaitForTermination,
    or (MirrorPrune, the default) when it prunes; a HelmRelease uninstalls its release.
    """
    if environment(resources) != "production":
        return []
    found: list[tuple[str, str]] = []
    for r in resources:
        if r.protect or _labelled_environment(r.props) not in (None, "production"):
            continue
        spec = reveal(r.props.get("spec")) or {}
        if _kind(r.type, "Kustomization", "kustomize.toolkit.fluxcd.io"):
            policy = spec.get("deletionPolicy") or "MirrorPrune"
            deletes = policy in _ALWAYS_DELETES or (policy == "MirrorPrune" and spec.get("prune"))
            if deletes and not spec.get("suspend"):
                found.append(
                    (
                        r.urn,
                        f"Kustomization with deletionPolicy {policy} and prune {spec.get('prune')} "
                        "deletes its workloads when deleted: protect it or set deletionPolicy Orphan",
                    )
                )
        elif _kind(r.type, "HelmRelease", "helm.toolkit.fluxcd.io"):
            found.append((r.urn, "HelmRelease uninstalls its release when deleted: protect it"))
    return found


def _labelled_environment(props: Mapping[str, Any]) -> str | None:
    """The environment a hub's spoke object deletes workloads in (its spoke's), if labelled."""
    labels = (reveal(props.get("metadata")) or {}).get("labels") or {}
    value = labels.get(ENVIRONMENT_LABEL)
    return str(value) if value is not None else None


# --- CrossGuard adapters ------------------------------------------------------------------------

ResourceRule = Callable[[str, Mapping[str, Any]], list[str]]
StackRule = Callable[[Sequence[Resource]], list[tuple[str, str]]]


def _resource_policy(name: str, rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        for message in rule(args.resource_type, args.props):
            report(message, None)

    return ResourceValidationPolicy(
        name=name,
        description=(rule.__doc__ or name).splitlines()[0],
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def _stack_policy(name: str, rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [
            Resource(r.resource_type, r.urn, r.props, bool(r.opts.protect)) for r in args.resources
        ]
        for urn, message in rule(resources):
            report(message, urn or None)

    return StackValidationPolicy(
        name=name,
        description=(rule.__doc__ or name).splitlines()[0],
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


RESOURCE_RULES: dict[str, ResourceRule] = {
    "tenant-no-cluster-roles": tenant_cluster_roles,
    "tenant-flux-objects-name-service-account": tenant_service_accounts,
    "secrets-stay-secret": secrets_stay_secret,
    "flux-instance-lockdown": flux_lockdown,
}
STACK_RULES: dict[str, StackRule] = {
    "production-operator-pinned-and-protected": production_operator,
    "production-flux-deletions-keep-workloads": production_deletions,
}
POLICIES: list[Policy] = [
    *(_resource_policy(name, rule) for name, rule in RESOURCE_RULES.items()),
    *(_stack_policy(name, rule) for name, rule in STACK_RULES.items()),
]
