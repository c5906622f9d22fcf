"""Where ephemeral stacks live, and the seam between the fleet logic and `pulumi.automation`.

The fleet code talks to `StackFactory` and `FleetStack`; the real factory returns the SDK's own
`Stack` objects for the project's local program, so tests can put a recording stand-in here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pulumi import automation as auto
from semver import VersionInfo

from fleet.engine import backend as state_backend
from fleet.engine import cli

INSTALL_URL = "https://www.pulumi.com/docs/install/"
# DIY backends keep stack tags since 3.211.0; older CLIs silently drop them, which would blind `gc`.
MIN_PULUMI = VersionInfo.parse("3.211.0")
STATE_DIR = ".pulumi-state"

OnOutput = Callable[[str], Any]


class StackWorkspace(Protocol):
    """The part of `auto.Workspace` the fleet uses."""

    env_vars: Mapping[str, str]

    def stack_settings(self, stack_name: str) -> auto.StackSettings: ...

    def save_stack_settings(self, stack_name: str, settings: auto.StackSettings) -> None: ...

    def remove_stack(
        self,
        stack_name: str,
        force: bool | None = None,
        preserve_config: bool | None = None,
    ) -> None: ...


class FleetStack(Protocol):
    """The part of `auto.Stack` the fleet uses."""

    @property
    def name(self) -> str: ...

    @property
    def workspace(self) -> StackWorkspace: ...

    def up(
        self, *, on_output: OnOutput | None = None, policy_packs: list[str] | None = None
    ) -> object: ...

    def refresh(self, *, on_output: OnOutput | None = None) -> object: ...

    def destroy(self, *, on_output: OnOutput | None = None) -> object: ...

    def outputs(self) -> MutableMapping[str, auto.OutputValue]: ...

    def set_tag(self, key: str, value: str) -> None: ...

    def get_all_config(self) -> auto.ConfigMap: ...


class StackFactory(Protocol):
    """Creates, finds and lists the project's stacks in one backend."""

    def create(self, name: str) -> FleetStack: ...

    def select(self, name: str) -> FleetStack: ...

    def list_stacks(self) -> list[auto.StackSummary]: ...

    def list_tags(self, name: str) -> Mapping[str, str]: ...


@dataclass
class AutomationFactory:
    """Stacks of the project's own `__main__.py`, run from `project_dir` (a local program).

    No project settings are passed, so Pulumi.yaml is never rewritten.
    """

    project_dir: Path
    env_vars: Mapping[str, str]
    pulumi_command: auto.PulumiCommand

    def _options(self) -> auto.LocalWorkspaceOptions:
        return auto.LocalWorkspaceOptions(
            env_vars=dict(self.env_vars), pulumi_command=self.pulumi_command
        )

    def _workspace(self) -> auto.LocalWorkspace:
        return auto.LocalWorkspace(
            work_dir=str(self.project_dir),
            env_vars=dict(self.env_vars),
            pulumi_command=self.pulumi_command,
        )

    def create(self, name: str) -> FleetStack:
        return auto.create_stack(name, work_dir=str(self.project_dir), opts=self._options())

    def select(self, name: str) -> FleetStack:
        return auto.select_stack(name, work_dir=str(self.project_dir), opts=self._options())

    def list_stacks(self) -> list[auto.StackSummary]:
        return self._workspace().list_stacks()

    def list_tags(self, name: str) -> Mapping[str, str]:
        return self._workspace().list_tags(name)


class PreflightError(Exception):
    """The environment cannot run the command; carries the exit code to use."""

    def __init__(self, message: str, *, tool_missing: bool) -> None:
        self.tool_missing = tool_missing
        super().__init__(message)


def backend_url(env: Mapping[str, str], project_dir: Path) -> str:
    """The backend bare `pulumi` uses in the project (PULUMI_BACKEND_URL, else Pulumi.yaml's
    `backend.url`, see `fleet.engine.backend`), else a `file://` folder in the project. Only the
    project's own folder is created; a missing folder named by PULUMI_BACKEND_URL is refused."""
    found = state_backend.current(env, project_dir)
    chosen = found.source in (state_backend.ENV, "Pulumi.yaml")
    url = found.url if chosen else f"file://{(project_dir / STATE_DIR).resolve()}"
    if url.startswith(state_backend.FILE):
        folder = state_backend.Backend(url, found.source).path
        try:
            state_backend.ensure_folder(
                folder, own=found.source != state_backend.ENV, source=state_backend.ENV
            )
        except state_backend.BackendError as error:
            raise PreflightError(str(error), tool_missing=False) from None
    return url


def find_project(start: Path) -> Path:
    """The nearest folder at or above `start` that holds Pulumi.yaml."""
    for folder in (start, *start.parents):
        if (folder / "Pulumi.yaml").is_file():
            return folder
    raise PreflightError(f"no Pulumi.yaml at or above {start}", tool_missing=False)


def preflight(env: Mapping[str, str], url: str) -> None:
    """Fail before any stack is touched if the CLI or the secrets passphrase is missing (both
    reported together)."""
    problems: list[str] = []
    missing_cli = cli.find({"PATH": env.get("PATH", os.defpath)}) is None
    if missing_cli:
        problems.append(
            "the Pulumi CLI (`pulumi`) is not on PATH. Install it "
            f"(version {MIN_PULUMI} or later) from {INSTALL_URL}, for example "
            "`curl -fsSL https://get.pulumi.com | sh`, then run this again."
        )
    if state_backend.needs_passphrase(url) and not (
        "PULUMI_CONFIG_PASSPHRASE" in env or "PULUMI_CONFIG_PASSPHRASE_FILE" in env
    ):
        problems.append(
            f"the backend {url} encrypts secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE "
            "(or PULUMI_CONFIG_PASSPHRASE_FILE) to the passphrase of this backend's stacks"
        )
    if problems:
        raise PreflightError("\n".join(problems), tool_missing=missing_cli)


def automation_factory(project_dir: Path, url: str) -> AutomationFactory:
    """The real factory; raises PreflightError if the CLI is not a usable version."""
    try:
        command = auto.PulumiCommand(version=MIN_PULUMI)
    except auto.InvalidVersionError as err:
        raise PreflightError(
            f"the Pulumi CLI cannot be used: {err} Install {MIN_PULUMI} or later from {INSTALL_URL}",
            tool_missing=True,
        ) from None
    env_vars = {"PULUMI_BACKEND_URL": url, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    return AutomationFactory(project_dir, env_vars, command)
