"""How Flux authenticates to GitHub: the bot's fine-grained tokens, or a GitHub App.

Flux reads either mode from the same secrets (`flux-system`, `flux-apps` and the tenant copies);
only the keys differ. With an App, source-controller mints an installation token (valid for an hour)
from the App's private key, and it does so only when the GitRepository says `provider: github`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from fleet.program import conventions as c

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
