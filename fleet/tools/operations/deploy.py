"""`up` and `preview` of one cluster stack with the Pulumi CLI, after checks that fail fast.

A preview ends with the `fleet review` summary of its changes (`make preview` prints it).

A missing CLI, kube context or token would otherwise surface minutes into a run, or worse, after
the wrong cluster was contacted; these checks run first and say how to fix what is missing. They
include the program's own configuration checks, run offline exactly as `fleet render` runs them
(`fleet.tools.offline.stack_check`), so a typo'd key or an expired token stops here with every problem
listed at once, and the program's warnings (a token about to expire) show before the CLI starts.
Tokens given as FLEET_*_TOKEN variables reach the program through the CLI's environment only: never
argv, and never the stack file (`fleet init` stores them there encrypted when asked to).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from fleet.engine import backend, cli, preview
from fleet.program import conventions as c
from fleet.program.config import kube_access
from fleet.program.config.keys import plain_text_problems
from fleet.program.config.sources import (
    APP_KEYS,
    TOKENS,
    environment_credentials,
    required_credentials,
)
from fleet.tools.offline import cli_config, mock, stack_check, stacks
from fleet.tools.views import review

PROJECT_DIR = stacks.PROJECT_DIR
# The policy pack every `up` and `preview` applies, as CI does (.github/workflows/deploy.yml). The
# CLI runs a local Python pack in the virtualenv its PulumiPolicy.yaml names and never creates it
# (pulumi/pulumi pkg/resource/plugin/analyzer_plugin.go `NewPolicyAnalyzer`, then the Python
# language host's `RunPlugin`), so the preflight checks it exists and `make policy` builds it.
POLICY_PACK: Final = cli.POLICY_PACK
POLICY_PYTHON: Final = Path(POLICY_PACK) / "venv" / "bin" / "python"


class PreflightError(Exception):
    """Something the run needs is missing; the message says what and how to provide it."""


@dataclass(frozen=True)
class Plan:
    """What a run will do: the CLI, the environment it runs with (tokens included), the backend
    the CLI will use and the program's warnings."""

    pulumi: str
    env: dict[str, str] = field(repr=False)
    tokens_from_env: tuple[str, ...] = ()
    backend: str = ""
    warnings: tuple[str, ...] = ()


def init_hint(stack: str, stored: str = "stores it encrypted in the stack config") -> str:
    return f"run `fleet init -s {stack}` ({stored})"


def preflight(
    stack: str, env: Mapping[str, str], project_dir: Path = PROJECT_DIR, *, policy: bool = True
) -> Plan:
    """Check the CLI, the stack file, the kube context, the tokens, the policy pack (unless
    `policy` is off: an import runs none) and the program's configuration checks; collect every
    problem."""
    problems: list[str] = []
    pulumi = cli.find(env)
    if pulumi is None:
        problems.append(cli.NOT_ON_PATH)

    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = mock.known_stacks(project_dir)
        raise PreflightError(
            f"no stack file {stack_file.name}; known stacks: {', '.join(known) or 'none'} "
            "(docs/first-run.md#adding-a-cluster says how to write one)"
        )
    config = mock.stack_config(project_dir, stack)
    secure = mock.secure_keys(project_dir, stack)

    context = config.get(f"{c.PROJECT}:kubeContext")
    kubeconfig = config.get(f"{c.PROJECT}:kubeconfig")
    # The same check the program makes before registering anything, here before the CLI runs.
    problems.extend(
        f"{c.PROJECT}:{key}: {message}"
        for key, message in kube_access.problems(kubeconfig, context, env)
    )
    if not context and not kubeconfig:
        problems.append(
            f"{c.PROJECT}:kubeContext: not set in {stack_file.name}; run "
            f"`pulumi config set kubeContext <context> --stack {stack}`"
        )

    tokens_from_env: list[str] = []
    # What this stack's mode reads (`required_credentials`): the tokens, or the App's key and,
    # for the apps repository, a second App's key or appsToken; a push token with image automation.
    short = mock.project_values(config)
    needed, taken = required_credentials(short), environment_credentials(short)
    keys = [(k.key, k.env) for k in APP_KEYS if k.key in needed]
    for name, variable in keys:
        full = f"{c.PROJECT}:{name}"
        if full in secure:
            continue
        if env.get(variable):
            tokens_from_env.append(full)
        elif full not in config:  # set in plain text: refused below, in the program's words
            problems.append(f"{full}: no App private key; {init_hint(stack)} or export {variable}")
    for source in TOKENS:
        key, variable, required = source.key, source.env, source.key in needed
        if key not in taken:
            continue
        full = f"{c.PROJECT}:{key}"
        if full not in secure and env.get(variable):
            tokens_from_env.append(full)
        elif full not in secure and full not in config and required:  # plain text: refused below
            problems.append(f"{full}: no token; {init_hint(stack)} or export {variable}")
        expires = f"{full}Expires"
        has_token = full in secure or env.get(variable)
        if has_token and not config.get(expires) and not env.get(source.expires_env):
            problems.append(
                f"{expires}: set the token's expiry date (YYYY-MM-DD): "
                f"{init_hint(stack, 'stores it in the stack config')} or "
                f"export {source.expires_env}"
            )
    if policy and not (project_dir / POLICY_PYTHON).is_file():
        problems.append(
            f"the policy pack's environment {POLICY_PYTHON.parent.parent} is missing; run "
            "`make policy` (every up and preview applies the pack in policy/)"
        )
    cli_refusals = _cli_rules(project_dir, stack)
    problems.extend(cli_refusals)
    warnings: tuple[str, ...] = ()
    # The program's checks run even when the CLI would refuse the stack, so a type error does not
    # hide the other problems; a key reported above is not reported again in other words.
    found = stack_check.check(project_dir, stack, env)
    reported = {_key_of(p) for p in problems} - {""}
    problems.extend(p for p in found.problems if p not in problems and _key_of(p) not in reported)
    if not cli_refusals:
        warnings = found.warnings

    try:
        state = backend.prepare(env, project_dir)
    except backend.BackendError as error:
        raise PreflightError(
            "cannot run:\n" + "\n".join(f"  - {p}" for p in [*problems, str(error)])
        ) from None
    if backend.passphrase_missing(state.url, stack_file, env):
        problems.append(
            "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set; the backend "
            f"{state.url} (from {state.source}) encrypts this stack's secrets with it: export "
            "the passphrase you chose when the stack was created (a new one for a new stack)"
        )
    if problems:
        raise PreflightError("cannot run:\n" + "\n".join(f"  - {p}" for p in problems))
    assert pulumi is not None
    return Plan(
        pulumi=pulumi,
        env=dict(env),
        tokens_from_env=tuple(tokens_from_env),
        backend=state.url,
        warnings=warnings,
    )


