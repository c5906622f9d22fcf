"""`up` and `preview` of one cluster stack with the Pulumi CLI, after checks that fail fast.

A missing CLI, kube context or token would otherwise surface minutes into a run, or worse, after
the wrong cluster was contacted; these checks run first and say how to fix what is missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fleet.program import conventions as c
from fleet.program import kube_access
from fleet.program.tokens import TOKENS
from fleet.tools import offline

PROJECT_DIR = Path(__file__).resolve().parents[2]
INSTALL_HINT = (
    "install it from https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)"
)


class PreflightError(Exception):
    """Something the run needs is missing; the message says what and how to provide it."""


@dataclass(frozen=True)
class Plan:
    """What a run will do: the CLI, its environment and the config to set from the environment."""

    pulumi: str
    env: dict[str, str]
    secrets_from_env: dict[str, str]
    plain_from_env: dict[str, str]


def backend_url(env: Mapping[str, str], project_dir: Path) -> str:
    """PULUMI_BACKEND_URL, or a file backend inside the project (the embedded default)."""
    return env.get("PULUMI_BACKEND_URL") or f"file://{project_dir / '.pulumi-state'}"


def preflight(stack: str, env: Mapping[str, str], project_dir: Path = PROJECT_DIR) -> Plan:
    """Check the CLI, the stack file, the kube context and the tokens; collect every problem."""
    problems: list[str] = []
    pulumi = shutil.which("pulumi", path=env.get("PATH"))
    if pulumi is None:
        problems.append(f"the Pulumi CLI is not on PATH; {INSTALL_HINT}")

    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = sorted(
            p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml")
        )
        raise PreflightError(f"no stack file {stack_file.name}; known stacks: {', '.join(known)}")
    config = offline.stack_config(project_dir, stack)
    secure = offline.secure_keys(project_dir, stack)

    context = config.get(f"{c.PROJECT}:kubeContext")
    kubeconfig = config.get(f"{c.PROJECT}:kubeconfig")
    # The same check the program makes before registering anything, here before the CLI runs.
    problems.extend(
        f"{c.PROJECT}:{key}: {message}"
        for key, message in kube_access.problems(kubeconfig, context, env)
    )
    if not context and not kubeconfig:
        problems.append(f"{c.PROJECT}:kubeContext: not set in {stack_file.name}")

    secrets_from_env: dict[str, str] = {}
    plain_from_env: dict[str, str] = {}
    for source in TOKENS:
        key, variable, required = source.key, source.env, source.required
        full = f"{c.PROJECT}:{key}"
        if env.get(variable):
            # No token contains whitespace; a trailing newline from `echo` is not stored.
            secrets_from_env[full] = env[variable].strip()
        elif full not in secure and required:
            problems.append(
                f"{full}: no token; run `pulumi config set --secret {key} --stack {stack}` "
                f"or export {variable}"
            )
        expires = f"{full}Expires"
        if env.get(source.expires_env):
            plain_from_env[expires] = env[source.expires_env]
        elif (full in secure or env.get(variable)) and expires not in config:
            problems.append(
                f"{expires}: set the token's expiry date (YYYY-MM-DD) in config or {source.expires_env}"
            )

    run_env = dict(env)
    url = backend_url(env, project_dir)
    run_env["PULUMI_BACKEND_URL"] = url
    if url.startswith("file://"):
        Path(url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        if not env.get("PULUMI_CONFIG_PASSPHRASE") and not env.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
            problems.append(
                "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set; the file "
                "backend encrypts this stack's secrets with it"
            )
    if problems:
        raise PreflightError("cannot run:\n" + "\n".join(f"  - {p}" for p in problems))
    assert pulumi is not None
    return Plan(
        pulumi=pulumi, env=run_env, secrets_from_env=secrets_from_env, plain_from_env=plain_from_env
    )


def commands(plan: Plan, stack: str, action: str, extra: Sequence[str]) -> list[list[str]]:
    """The CLI calls of a run, in order (the token values go through stdin, never argv)."""
    calls = [[plan.pulumi, "stack", "select", "--create", stack]]
    calls += [
        [plan.pulumi, "config", "set", "--secret", key, "--stack", stack]
        for key in plan.secrets_from_env
    ]
    calls += [
        [plan.pulumi, "config", "set", key, value, "--stack", stack]
        for key, value in plan.plain_from_env.items()
    ]
    verb = [action, "--diff"] if action == "preview" else [action]
    calls.append([plan.pulumi, *verb, "--stack", stack, *extra])
    return calls


def execute(
    plan: Plan, stack: str, action: str, extra: Sequence[str], project_dir: Path = PROJECT_DIR
) -> int:
    for call in commands(plan, stack, action, extra):
        key = call[4] if call[1:4] == ["config", "set", "--secret"] else None
        value = plan.secrets_from_env[key] if key else None
        result = subprocess.run(
            call, cwd=project_dir, env=plan.env, input=value, text=True, check=False
        )
        if result.returncode != 0:
            return result.returncode
    return 0


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    """Preflight, then the Pulumi CLI; exit 2 when a check fails, else the CLI's exit code."""
    try:
        plan = preflight(args.stack, os.environ if env is None else env)
    except PreflightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return execute(plan, args.stack, args.command, args.pulumi_args)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stack", help="stack name, i.e. the <name> of Pulumi.<name>.yaml")
    parser.add_argument(
        "pulumi_args", nargs=argparse.REMAINDER, help="passed on to pulumi (e.g. --yes)"
    )
