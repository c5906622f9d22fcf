"""A recording stand-in for `pulumi.automation` at the ephemeral fleet's seam (`StackFactory`).

It behaves like a backend holding stacks: `create` fails for a taken name, `select` for a missing
one, and every call is appended to one journal so tests can assert on order across stacks. Failures
are injected per (operation, stack) as real SDK error types, raised once each in order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pulumi import automation as auto

from fleet.tools.ephemeral.backend import OnOutput

Call = tuple[str, str]


def command_error(
    kind: type[auto.CommandError] = auto.CommandError, stderr: str = "error: boom"
) -> auto.CommandError:
    """An SDK error as the SDK builds it, from a failed command's result."""
    return kind(auto.CommandResult(stdout="", stderr=stderr, code=255))


def good_outputs(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the program exports for a healthy stack with this config."""
    return {
        "clusterName": config.get("d1-fleet:clusterName"),
        "environment": config.get("d1-fleet:environment"),
        "fluxVersion": "2.7.x",
        "operatorChartVersion": "0.58.1",
        "tokenDaysLeft": {"platform": 120, "apps": 120},
        "secretNames": ["flux-system", "flux-apps"],
        "runtimeConfigMap": "flux-runtime-info",
    }


@dataclass
class FakeStackState:
    settings: auto.StackSettings = field(
        default_factory=lambda: auto.StackSettings(encryption_salt="v1:salt-from-init")
    )
    env: dict[str, str] = field(default_factory=dict)  # the workspace's env_vars
    env_at_up: dict[str, str] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, Any] | None = None
    resources: int = 0
    policy_packs: list[str] | None = None  # given to the last `up`


@dataclass
class FakeBackend:
    """The stacks of one backend, plus the journal of every call made to them."""

    stacks: dict[str, FakeStackState] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    failures: dict[Call, list[BaseException]] = field(default_factory=dict)
    last_update: dict[str, datetime] = field(default_factory=dict)
    on_up: Callable[[str, OnOutput | None], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Every value handed to set_config/set_all_config (stack or workspace), which the Automation
    # API passes to `pulumi config set` on its command line: (stack, key, value).
    config_calls: list[tuple[str, str, str]] = field(default_factory=list)

    def set_values(self, name: str, config: Mapping[str, auto.ConfigValue]) -> None:
        """Record values set through the CLI's command line, and store them as plain config."""
        self.record("set_config", name)
        state = self.stacks[name]
        stored = dict(state.settings.config or {})
        for key, value in config.items():
            self.config_calls.append((name, key, value.value))
            stored[key] = value.value
        state.settings = auto.StackSettings(
            secrets_provider=state.settings.secrets_provider,
            encrypted_key=state.settings.encrypted_key,
            encryption_salt=state.settings.encryption_salt,
            config=stored,
        )

    def fail(self, op: str, name: str, *errors: BaseException) -> None:
        self.failures.setdefault((op, name), []).extend(errors)

    def record(self, op: str, name: str) -> None:
        with self.lock:
            self.calls.append((op, name))
            pending = self.failures.get((op, name))
            error = pending.pop(0) if pending else None
        if error is not None:
            raise error

    def ops(self, name: str) -> list[str]:
        return [op for op, stack in self.calls if stack == name]

    def named(self, op: str) -> list[str]:
        return [stack for called, stack in self.calls if called == op]

    # StackFactory
    def create(self, name: str) -> FakeStack:
        self.record("create", name)
        with self.lock:
            if name in self.stacks:
                raise command_error(auto.StackAlreadyExistsError, f"stack '{name}' already exists")
            self.stacks[name] = FakeStackState()
        return FakeStack(name, self)

    def select(self, name: str) -> FakeStack:
        self.record("select", name)
        if name not in self.stacks:
            raise command_error(auto.StackNotFoundError, f"no stack named '{name}' found")
        return FakeStack(name, self)

    def list_stacks(self) -> list[auto.StackSummary]:
        self.record("list_stacks", "")
        return [
            auto.StackSummary(name, current=False, last_update=self.last_update.get(name))
            for name in self.stacks
        ]

    def list_tags(self, name: str) -> Mapping[str, str]:
        self.record("list_tags", name)
        return dict(self.stacks[name].tags)


@dataclass
class FakeWorkspace:
    backend: FakeBackend
    stack: str

    @property
    def env_vars(self) -> Mapping[str, str]:
        return self.backend.stacks[self.stack].env

    @env_vars.setter
    def env_vars(self, value: Mapping[str, str]) -> None:
        self.backend.stacks[self.stack].env = dict(value)

    def stack_settings(self, stack_name: str) -> auto.StackSettings:
        self.backend.record("stack_settings", stack_name)
        return self.backend.stacks[stack_name].settings

    def save_stack_settings(self, stack_name: str, settings: auto.StackSettings) -> None:
        self.backend.record("save_stack_settings", stack_name)
        self.backend.stacks[stack_name].settings = settings

    def set_config(
        self, stack_name: str, key: str, value: auto.ConfigValue, *, path: bool = False
    ) -> None:
        self.backend.set_values(stack_name, {key: value})

    def set_all_config(
        self, stack_name: str, config: auto.ConfigMap, *, path: bool = False
    ) -> None:
        self.backend.set_values(stack_name, config)

    def remove_stack(
        self,
        stack_name: str,
        force: bool | None = None,
        preserve_config: bool | None = None,
    ) -> None:
        self.backend.record("remove_stack", stack_name)
        if self.backend.stacks[stack_name].resources:
            raise command_error(stderr=f"'{stack_name}' still has resources; removal rejected")
        del self.backend.stacks[stack_name]


@dataclass
class FakeStack:
    """Stands in for `auto.Stack`: same method names and keywords, state kept in the backend."""

    name: str
    backend: FakeBackend

    @property
    def workspace(self) -> FakeWorkspace:
        return FakeWorkspace(self.backend, self.name)

    @property
    def state(self) -> FakeStackState:
        return self.backend.stacks[self.name]

    def up(
        self, *, on_output: OnOutput | None = None, policy_packs: list[str] | None = None
    ) -> object:
        self.backend.record("up", self.name)
        self.state.policy_packs = list(policy_packs or [])
        self.state.env_at_up = dict(self.state.env)
        if self.backend.on_up is not None:
            self.backend.on_up(self.name, on_output)
        if on_output is not None:
            on_output(f"Updating ({self.name})")
        self.state.resources = 12
        if self.state.outputs is None:
            self.state.outputs = good_outputs(self.state.settings.config or {})
        return None

    def refresh(self, *, on_output: OnOutput | None = None) -> object:
        self.backend.record("refresh", self.name)
        return None

    def destroy(self, *, on_output: OnOutput | None = None) -> object:
        self.backend.record("destroy", self.name)
        self.state.resources = 0
        return None

    def outputs(self) -> MutableMapping[str, auto.OutputValue]:
        self.backend.record("outputs", self.name)
        return {k: auto.OutputValue(v, secret=False) for k, v in (self.state.outputs or {}).items()}

    def set_tag(self, key: str, value: str) -> None:
        self.backend.record("set_tag", self.name)
        self.state.tags[key] = value

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None:
        self.backend.set_values(self.name, {key: value})

    def set_all_config(self, config: auto.ConfigMap, *, path: bool = False) -> None:
        self.backend.set_values(self.name, config)

    def get_all_config(self) -> auto.ConfigMap:
        self.backend.record("get_all_config", self.name)
        plain = self.state.settings.config or {}
        return {k: auto.ConfigValue(_as_cli_string(v)) for k, v in plain.items()}


def _as_cli_string(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