def _key_of(problem: str) -> str:
    """The short key a `d1-fleet:<key>: ...` message names ("" for other messages)."""
    prefix = f"{c.PROJECT}:"
    return problem.removeprefix(prefix).split(":", 1)[0] if problem.startswith(prefix) else ""


def _cli_rules(project_dir: Path, stack: str) -> list[str]:
    """What `pulumi preview` would refuse in Pulumi.yaml or the stack file, before it runs: the
    CLI's rules, and a secret key in plain text, which the program refuses in the same words."""
    config = mock.stack_config(project_dir, stack)
    secure = mock.secure_keys(project_dir, stack)
    prefix = f"{c.PROJECT}:"
    plain = [k.removeprefix(prefix) for k in config if k.startswith(prefix) and k not in secure]
    return [
        *cli_config.stack_problems(project_dir, stack, frozenset()),
        *plain_text_problems(plain, stack),
    ]


def select_command(plan: Plan, stack: str) -> list[str]:
    """Select the stack, creating it in the backend the first time (its stack file exists)."""
    return [plan.pulumi, "stack", "select", "--create", stack]


def commands(plan: Plan, stack: str, action: str, extra: Sequence[str]) -> list[list[str]]:
    """The CLI calls of a run, in order: the stack exists before anything uses it, and the
    policy pack judges every preview and update.

    The CLI prints either its diff or the JSON digest, never both, so a preview ends with a
    second, `--json` run whose digest `fleet review` summarises.
    """
    pack = ["--policy-pack", POLICY_PACK]
    verb = [action, "--diff"] if action == "preview" else [action]
    calls = [select_command(plan, stack), [plan.pulumi, *verb, *pack, "--stack", stack, *extra]]
    if action == "preview":
        # The pack here too: the digest the review reads is of the plan the pack judged.
        calls.append([plan.pulumi, "preview", "--json", *pack, "--stack", stack, *extra])
    return calls


def execute(
    plan: Plan, stack: str, action: str, extra: Sequence[str], project_dir: Path = PROJECT_DIR
) -> int:
    pulumi = cli.PulumiCli(plan.pulumi, plan.env, project_dir)
    for call in commands(plan, stack, action, extra):
        digest = "--json" in call
        result = pulumi.passthrough(*call[1:], capture=digest)
        if result.returncode != 0:
            return result.returncode
        if digest:
            return _print_review(result.stdout, project_dir)
    return 0


def _print_review(digest: str, project_dir: Path) -> int:
    """The `fleet review` summary of one preview, after the CLI's own output (no gate here)."""
    try:
        parsed = preview.parse(json.loads(digest), "pulumi preview --json")
    except (json.JSONDecodeError, preview.DigestError) as error:
        print(f"error: cannot summarise the preview: {error}", file=sys.stderr)
        return 2
    production = review.production_stacks(project_dir, [parsed.stack])
    print()
    print(review.review([parsed], production, acknowledged=False).markdown, end="")
    return 0


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    """Preflight, then the Pulumi CLI; exit 2 when a check fails, else the CLI's exit code."""
    stack: str = args.stack
    try:
        plan = preflight(stack, os.environ if env is None else env, args.project_dir)
    except PreflightError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{stack}: state backend {plan.backend}", file=sys.stderr)
    return execute(plan, stack, args.command, args.pulumi_args, args.project_dir)
