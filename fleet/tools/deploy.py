"""`up` and `preview` of one cluster stack with the Pulumi CLI, after checks that fail fast.

A missing CLI, kube context or token would otherwise surface minutes into a run, or worse, after
the wrong cluster was contacted; these checks run first and say how to fix what is missing.
Tokens given as FLEET_*_TOKEN variables reach the program through the CLI's environment only: never
argv, and never the stack file (where `pulumi config set --secret` would write them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fleet.program import conventions as c
from fleet.program.config import kube_access
from fleet.program.config.keys import plain_text_problems
from fleet.program.config.sources import (
    APP_PRIVATE_KEY,
    APP_PRIVATE_KEY_ENV,
    APPS_APP_ID,
    APPS_PRIVATE_KEY,
    APPS_PRIVATE_KEY_ENV,
    TOKENS,
)
from fleet.program.conventions import GitAuth
from fleet.tools import cli_config, offline
from fleet.tools.ephemeral.backend import needs_passphrase

PROJECT_DIR = Path(__file__).resolve().parents[2]
INSTALL_HINT = (
    "install it from https://www.pulumi.com/docs/install/ (curl -fsSL https://get.pulumi.com | sh)"
)


class PreflightError(Exception):
    """Something the run needs is missing; the message says what and how to provide it."""


@dataclass(frozen=True)
class Plan:
    """What a run will do: the CLI and the environment it runs with (tokens included)."""

    pulumi: str
    env: dict[str, str] = field(repr=False)
    tokens_from_env: tuple[str, ...] = ()


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

    tokens_from_env: list[str] = []
    # With a GitHub App the platform token is not needed, the App's private key is; the apps
    # repository is read with a second App (its key needed) or with appsToken.
    app = config.get(f"{c.PROJECT}:gitAuth") == GitAuth.GITHUB_APP
    apps_app = app and bool(config.get(f"{c.PROJECT}:{APPS_APP_ID}"))
    keys = [(APP_PRIVATE_KEY, APP_PRIVATE_KEY_ENV)] if app else []
    if apps_app:
        keys.append((APPS_PRIVATE_KEY, APPS_PRIVATE_KEY_ENV))
    for name, variable in keys:
        full = f"{c.PROJECT}:{name}"
        if full in secure:
            continue
        if env.get(variable):
            tokens_from_env.append(full)
        else:
            problems.append(
                f"{full}: no App private key; run `pulumi config set --secret "
                f"{name} --stack {stack} < key.pem` or export {variable}"
            )
    skipped = {"platformToken", *(("appsToken",) if apps_app else ())} if app else set()
    for source in TOKENS:
        key, variable, required = source.key, source.env, source.required
        if key in skipped:
            continue
        full = f"{c.PROJECT}:{key}"
        if full not in secure and env.get(variable):
            tokens_from_env.append(full)
        elif full not in secure and required:
            problems.append(
                f"{full}: no token; run `pulumi config set --secret {key} --stack {stack}` "
                f"or export {variable}"
            )
        expires = f"{full}Expires"
        has_token = full in secure or env.get(variable)
        if has_token and not config.get(expires) and not env.get(source.expires_env):
            problems.append(
                f"{expires}: set the token's expiry date (YYYY-MM-DD) in config or {source.expires_env}"
            )
    problems.extend(_cli_rules(project_dir, stack))

    run_env = dict(env)
    url = backend_url(env, project_dir)
    run_env["PULUMI_BACKEND_URL"] = url
    if url.startswith("file://"):
        Path(url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    if (
        needs_passphrase(url)
        and _secrets_provider(stack_file) in (None, "passphrase")
        and not env.get("PULUMI_CONFIG_PASSPHRASE")
        and not env.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    ):
        problems.append(
            "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set; the backend "
            f"{url} encrypts this stack's secrets with it"
        )
    if problems:
        raise PreflightError("cannot run:\n" + "\n".join(f"  - {p}" for p in problems))
    assert pulumi is not None
    return Plan(pulumi=pulumi, env=run_env, tokens_from_env=tuple(tokens_from_env))


def _secrets_provider(stack_file: Path) -> str | None:
    """The stack file's `secretsprovider` (a KMS URL or "passphrase"), if it names one."""
    document = yaml.safe_load(stack_file.read_text()) or {}
    provider = document.get("secretsprovider") if isinstance(document, dict) else None
    return str(provider) if provider else None


def _cli_rules(project_dir: Path, stack: str) -> list[str]:
    """What `pulumi preview` would refuse in Pulumi.yaml or the stack file, before it runs: the
    CLI's rules, and a secret key in plain text, which the program refuses in the same words."""
    config = offline.stack_config(project_dir, stack)
    secure = offline.secure_keys(project_dir, stack)
    prefix = f"{c.PROJECT}:"
    plain = [k.removeprefix(prefix) for k in config if k.startswith(prefix) and k not in secure]
    return [
        *cli_config.stack_problems(project_dir, stack, frozenset()),
        *plain_text_problems(plain, stack),
    ]


def commands(plan: Plan, stack: str, action: str, extra: Sequence[str]) -> list[list[str]]:
    """The CLI calls of a run, in order: the stack exists before anything uses it."""
    verb = [action, "--diff"] if action == "preview" else [action]
    return [
        [plan.pulumi, "stack", "select", "--create", stack],
        [plan.pulumi, *verb, "--stack", stack, *extra],
    ]


def execute(
    plan: Plan, stack: str, action: str, extra: Sequence[str], project_dir: Path = PROJECT_DIR
) -> int:
    for call in commands(plan, stack, action, extra):
        result = subprocess.run(call, cwd=project_dir, env=plan.env, check=False)
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
