"""Admission rules for tenant namespaces, enforced by the API server itself (Kubernetes 1.30+).

d1 relies on Kyverno, installed by the platform, for two things this stack needs from the first
tenant reconcile on, before any platform component is Ready: tenants' HelmRepositories must be OCI
(d1's `validate-apps-sources`), and the copies of `flux-apps` and `flux-runtime-info` in tenant
namespaces have one owner. The stack declares those copies; d1-infra's Kyverno policy
`sync-flux-configmaps` would generate the same ConfigMap (and d1-fleet's `generate-apps-secrets`
the same Secret), which makes Pulumi's create fail with AlreadyExists or shows Kyverno's changes
as drift. A ValidatingAdmissionPolicy refuses Kyverno's generated copies there (they carry its
`generate.kyverno.io/*` labels), so the stack stays the only writer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options

_ADMISSION = k8s.admissionregistration.v1

OCI_SOURCES_POLICY = "flux-apps-oci-helm-repositories"
STACK_COPIES_POLICY = "flux-apps-stack-owned-copies"

# CEL run by the API server; `object` is the object being created or updated.
OCI_ONLY = "has(object.spec.type) && object.spec.type == 'oci'"
OCI_MESSAGE = "spec.type must be oci"
IS_STACK_COPY = (
    f"(request.resource.resource == 'configmaps' && object.metadata.name == '{c.RUNTIME_CONFIGMAP}')"
    f" || (request.resource.resource == 'secrets' && object.metadata.name == '{c.APPS_SECRET}')"
)
NOT_GENERATED = (
    "!has(object.metadata.labels) || "
    "!object.metadata.labels.exists(k, k.startsWith('generate.kyverno.io/'))"
)
COPIES_MESSAGE = (
    f"{c.APPS_SECRET} and {c.RUNTIME_CONFIGMAP} in tenant namespaces are declared by the Pulumi "
    "stack; Kyverno must not generate them (remove d1-infra's sync-flux-configmaps)"
)


@dataclass(frozen=True)
class GuardrailsArgs:
    # Namespaces the policies apply to: the apps tenant label d1 puts on every tenant namespace.
    tenant_label: tuple[str, str] = (c.TENANT_LABEL, c.APPS_TENANT)


class TenantGuardrails(pulumi.ComponentResource):
    """Two ValidatingAdmissionPolicies and their Deny bindings, scoped to tenant namespaces."""

    bindings: list[k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding]

    def __init__(
        self, name: str, args: GuardrailsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:tenants:TenantGuardrails", name, None, opts)
        child = options.child(self, opts)
        key, value = args.tenant_label
        tenants = k8s.meta.v1.LabelSelectorArgs(match_labels={key: value})
        self.oci_sources = self._policy(
            f"{name}-oci-sources",
            OCI_SOURCES_POLICY,
            _ADMISSION.ValidatingAdmissionPolicySpecArgs(
                failure_policy="Fail",
                match_constraints=_ADMISSION.MatchResourcesArgs(
                    namespace_selector=tenants,
                    resource_rules=[
                        _ADMISSION.NamedRuleWithOperationsArgs(
                            api_groups=["source.toolkit.fluxcd.io"],
                            api_versions=["*"],
                            operations=["CREATE", "UPDATE"],
                            resources=["helmrepositories"],
                        )
                    ],
                ),
                validations=[
                    _ADMISSION.ValidationArgs(
                        expression=OCI_ONLY, message=OCI_MESSAGE, reason="Forbidden"
                    )
                ],
            ),
            child,
        )
        self.stack_copies = self._policy(
            f"{name}-stack-copies",
            STACK_COPIES_POLICY,
            _ADMISSION.ValidatingAdmissionPolicySpecArgs(
                failure_policy="Fail",
                match_constraints=_ADMISSION.MatchResourcesArgs(
                    namespace_selector=tenants,
                    resource_rules=[
                        _ADMISSION.NamedRuleWithOperationsArgs(
                            api_groups=[""],
                            api_versions=["v1"],
                            operations=["CREATE", "UPDATE"],
                            resources=["configmaps", "secrets"],
                        )
                    ],
                ),
                match_conditions=[
                    _ADMISSION.MatchConditionArgs(name="stack-copy", expression=IS_STACK_COPY)
                ],
                validations=[
                    _ADMISSION.ValidationArgs(
                        expression=NOT_GENERATED, message=COPIES_MESSAGE, reason="Forbidden"
                    )
                ],
            ),
            child,
        )
        self.bindings = [
            self._binding(
                f"{name}-oci-sources-binding", OCI_SOURCES_POLICY, self.oci_sources, child
            ),
            self._binding(
                f"{name}-stack-copies-binding", STACK_COPIES_POLICY, self.stack_copies, child
            ),
        ]
        self.register_outputs({})

    @staticmethod
    def _policy(
        name: str,
        policy: str,
        spec: k8s.admissionregistration.v1.ValidatingAdmissionPolicySpecArgs,
        opts: pulumi.ResourceOptions,
    ) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicy:
        return _ADMISSION.ValidatingAdmissionPolicy(
            name, metadata=k8s.meta.v1.ObjectMetaArgs(name=policy), spec=spec, opts=opts
        )

    @staticmethod
    def _binding(
        name: str,
        policy: str,
        target: k8s.admissionregistration.v1.ValidatingAdmissionPolicy,
        opts: pulumi.ResourceOptions,
    ) -> k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding:
        return _ADMISSION.ValidatingAdmissionPolicyBinding(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=policy),
            spec=_ADMISSION.ValidatingAdmissionPolicyBindingSpecArgs(
                policy_name=policy, validation_actions=["Deny"]
            ),
            # Applied after the policy it names, deleted before it.
            opts=options.after(opts, target),
        )
