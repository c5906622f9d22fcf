"""Git and registry credentials Flux uses, replacing d1's `flux create secret` bootstrap steps.

Token values arrive as Pulumi secrets and are written through `string_data`, so they stay secret in
the inputs Pulumi records and in the state. Changing a token in config updates the Secret in place:
the stack's provider sets `enable_secret_mutable` (`fleet.program.providers`), without which new
data would replace the Secret (delete, then create).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options


@dataclass(frozen=True)
class RegistryLogin:
    """Pull credentials for an enterprise Flux distribution registry."""

    registry: str
    username: str
    password: pulumi.Input[str]


@dataclass(frozen=True)
class CredentialsArgs:
    namespace: pulumi.Input[str]
    platform_token: pulumi.Input[str]
    apps_token: pulumi.Input[str]
    enterprise: RegistryLogin | None = None


def git_secret_data(token: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    # `token` repeats the password for the controllers that read it (commit status, image
    # automation); d1 had Kyverno copy it, here the stack writes it once.
    return {"username": c.GIT_USERNAME, "password": token, "token": token}


def _dockerconfigjson(login: RegistryLogin) -> pulumi.Output[str]:
    def render(password: str) -> str:
        auth = base64.b64encode(f"{login.username}:{password}".encode()).decode()
        entry = {"username": login.username, "password": password, "auth": auth}
        return json.dumps({"auths": {login.registry: entry}})

    return pulumi.Output.secret(pulumi.Output.from_input(login.password).apply(render))


class GitCredentials(pulumi.ComponentResource):
    """`flux-system`, `flux-apps` and, optionally, `flux-enterprise-auth` in `flux-system`."""

    secret_names: pulumi.Output[list[str]]

    def __init__(
        self,
        name: str,
        args: CredentialsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("fleet:flux:GitCredentials", name, None, opts)
        child = options.child(self, opts)
        self.platform = k8s.core.v1.Secret(
            f"{name}-platform",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=c.PLATFORM_SECRET, namespace=args.namespace),
            type="Opaque",
            string_data=git_secret_data(pulumi.Output.secret(args.platform_token)),
            opts=child,
        )
        # The apps tenant label is how d1 marks the secret every tenant namespace receives a copy of.
        self.apps = k8s.core.v1.Secret(
            f"{name}-apps",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=c.APPS_SECRET,
                namespace=args.namespace,
                labels={c.TENANT_LABEL: c.APPS_TENANT},
            ),
            type="Opaque",
            string_data=git_secret_data(pulumi.Output.secret(args.apps_token)),
            opts=child,
        )
        secrets = [self.platform, self.apps]
        self.enterprise: k8s.core.v1.Secret | None = None
        if args.enterprise is not None:
            self.enterprise = k8s.core.v1.Secret(
                f"{name}-enterprise",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=c.ENTERPRISE_SECRET, namespace=args.namespace
                ),
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": _dockerconfigjson(args.enterprise)},
                opts=child,
            )
            secrets.append(self.enterprise)
        self.resources = secrets
        self.secret_names = pulumi.Output.all(*(s.metadata.name for s in secrets))
        self.register_outputs({"secretNames": self.secret_names})
