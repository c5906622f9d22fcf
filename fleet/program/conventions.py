"""Names, labels and values of the d1 reference architecture, kept in one place.

Flux users already know these conventions from d1-fleet; the components reproduce them exactly, so a
cluster run by this program looks like a d1 cluster to anyone who inspects it with kubectl or flux.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

PROJECT: Final = "d1-fleet"


class Environment(StrEnum):
    STAGING = "staging"
    PRODUCTION = "production"


class GitAuth(StrEnum):
    """How Flux authenticates to GitHub: the bot's fine-grained tokens, or a GitHub App."""

    TOKEN = "token"
    GITHUB_APP = "githubApp"


class DeletionPolicy(StrEnum):
    """What kustomize-controller does with what a Kustomization applied when the Kustomization goes.

    `auto` resolves per environment (the settings' `kustomization_deletion_policy`); the others
    are Flux's own `spec.deletionPolicy` values.
    """

    AUTO = "auto"
    ORPHAN = "Orphan"
    DELETE = "Delete"
    WAIT_FOR_TERMINATION = "WaitForTermination"
    MIRROR_PRUNE = "MirrorPrune"


# Namespaces and fixed object names that Flux or the Flux Operator look up by name.
FLUX_NAMESPACE: Final = "flux-system"
FLUX_INSTANCE_NAME: Final = "flux"  # the FluxInstance CRD rejects any other name
PLATFORM_SECRET: Final = "flux-system"
APPS_SECRET: Final = "flux-apps"
ENTERPRISE_SECRET: Final = "flux-enterprise-auth"
RUNTIME_CONFIGMAP: Final = "flux-runtime-info"
GIT_USERNAME: Final = "git"

# Labels and annotations.
TENANT_LABEL: Final = "toolkit.fluxcd.io/tenant"
APPS_TENANT: Final = "apps"
INFRA_TENANT: Final = "infra"
RUNTIME_LABEL: Final = "toolkit.fluxcd.io/runtime"
SSA_ANNOTATION: Final = "kustomize.toolkit.fluxcd.io/ssa"
ROLE_LABEL: Final = "toolkit.fluxcd.io/role"
AUTOMATION_ROLE: Final = "automation"

# Pulumi await annotations understood by pulumi-kubernetes' generic await logic.
WAIT_FOR_ANNOTATION: Final = "pulumi.com/waitFor"
TIMEOUT_ANNOTATION: Final = "pulumi.com/timeoutSeconds"

# Flux Operator chart and FluxInstance API.
OPERATOR_CHART: Final = "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator"
OPERATOR_RELEASE: Final = "flux-operator"
FLUX_INSTANCE_API_VERSION: Final = "fluxcd.controlplane.io/v1"
FLUX_INSTANCE_KIND: Final = "FluxInstance"

# The newest Flux line (the one the conformance CRDs describe); stacks pin their own explicitly.
DEFAULT_FLUX_VERSION: Final = "2.9.x"
DEFAULT_FLUX_REGISTRY: Final = "ghcr.io/fluxcd"
DEFAULT_FLUX_ARTIFACT: Final = "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:latest"
# Flux minor versions still supported (Flux supports its three newest lines; Flux Operator v0.58
# refuses anything outside 2.5 to 2.9).
SUPPORTED_FLUX_MINORS: Final = (7, 8, 9)
SOURCE_WATCHER_MIN_MINOR: Final = 7
# kustomize-controller v1.6 (Flux 2.6) added deletionPolicy WaitForTermination.
WAIT_FOR_TERMINATION_MIN_MINOR: Final = 6

FLUX_COMPONENTS: Final = (
    "source-controller",
    "kustomize-controller",
    "helm-controller",
    "notification-controller",
    "image-reflector-controller",
    "image-automation-controller",
    "source-watcher",
)
IMAGE_AUTOMATION_COMPONENTS: Final = (
    "image-reflector-controller",
    "image-automation-controller",
)
# d1's production FluxInstance: everything but the image automation controllers.
DEFAULT_COMPONENTS: Final = tuple(
    c for c in FLUX_COMPONENTS if c not in IMAGE_AUTOMATION_COMPONENTS
)

FLUX_VARIANTS: Final = (
    "upstream-alpine",
    "enterprise-alpine",
    "enterprise-distroless",
    "enterprise-distroless-fips",
)
CLUSTER_TYPES: Final = ("kubernetes", "openshift", "aws", "azure", "gcp")
SYNC_KINDS: Final = ("OCIRepository", "GitRepository", "Bucket")
SYNC_PROVIDERS: Final = ("generic", "aws", "azure", "gcp", "github")

# Values of the operator chart as d1's HelmRelease of the operator sets them.
OPERATOR_VALUES: Final = {
    "multitenancy": {"enabled": True, "defaultServiceAccount": "default"},
    "reporting": {"interval": "30s"},
}

GITHUB_URL: Final = "https://github.com"

# d1's platform components (monitoring before admission) and application tenants.
DEFAULT_PLATFORM_COMPONENTS: Final = ("monitoring", "admission: monitoring")
DEFAULT_TENANTS: Final = ("backend", "frontend")

# Image automation commit author used by d1.
BOT_AUTHOR_NAME: Final = "controlplaneio-fluxcd-bot"
BOT_AUTHOR_EMAIL: Final = "controlplaneio-fluxcd-bot@users.noreply.github.com"


