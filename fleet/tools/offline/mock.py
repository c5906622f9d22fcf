"""Run the program in-process under Pulumi's mock runtime and record what it declares.

This is how the project is verified without the Pulumi CLI, a cluster or GitHub: the real program
runs against a monitor that records every resource registration (inputs, parent, dependencies,
protect, provider) and the stack outputs. Tests and the offline render use it; it never talks to
a real engine, so what it returns is the desired state, not a preview against live objects.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import runpy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import mocks, rpc, settings, stack

from fleet.engine import types as t
from fleet.program import conventions as c
from fleet.program.config import kube_access
from fleet.tools.offline import cli_config

SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"

# The marker the SDK wraps secret values in when it serialises them.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


@dataclass(frozen=True)
class Registration:
    """One resource as the program registered it."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str
    dependencies: tuple[str, ...]
    protect: bool
    provider: str
    custom: bool
    retain_on_delete: bool = False
    ignore_changes: tuple[str, ...] = ()


@dataclass
class Recording:
    """Everything one program run declared."""

    resources: list[Registration] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> Registration:
        found = [r for r in self.resources if r.type == type_ and r.name == name]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources of type {type_} named {name!r}")
        return found[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)

    def kubernetes_objects(self) -> Iterator[Registration]:
        """Resources that become Kubernetes objects (not providers, components or Helm releases)."""
        for r in self.resources:
            if r.custom and r.type.startswith("kubernetes:") and r.type != t.HELM_RELEASE:
                yield r


def engine_urn(
    recording: Recording, resource: Registration, stack: str, project: str = c.PROJECT
) -> str:
    """The URN the engine gives `resource`: the types of all its parents below the stack, joined.

    The mock monitor names a resource by its parent's type only; the engine chains every parent's
    type, which is what a rename or re-parenting moves and an import file must reproduce.
    """
    recorded = {r.urn: r for r in recording.resources}  # the stack itself is not recorded
    types = [resource.type]
    owner = recorded.get(resource.parent)
    while owner is not None:
        types.append(owner.type)
        owner = recorded.get(owner.parent)
    return f"urn:pulumi:{stack}::{project}::{'$'.join(reversed(types))}::{resource.name}"


class ProgramError(Exception):
    """The program raised; `recording` holds whatever it registered before failing."""

    def __init__(self, error: BaseException, recording: Recording) -> None:
        super().__init__(str(error))
        self.error = error
        self.recording = recording


class _Mocks(pulumi.runtime.Mocks):
    """Echo inputs back as state, filling the outputs GitHub would compute."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == t.TEAM:
            state.setdefault("slug", str(args.inputs.get("name", args.name)).lower())
            return "4242", state
        if args.typ == t.RANDOM_PASSWORD:
            # A stand-in per resource name, as long as asked (the real one comes from the provider).
            seed = hashlib.sha256(args.name.encode()).hexdigest() * 4
            state["result"] = seed[: int(args.inputs.get("length", 16))]
        if args.typ == t.SECRET and args.inputs.get("type") == SERVICE_ACCOUNT_TOKEN:
            # What the token controller writes into the Secret (pulumi-kubernetes waits for it):
            # a stand-in token and CA per resource and Secret name, base64 as in `data`.
            metadata = args.inputs.get("metadata") or {}
            seed = hashlib.sha256(f"{args.name}/{metadata.get('name')}".encode()).hexdigest()
            state["data"] = {
                "token": base64.b64encode(f"token-{seed}".encode()).decode(),
                "ca.crt": base64.b64encode(f"ca-{seed[:16]}".encode()).decode(),
                "namespace": base64.b64encode(str(metadata.get("namespace")).encode()).decode(),
            }
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class _RecordingMonitor(mocks.MockMonitor):
    def __init__(self, recording: Recording) -> None:
        super().__init__(_Mocks())
        self.recording = recording

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the monitor's gRPC method)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != t.STACK:
            self.recording.resources.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=rpc.deserialize_properties(request.object),
                    parent=request.parent,
                    dependencies=tuple(request.dependencies),
                    protect=request.protect,
                    provider=request.provider,
                    custom=request.custom,
                    retain_on_delete=request.retainOnDelete,
                    ignore_changes=tuple(request.ignoreChanges),
                )
            )
        return response


class _WarningLog(logging.Handler):
    def __init__(self, recording: Recording) -> None:
        super().__init__(level=logging.WARNING)
        self.recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.WARNING:
            self.recording.warnings.append(record.getMessage())


def run(
    program: Callable[[], object],
    *,
    config: Mapping[str, str],
    stack_name: str,
    project: str = c.PROJECT,
    secret_keys: tuple[str, ...] = (),
    preview: bool = True,
    check_kube_access: bool = False,
    root_directory: Path | None = None,
) -> Recording:
    """Run `program` under mocks with the given full-key config; return what it declared.

    Each call gets its own event loop and runtime settings, so runs never leak into each other.
    There is no cluster here, so the program's check that its kubeconfig and kube context exist
    is off unless `check_kube_access` asks for it. `root_directory` is the project folder the
    engine hands a program (`pulumi.get_root_directory()`); unset, as in an inline program.
    """
    recording = Recording()
    kube_check = kube_access.ENABLED.set(check_kube_access)
    logger = logging.getLogger(f"fleet.tools.offline.mock.{id(recording)}")
    logger.propagate = False
    logger.addHandler(_WarningLog(recording))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        settings.reset_options()
        pulumi.runtime.set_all_config(dict(config), list(secret_keys))
        pulumi.runtime.set_mocks(
            _Mocks(),
            project=project,
            stack=stack_name,
            preview=preview,
            logger=logger,
            monitor=_RecordingMonitor(recording),
        )
        settings.SETTINGS.root_directory = str(root_directory) if root_directory else None
        try:
            loop.run_until_complete(stack.run_pulumi_func(lambda: _discard(program())))
        except Exception as error:
            raise ProgramError(error, recording) from error
        outputs = dict(settings.get_root_resource().outputs)  # type: ignore[union-attr]
        for key, value in outputs.items():
            output = pulumi.Output.from_input(value)
            recording.outputs[key] = loop.run_until_complete(output.future())
            if loop.run_until_complete(output.is_secret()):
                recording.secret_outputs.add(key)
    finally:
        settings.reset_options()
        pulumi.runtime.set_all_config({})
        kube_access.ENABLED.reset(kube_check)
        asyncio.set_event_loop(None)
        loop.close()
    return recording


def _discard(_: object) -> None:
    """The runtime awaits a program's return value when it is awaitable; programs here return none."""


