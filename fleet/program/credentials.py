"""How Flux authenticates to GitHub and registries: the credential kinds and the Secrets holding them.

Two modes write the same secrets (`flux-system`, `flux-apps` and the tenant copies) with different
keys: the bot's fine-grained tokens, or a GitHub App. With an App, source-controller mints an
installation token (valid for an hour) from the App's private key, and it does so only when the
GitRepository says `provider: github`. This replaces d1's `flux create secret` bootstrap steps.

Token values (or the GitHub App's private key) arrive as Pulumi secrets and are written through
`string_data`, so they stay secret in the inputs Pulumi records and in the state. Changing a token in
config updates the Secret in place: the stack's provider sets `enable_secret_mutable`
(`fleet.program.providers`), without which new data would replace the Secret (delete, then create).
pulumi-kubernetes turns `stringData` into `data` before it applies a Secret (clients.normalizeSecret,
since 4.0.2), so under server-side apply the stack's field manager owns the `data` keys declared
here, and a key it no longer declares (the other mode's keys, after switching between tokens and an
App) is removed when no other field manager owns it too. That holds for Secrets the stack created;
an adopted Secret (`flux create secret`, Kyverno's copies) keeps keys owned by those managers until
`fleet adopt` hands them to the stack (`fleet.tools.operations.adopt.hand_over`).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import options

# `spec.provider` of every GitRepository (and of the FluxInstance sync) in App mode.
GITHUB_PROVIDER = "github"

# Secret keys Flux reads App credentials from (fluxcd/pkg auth/githubapp).
APP_ID_KEY = "githubAppID"
INSTALLATION_ID_KEY = "githubAppInstallationID"
INSTALLATION_OWNER_KEY = "githubAppInstallationOwner"
PRIVATE_KEY_KEY = "githubAppPrivateKey"


@dataclass(frozen=True)
class GitHubApp:
    """A GitHub App installation Flux authenticates as; exactly one of installation id or owner."""

    app_id: int
    private_key: pulumi.Input[str]
    installation_id: int | None = None
    installation_owner: str | None = None


# What a Git secret is written from: a token, or an App.
GitCredential = pulumi.Input[str] | GitHubApp


def secret_data(credential: GitCredential) -> dict[str, pulumi.Input[str]]:
    """The string data of a Git secret; every value that grants access is a Pulumi secret."""
    if isinstance(credential, GitHubApp):
        data: dict[str, pulumi.Input[str]] = {APP_ID_KEY: str(credential.app_id)}
        if credential.installation_id is not None:
            data[INSTALLATION_ID_KEY] = str(credential.installation_id)
        else:
            data[INSTALLATION_OWNER_KEY] = credential.installation_owner or ""
        data[PRIVATE_KEY_KEY] = pulumi.Output.secret(credential.private_key)
        return data
    token = pulumi.Output.secret(credential)
    # `token` repeats the password for the controllers that read it (commit status, image
    # automation); d1 had Kyverno copy it, here the stack writes it once.
    return {"username": c.GIT_USERNAME, "password": token, "token": token}


def source_provider(credential: GitCredential) -> str | None:
    """`spec.provider` for a GitRepository authenticating with `credential` (unset for tokens)."""
    return GITHUB_PROVIDER if isinstance(credential, GitHubApp) else None


@dataclass(frozen=True)
class RegistryLogin:
    """Pull credentials for an enterprise Flux distribution registry."""

    registry: str
    username: str
    password: pulumi.Input[str]


@dataclass(frozen=True)
class CredentialsArgs:
    namespace: pulumi.Input[str]
    # A token each, or the same GitHub App for both.
    platform_token: GitCredential
    apps_token: GitCredential
    enterprise: RegistryLogin | None = None


def _dockerconfigjson(login: RegistryLogin) -> pulumi.Output[str]:
    def render(password: str) -> str:
        auth = base64.b64encode(f"{login.username}:{password}".encode()).decode()
        entry = {"username": login.username, "password": password, "auth": auth}
        return json.dumps({"auths": {login.registry: entry}})

    return pulumi.Output.secret(pulumi.Output.from_input(login.password).apply(render))


# The stack is the one owner of these Secrets, but one adopted from a d1 cluster keeps fields of
# the managers that wrote it (`flux create secret`, handed to `before-first-apply` by `fleet adopt`):
# pulumi-kubernetes takes those over only on a real update, and its preview's server-side dry run
# would report a conflict before any update could happen. Forcing applies of these Secrets lets a
# rotation's preview and `up` go through and moves every field it writes to the stack.
FORCE_APPLY: Final = {"pulumi.com/patchForce": "true"}


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
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=c.PLATFORM_SECRET, namespace=args.namespace, annotations=FORCE_APPLY
            ),
            type="Opaque",
            string_data=secret_data(args.platform_token),
            opts=child,
        )
        # The apps tenant label is how d1 marks the secret every tenant namespace receives a copy of.
        self.apps = k8s.core.v1.Secret(
            f"{name}-apps",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=c.APPS_SECRET,
                namespace=args.namespace,
                labels={c.TENANT_LABEL: c.APPS_TENANT},
                annotations=FORCE_APPLY,
            ),
            type="Opaque",
            string_data=secret_data(args.apps_token),
            opts=child,
        )
        secrets = [self.platform, self.apps]
        self.enterprise: k8s.core.v1.Secret | None = None
        if args.enterprise is not None:
            self.enterprise = k8s.core.v1.Secret(
                f"{name}-enterprise",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=c.ENTERPRISE_SECRET, namespace=args.namespace, annotations=FORCE_APPLY
                ),
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": _dockerconfigjson(args.enterprise)},
                opts=child,
            )
            secrets.append(self.enterprise)
        self.resources = secrets
        self.secret_names = pulumi.Output.all(*(s.metadata.name for s in secrets))
        self.register_outputs({"secretNames": self.secret_names})