def _json_patch(*ops: tuple[str, str, str]) -> str:
    """Render JSON6902 operations as the YAML string the FluxInstance `patch` field expects."""
    return "".join(f"- op: {op}\n  path: {path}\n  value: {value}\n" for op, path, value in ops)


_ARGS = "/spec/template/spec/containers/0/args/-"
_CORE = "(kustomize-controller|helm-controller|source-controller)"

# d1's FluxInstance kustomize patches, in d1's order. Each `patch` is a string, as the CRD requires.
D1_PATCHES: Final[tuple[dict[str, object], ...]] = (
    {
        "target": {"kind": "Kustomization", "name": "flux-system"},
        "patch": _json_patch(("add", "/spec/serviceAccountName", "kustomize-controller")),
    },
    {
        "target": {"kind": "Deployment", "name": "kustomize-controller"},
        "patch": _json_patch(("add", _ARGS, "--feature-gates=CancelHealthCheckOnNewRevision=true")),
    },
    {
        "target": {"kind": "Deployment", "name": _CORE},
        "patch": _json_patch(
            ("add", _ARGS, "--concurrent=10"),
            ("add", _ARGS, "--requeue-dependency=10s"),
        ),
    },
    {
        "target": {"kind": "Deployment", "name": "source-controller"},
        "patch": _json_patch(
            ("add", _ARGS, "--helm-cache-max-size=10"),
            ("add", _ARGS, "--helm-cache-ttl=60m"),
            ("add", _ARGS, "--helm-cache-purge-interval=5m"),
        ),
    },
    {
        "target": {"kind": "Deployment", "name": "kustomize-controller"},
        "patch": _json_patch(("add", _ARGS, "--no-remote-bases=true")) + "- op: replace\n"
        "  path: /spec/template/spec/volumes/0\n"
        "  value:\n"
        "    name: temp\n"
        "    emptyDir:\n"
        "      medium: Memory\n",
    },
    {
        "target": {"kind": "Deployment", "name": _CORE},
        "patch": "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: all\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: manager\n"
        "          resources:\n"
        "            limits:\n"
        "              cpu: 2000m\n"
        "              memory: 2Gi\n",
    },
)

# Flux APIs of the objects the FluxInstance's CRDs define.
GIT_REPOSITORY_API: Final = "source.toolkit.fluxcd.io/v1"
KUSTOMIZATION_API: Final = "kustomize.toolkit.fluxcd.io/v1"
IMAGE_AUTOMATION_API: Final = "image.toolkit.fluxcd.io/v1"

# Platform components (d1-fleet tenants/infra).
INFRA_SOURCE: Final = "flux-infra"
INFRA_SERVICE_ACCOUNT: Final = "flux-infra"
INFRA_UPDATE_KUSTOMIZATION: Final = "flux-infra-update-policies"
# Pulumi waits this long for each platform Kustomization, like d1's infra tenant (timeout 15m).
PLATFORM_READY_TIMEOUT_SECONDS: Final = 900

# Application tenants (d1-fleet tenants/apps).
APPS_SOURCE: Final = "flux-apps"
APPS_SERVICE_ACCOUNT: Final = "flux-apps"
APPS_UPDATE_NAMESPACE: Final = "apps-update"
TENANT_CLUSTER_ROLE: Final = "admin"

# d1's patch forcing tenants' HelmReleases and Kustomizations to impersonate the tenant account.
TENANT_SERVICE_ACCOUNT_PATCH: Final = _json_patch(
    ("add", "/spec/serviceAccountName", APPS_SERVICE_ACCOUNT)
)

# d1's image automation commit message.
AUTOMATION_MESSAGE_TEMPLATE: Final = """Automated image update

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind }} {{ $resource.Name }}
  Changes:
{{- range $_, $change := $changes }}
    - {{ $change.OldValue }} -> {{ $change.NewValue }}
{{ end -}}
{{ end -}}
"""


def repository_url(owner: str, repository: str) -> str:
    """The HTTPS clone URL Flux uses with the bot's basic-auth secret."""
    return f"{GITHUB_URL}/{owner}/{repository}.git"


# Webhook receivers (notification-controller).
RECEIVER_API: Final = "notification.toolkit.fluxcd.io/v1"
RECEIVER_TYPE: Final = "github"
# GitHub pings a webhook when it is created; a Receiver rejects events it does not list.
RECEIVER_EVENTS: Final = ("ping", "push")
WEBHOOK_EVENTS: Final = ("push",)
RECEIVER_SECRET_SUFFIX: Final = "-webhook-token"
RECEIVER_PATH_PREFIX: Final = "/hook/"
# The Service the Flux distribution puts in front of the notification-controller's receiver port.
RECEIVER_SERVICE: Final = "webhook-receiver"
RECEIVER_SERVICE_PORT: Final = 80
RECEIVER_INGRESS: Final = "webhook-receiver"
# Host of the receivers when receiverHost is unset: flux-webhook.<clusterDomain>.
RECEIVER_HOST_PREFIX: Final = "flux-webhook"
# GitHub accepts at most this many webhooks per repository and event.
GITHUB_WEBHOOK_LIMIT: Final = 20