def run_main(project_dir: Path, **kwargs: Any) -> Recording:
    """Run the project's real `__main__.py` under mocks, from where Pulumi runs it.

    That is the folder Pulumi.yaml's `main:` names (default: the project folder), with the
    project folder as the program's root directory (pulumi pkg/engine/project.go `getPwdMain`).
    The program reads the fleet's other stack files from there (webhook counts, the owner's
    GitHub objects), so a tool run from elsewhere must not see another folder's.
    """
    folder = program_folder(project_dir)
    main = folder / "__main__.py"
    with contextlib.chdir(folder):
        return run(
            lambda: runpy.run_path(str(main), run_name="__main__"),
            root_directory=project_dir.resolve(),
            **kwargs,
        )


def program_folder(project_dir: Path) -> Path:
    """The folder of the program Pulumi.yaml's `main:` names, relative to the project folder
    (the project folder itself without one)."""
    project_file = project_dir / "Pulumi.yaml"
    document = yaml.safe_load(project_file.read_text()) if project_file.is_file() else None
    main = document.get("main") if isinstance(document, dict) else None
    return (project_dir / str(main)).resolve() if main else project_dir.resolve()


def project_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """The project's keys of a stack's config by short key (`d1-fleet:tenants` -> `tenants`), as
    the program reads them; other namespaces' keys are left out."""
    prefix = f"{c.PROJECT}:"
    return {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}


def stack_config(project_dir: Path, stack_name: str) -> dict[str, str]:
    """The plain (non-secure) values of `Pulumi.<stack>.yaml` with Pulumi.yaml's defaults applied,
    as the CLI hands them to a program."""
    path = project_dir / f"Pulumi.{stack_name}.yaml"
    document = yaml.load(path.read_text(), Loader=yaml.BaseLoader) or {}
    values: dict[str, str] = {}
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and "secure" in value:
            continue
        full = key if ":" in key else f"{c.PROJECT}:{key}"
        values[full] = value if isinstance(value, str) else json.dumps(value)
    project_file = project_dir / "Pulumi.yaml"
    if not project_file.is_file():
        return values
    project = cli_config.load_project(cli_config.load_yaml(project_file.read_text()) or {})
    return cli_config.apply_defaults(project, values)


def secure_keys(project_dir: Path, stack_name: str) -> set[str]:
    """Full keys `Pulumi.<stack>.yaml` holds as encrypted (`secure:`) values."""
    path = project_dir / f"Pulumi.{stack_name}.yaml"
    document = yaml.safe_load(path.read_text()) or {}
    return {
        key
        for key, value in (document.get("config") or {}).items()
        if isinstance(value, dict) and "secure" in value
    }


def known_stacks(project_dir: Path) -> list[str]:
    """Stack names that have a `Pulumi.<stack>.yaml` in the project folder, sorted."""
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def unwrap_secret(value: Any) -> tuple[Any, bool]:
    """The plain value inside an SDK secret marker, and whether it was one."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == "1b47061264138c4ac30d75fd1eb44270":
        return value["value"], True
    return value, False
