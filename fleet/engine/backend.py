"""Which state backend a `pulumi` command run in the checkout uses, found as the CLI finds it.

The Pulumi CLI takes the first of (pulumi/pulumi `pkg/workspace/creds.go`,
`GetCurrentCloudURLWithSource`): `PULUMI_BACKEND_URL`, then `backend.url` in the project's
Pulumi.yaml, then the `current` backend of `pulumi login` in `~/.pulumi/credentials.json`
(`$PULUMI_HOME/credentials.json`). This project declares `backend.url` in Pulumi.yaml, so a bare
`pulumi stack ls` in the checkout and `fleet up` reach the same state whatever the user is logged
into; `fleet` never sets `PULUMI_BACKEND_URL` itself, so a user's override applies to both alike.

A relative `file://` path is made absolute against the CLI process's working directory
(`pkg/backend/diy/backend.go`, `massageBlobPath`: `filepath.Abs`), not against Pulumi.yaml's folder:
`fleet` runs the CLI from the project folder, and bare commands are meant to be run there too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

ENV: Final = "PULUMI_BACKEND_URL"
FILE: Final = "file://"


class BackendError(Exception):
    """The backend cannot be determined or prepared; the message says how to fix it."""


@dataclass(frozen=True)
class Backend:
    """The URL a CLI run uses (`file://` paths made absolute) and where it was read from."""

    url: str
    source: str  # PULUMI_BACKEND_URL, Pulumi.yaml, credentials.json or "" (none)

    @property
    def is_file(self) -> bool:
        return self.url.startswith(FILE)

    @property
    def path(self) -> Path:
        """The state folder of a `file://` backend."""
        return Path(self.url.removeprefix(FILE).split("?", 1)[0])


def project_url(project_dir: Path) -> str | None:
    """`backend.url` of the project's Pulumi.yaml, if it declares one."""
    path = project_dir / "Pulumi.yaml"
    if not path.is_file():
        return None
    document = yaml.safe_load(path.read_text()) or {}
    backend = document.get("backend") if isinstance(document, dict) else None
    url = backend.get("url") if isinstance(backend, dict) else None
    return str(url) if url else None


def stored_url(env: Mapping[str, str]) -> str | None:
    """The backend of `pulumi login` (credentials.json's `current`), if any."""
    home = Path(env["PULUMI_HOME"]) if env.get("PULUMI_HOME") else None
    if home is None and env.get("HOME"):
        home = Path(env["HOME"]) / ".pulumi"
    if home is None or not (home / "credentials.json").is_file():
        return None
    try:
        current = json.loads((home / "credentials.json").read_text()).get("current")
    except (ValueError, AttributeError):
        return None
    return str(current) if current else None


def absolute(url: str, cwd: Path) -> str:
    """A `file://` URL with `~` expanded and a relative path made absolute against `cwd`."""
    if not url.startswith(FILE):
        return url
    path, _, query = url.removeprefix(FILE).partition("?")
    folder = Path(path).expanduser()
    folder = folder if folder.is_absolute() else cwd / folder
    return f"{FILE}{folder.resolve()}" + (f"?{query}" if query else "")


def current(env: Mapping[str, str], cwd: Path) -> Backend:
    """The backend a `pulumi` command started in `cwd` with environment `env` uses."""
    if env.get(ENV):
        return Backend(absolute(env[ENV], cwd), ENV)
    if declared := project_url(cwd):
        return Backend(absolute(declared, cwd), "Pulumi.yaml")
    if stored := stored_url(env):
        return Backend(absolute(stored, cwd), "credentials.json")
    return Backend("", "")


def prepare(env: Mapping[str, str], cwd: Path) -> Backend:
    """The backend of a run from `cwd`; only the project's own state folder is created.

    The CLI refuses a `file://` folder that does not exist ("unable to open bucket ...: no such
    file or directory", pulumi/pulumi#15841); the checkout ships `.pulumi-state/.gitkeep` so bare
    commands work in a fresh clone. A folder named by PULUMI_BACKEND_URL or `pulumi login` is
    never created: a mistyped URL would otherwise open an empty state and plan to create everything.
    """
    found = current(env, cwd)
    if not found.url:
        raise BackendError(
            "no state backend: Pulumi.yaml declares none, PULUMI_BACKEND_URL is unset and "
            "`pulumi login` was never run; restore `backend: url:` in Pulumi.yaml or export "
            "PULUMI_BACKEND_URL"
        )
    if found.is_file:
        ensure_folder(found.path, own=found.source == "Pulumi.yaml", source=found.source)
    return found


def ensure_folder(folder: Path, *, own: bool, source: str) -> None:
    """Create the project's own state folder when missing; refuse a missing folder the user named."""
    if folder.is_dir():
        return
    if not own:
        raise BackendError(
            f"the state folder {folder} named by {source} does not exist; a mistyped URL would "
            "open an empty state and plan to create every resource: correct the URL, or create "
            f"the folder (mkdir -p {folder}) if a new state is meant"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BackendError(
            f"cannot create the state folder {folder} ({error.strerror}); "
            f"set {ENV} to a writable location"
        ) from None


def needs_passphrase(url: str) -> bool:
    """DIY backends (file, s3, gs, azblob, postgres) encrypt secrets with the passphrase provider."""
    return not url.startswith(("https://", "http://"))


def secrets_provider(stack_file: Path) -> str | None:
    """The stack file's `secretsprovider` (a KMS URL or "passphrase"), if it names one."""
    document = yaml.safe_load(stack_file.read_text()) or {}
    provider = document.get("secretsprovider") if isinstance(document, dict) else None
    return str(provider) if provider else None


def passphrase_missing(url: str, stack_file: Path, env: Mapping[str, str]) -> bool:
    """Whether a run on `url` would need the stack's passphrase and `env` gives none."""
    return (
        needs_passphrase(url)
        and secrets_provider(stack_file) in (None, "passphrase")
        and not env.get("PULUMI_CONFIG_PASSPHRASE")
        and not env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    )
