"""Each bootstrap component, declared alone under mocks: the exact inputs its resources receive."""

from __future__ import annotations

import json

import pulumi

from fleet.program import conventions as c
from fleet.program.credentials import CredentialsArgs, GitCredentials, RegistryLogin
from fleet.program.instance import ClusterSpec, Distribution, FluxInstance, InstanceArgs, Sync
from fleet.program.namespace import FluxNamespace
from fleet.program.operator import FluxOperator, OperatorArgs
from fleet.program.runtime_info import RuntimeInfo, RuntimeInfoArgs
from fleet.tools.offline.mock import unwrap_secret
from tests.helpers import APPS_TOKEN, ENTERPRISE_TOKEN, PLATFORM_TOKEN, run_component

SECRET = "kubernetes:core/v1:Secret"


def credentials(enterprise: bool = False) -> GitCredentials:
    return GitCredentials(
        "credentials",
        CredentialsArgs(
            namespace="flux-system",
            platform_token=pulumi.Output.secret(PLATFORM_TOKEN),
            apps_token=pulumi.Output.secret(APPS_TOKEN),
            enterprise=RegistryLogin("ghcr.io", "flux", pulumi.Output.secret(ENTERPRISE_TOKEN))
            if enterprise
            else None,
        ),
    )


def test_namespace_is_flux_system() -> None:
    run = run_component(lambda: FluxNamespace("flux-system"))
    ns = run.get("kubernetes:core/v1:Namespace", "flux-system-namespace")
    assert ns.inputs["metadata"] == {"name": "flux-system"}


def test_credentials_git_secrets_match_flux_create_secret_git() -> None:
    run = run_component(credentials)
    platform = run.get(SECRET, "credentials-platform")
    apps = run.get(SECRET, "credentials-apps")
    # Forced applies: an adopted Secret's fields written by `flux create secret` never block a
    # rotation's preview (see credentials.FORCE_APPLY).
    force = {"pulumi.com/patchForce": "true"}
    assert platform.inputs["metadata"] == {
        "name": "flux-system",
        "namespace": "flux-system",
        "annotations": force,
    }
    assert apps.inputs["metadata"] == {
        "name": "flux-apps",
        "namespace": "flux-system",
        "labels": {"toolkit.fluxcd.io/tenant": "apps"},
        "annotations": force,
    }
    for secret, token in ((platform, PLATFORM_TOKEN), (apps, APPS_TOKEN)):
        assert secret.inputs["type"] == "Opaque"
        assert "data" not in secret.inputs, "tokens go through stringData, never base64 by hand"
        data, was_secret = unwrap_secret(secret.inputs["stringData"])
        assert was_secret, f"{secret.name}: stringData must stay a Pulumi secret"
        assert data == {"username": "git", "password": token, "token": token}
    assert len(run.of_type(SECRET)) == 2


def test_credentials_enterprise_pull_secret_is_dockerconfigjson_and_secret() -> None:
    run = run_component(lambda: credentials(enterprise=True))
    pull = run.get(SECRET, "credentials-enterprise")
    assert pull.inputs["metadata"] == {
        "name": "flux-enterprise-auth",
        "namespace": "flux-system",
        "annotations": {"pulumi.com/patchForce": "true"},
    }
    assert pull.inputs["type"] == "kubernetes.io/dockerconfigjson"
    data, was_secret = unwrap_secret(pull.inputs["stringData"])
    assert was_secret
    config = json.loads(data[".dockerconfigjson"])
    assert config["auths"]["ghcr.io"]["username"] == "flux"
    assert config["auths"]["ghcr.io"]["password"] == ENTERPRISE_TOKEN


def test_runtime_info_has_d1_metadata_and_keys() -> None:
    args = RuntimeInfoArgs(
        namespace="flux-system",
        environment="staging",
        git_branch="main",
        cluster_name="staging-1",
        cluster_domain="preview1.example.com",
        extra={"REGION": "eu"},
    )
    run = run_component(lambda: RuntimeInfo("runtime-info", args))
    cm = run.get("kubernetes:core/v1:ConfigMap", "runtime-info-configmap")
    assert cm.inputs["metadata"] == {
        "name": "flux-runtime-info",
        "namespace": "flux-system",
        "labels": {"toolkit.fluxcd.io/runtime": "true"},
        "annotations": {"kustomize.toolkit.fluxcd.io/ssa": "Merge"},
    }
    assert cm.inputs["data"] == {
        "ENVIRONMENT": "staging",
        "GIT_BRANCH": "main",
        "CLUSTER_NAME": "staging-1",
        "CLUSTER_DOMAIN": "preview1.example.com",
        "REGION": "eu",
    }


def test_operator_release_is_the_oci_chart_at_the_exact_version() -> None:
    args = OperatorArgs(namespace="flux-system", chart_version="0.58.1")
    run = run_component(lambda: FluxOperator("flux-operator", args))
    release = run.get("kubernetes:helm.sh/v3:Release", "flux-operator-release")
    assert release.inputs["name"] == "flux-operator"
    assert release.inputs["chart"] == "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator"
    assert release.inputs["version"] == "0.58.1"
    assert release.inputs["namespace"] == "flux-system"
    assert release.inputs["values"] == {
        "multitenancy": {"enabled": True, "defaultServiceAccount": "default"},
        "reporting": {"interval": "30s"},
    }


def instance_args(**changes: object) -> InstanceArgs:
    base = InstanceArgs(
        namespace="flux-system",
        distribution=Distribution(
            version="2.7.x", registry="ghcr.io/fluxcd", artifact=c.DEFAULT_FLUX_ARTIFACT
        ),
        components=c.DEFAULT_COMPONENTS,
        cluster=ClusterSpec(),
        ready_timeout_seconds=900,
    )
    return InstanceArgs(**{**base.__dict__, **changes})


def test_flux_instance_reproduces_d1_spec_and_waits_for_ready() -> None:
    run = run_component(lambda: FluxInstance("flux", instance_args()))
    cr = run.get("kubernetes:fluxcd.controlplane.io/v1:FluxInstance", "flux-instance")
    assert cr.inputs["apiVersion"] == "fluxcd.controlplane.io/v1"
    assert cr.inputs["kind"] == "FluxInstance"
    assert cr.inputs["metadata"] == {
        "name": "flux",
        "namespace": "flux-system",
        "annotations": {
            "pulumi.com/waitFor": "condition=Ready",
            "pulumi.com/timeoutSeconds": "900",
        },
    }
    spec = cr.inputs["spec"]
    assert spec["distribution"] == {
        "version": "2.7.x",
        "registry": "ghcr.io/fluxcd",
        "artifact": "oci://ghcr.io/controlplaneio-fluxcd/flux-operator-manifests:latest",
    }
    assert spec["components"] == [
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "notification-controller",
        "source-watcher",
    ]
    assert spec["cluster"] == {
        "type": "kubernetes",
        "multitenant": True,
        "tenantDefaultServiceAccount": "default",
        "networkPolicy": True,
        "domain": "cluster.local",
    }
    patches = spec["kustomize"]["patches"]
    assert [p["target"] for p in patches] == [
        {"kind": "Kustomization", "name": "flux-system"},
        {"kind": "Deployment", "name": "kustomize-controller"},
        {"kind": "Deployment", "name": "(kustomize-controller|helm-controller|source-controller)"},
        {"kind": "Deployment", "name": "source-controller"},
        {"kind": "Deployment", "name": "kustomize-controller"},
        {"kind": "Deployment", "name": "(kustomize-controller|helm-controller|source-controller)"},
    ]
    assert all(isinstance(p["patch"], str) for p in patches), "the CRD's patch field is a string"
    assert patches[0]["patch"] == (
        "- op: add\n  path: /spec/serviceAccountName\n  value: kustomize-controller\n"
    )
    assert "value: --requeue-dependency=10s" in patches[2]["patch"]
    assert "medium: Memory" in patches[4]["patch"]
    assert "memory: 2Gi" in patches[5]["patch"]
    assert "sync" not in spec, "no fleet-repo sync unless configured"


def test_flux_instance_optional_fields_and_sync() -> None:
    args = instance_args(
        distribution=Distribution(
            version="2.8.0",
            registry="ghcr.io/controlplaneio-fluxcd/distroless",
            variant="enterprise-distroless",
            image_pull_secret="flux-enterprise-auth",
        ),
        sync=Sync(
            kind="GitRepository",
            url="https://github.com/acme/d1-fleet.git",
            ref="refs/heads/main",
            path="clusters/staging",
            pull_secret="flux-system",
        ),
        patches=(),
    )
    run = run_component(lambda: FluxInstance("flux", args))
    spec = run.get("kubernetes:fluxcd.controlplane.io/v1:FluxInstance", "flux-instance").inputs[
        "spec"
    ]
    assert spec["distribution"] == {
        "version": "2.8.0",
        "registry": "ghcr.io/controlplaneio-fluxcd/distroless",
        "variant": "enterprise-distroless",
        "imagePullSecret": "flux-enterprise-auth",
    }
    assert spec["sync"] == {
        "kind": "GitRepository",
        "url": "https://github.com/acme/d1-fleet.git",
        "ref": "refs/heads/main",
        "path": "clusters/staging",
        "pullSecret": "flux-system",
    }
    assert "kustomize" not in spec


def test_component_depends_on_reaches_its_resources() -> None:
    def build() -> None:
        operator = FluxOperator("flux-operator", OperatorArgs("flux-system", "0.58.1"))
        FluxInstance("flux", instance_args(), opts=pulumi.ResourceOptions(depends_on=[operator]))

    run = run_component(build)
    cr = run.get("kubernetes:fluxcd.controlplane.io/v1:FluxInstance", "flux-instance")
    release = run.get("kubernetes:helm.sh/v3:Release", "flux-operator-release")
    # The SDK expands a dependency on a component into its resources: the release itself.
    assert release.urn in cr.dependencies, cr.dependencies
