"""`fleet init`: the first run of a cluster stack, either credential route.

It creates the stack in the project's backend (`pulumi stack select --create`), then stores each
credential the stack's `gitAuth` mode needs as encrypted stack config, with the tokens' expiry
dates beside them in plain config. A value comes from its environment variable (FLEET_*_TOKEN,
FLEET_GITHUB_APP_PRIVATE_KEY) or, in a terminal, from a prompt that does not echo (the optional
enterprise token only from FLEET_ENTERPRISE_TOKEN); it reaches the
CLI on standard input, never argv: `pulumi config set --secret KEY` without a value reads it from
stdin when stdin is not a terminal (pulumi/pulumi `pkg/cmd/pulumi/config/config.go`,
`configSetCmd.Run`, trailing newline removed). `--keep-in-env` is the other route: the stack is
created and nothing is stored; the variables must then be exported for every `fleet up`.

Each value is checked with the program's own format rules before it is stored, so a classic
token or a mistyped date is refused here, not minutes later in `pulumi up`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fleet.engine import backend, cli
from fleet.program import conventions as c
from fleet.program.config.sources import (
    APP_KEYS,
    TOKENS,
    environment_credentials,
    required_credentials,
)
from fleet.tools.offline import mock, stack_check

Ask = Callable[[str, bool], str]  # (prompt, hidden) -> answer; "" means skipped


class InitError(Exception):
    """The stack cannot be initialised; the message lists every problem and what to do."""


@dataclass(frozen=True)
class Entry:
    """One value to store: its config key, the value, whether it is secret."""

    key: str
    value: str = field(repr=False)  # never shown in a traceback or log
    secret: bool = False


def _problem(key: str, value: str) -> str | None:
    reason = stack_check.value_problem(key, value)
    return f"{c.PROJECT}:{key}: {reason}" if reason else None


def _date_problem(key: str, value: str) -> str | None:
    try:
        date.fromisoformat(value)
    except ValueError:
        return f"{c.PROJECT}:{key}: {value!r} is not a date YYYY-MM-DD"
    return None


def app_keys(config: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(key, variable, creation date key, whose) of each App key the stack needs
    (`sources.required_credentials`): the App's in App mode, the second App's for d1-apps."""
    needed = required_credentials(mock.project_values(config))
    return [(k.key, k.env, k.created_key, k.whose) for k in APP_KEYS if k.key in needed]


def plan_entries(
    stack: str,
    project_dir: Path,
    env: Mapping[str, str],
    ask: Ask | None,
    *,
    replace: bool = False,
) -> list[Entry]:
    """What `fleet init` stores for `stack`; raises InitError listing every problem.

    Credentials the stack file already holds encrypted are kept unless `replace`. `ask` is None
    when there is no terminal: a value must then come from the environment.
    """
    config = mock.stack_config(project_dir, stack)
    secure = mock.secure_keys(project_dir, stack)
    entries: list[Entry] = []
    problems: list[str] = []

    def value(key: str, variable: str | None, prompt: str, hidden: bool, required: bool) -> str:
        if variable and env.get(variable):
            return env[variable].strip()
        # An optional credential (the enterprise token) is stored only when exported.
        if ask is not None and required:
            return ask(prompt, hidden).strip()
        if required:
            source = (
                f"export {variable}"
                if variable
                else f"run `pulumi config set {key} <value> --stack {stack}`"
            )
            problems.append(
                f"{c.PROJECT}:{key}: not given; {source}, or run `fleet init -s {stack}` in a "
                "terminal"
            )
        return ""

    def stored(key: str) -> bool:
        return f"{c.PROJECT}:{key}" in secure and not replace

    for key, variable, created_key, whose in app_keys(config):
        if not stored(key):
            pem = value(key, variable, f"path of {whose} private key (.pem)", False, required=True)
            if pem and not pem.startswith("-----BEGIN"):
                path = Path(pem).expanduser()
                pem = path.read_text() if path.is_file() else ""
                if not pem:
                    problems.append(f"{c.PROJECT}:{key}: no file {path}")
            if pem:
                found = _problem(key, pem)
                problems += [found] if found else []
                entries.append(Entry(key, pem, secret=True))
        if not config.get(f"{c.PROJECT}:{created_key}"):
            created = value(
                created_key,
                None,
                f"date {whose} private key was created (YYYY-MM-DD)",
                False,
                required=True,
            )
            if created:
                found = _date_problem(created_key, created)
                problems += [found] if found else []
                entries.append(Entry(created_key, created, secret=False))
    needed = required_credentials(mock.project_values(config))
    taken = environment_credentials(mock.project_values(config))
    for source in TOKENS:
        if source.key not in taken:
            continue
        token = ""
        if not stored(source.key):
            token = value(
                source.key,
                source.env,
                f"{source.key} (fine-grained token github_pat_...; input hidden)",
                True,
                required=source.key in needed,
            )
            if token:
                found = _problem(source.key, token)
                problems += [found] if found else []
                entries.append(Entry(source.key, token, secret=True))
        has_token = token or f"{c.PROJECT}:{source.key}" in secure
        # A replaced token comes with its own date.
        if has_token and (token or not config.get(f"{c.PROJECT}:{source.expires_key}")):
            expires = value(
                source.expires_key,
                source.expires_env,
                f"{source.key} expires on (YYYY-MM-DD)",
                False,
                required=True,
            )
            if expires:
                found = _problem(source.expires_key, expires) or _date_problem(
                    source.expires_key, expires
                )
                problems += [found] if found else []
                entries.append(Entry(source.expires_key, expires, secret=False))
    if problems:
        raise InitError("cannot initialise:\n" + "\n".join(f"  - {p}" for p in problems))
    return entries


def commands(pulumi: str, stack: str, entries: list[Entry]) -> list[tuple[list[str], str | None]]:
    """The CLI calls, each with what it reads on stdin: secrets never appear in argv."""
    calls: list[tuple[list[str], str | None]] = [
        ([pulumi, "stack", "select", "--create", stack], None)
    ]
    for entry in entries:
        if entry.secret:
            calls.append(
                ([pulumi, "config", "set", "--secret", entry.key, "--stack", stack], entry.value)
            )
        else:
            # --plaintext: the CLI refuses a value it guesses is a secret under a key named like
            # one (`appsTokenExpires` matches `token`; pulumi pkg/cmd/pulumi/config/config.go,
            # `looksLikeSecret`), and some expiry dates score as one; the dates are not secrets.
            calls.append(
                (
                    [
                        pulumi,
                        "config",
                        "set",
                        "--plaintext",
                        entry.key,
                        entry.value,
                        "--stack",
                        stack,
                    ],
                    None,
                )
            )
    return calls


def _prerequisites(stack: str, env: Mapping[str, str], project_dir: Path) -> tuple[str, str]:
    """The CLI and the backend URL; raises InitError with every missing prerequisite."""
    problems: list[str] = []
    pulumi = cli.find(env)
    if pulumi is None:
        problems.append(cli.NOT_ON_PATH)
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = ", ".join(mock.known_stacks(project_dir)) or "none"
        raise InitError(
            f"no stack file {stack_file.name}; known stacks: {known} "
            "(docs/first-run.md#adding-a-cluster says how to write one)"
        )
    try:
        state = backend.prepare(env, project_dir)
    except backend.BackendError as error:
        raise InitError(str(error)) from None
    if backend.passphrase_missing(state.url, stack_file, env):
        problems.append(
            f"PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set; the backend "
            f"{state.url} encrypts the stack's secrets with it: choose a passphrase, keep it in "
            "your password manager and export it"
        )
    if problems:
        raise InitError("cannot initialise:\n" + "\n".join(f"  - {p}" for p in problems))
    assert pulumi is not None
    return pulumi, state.url


def terminal_ask(prompt: str, hidden: bool) -> str:
    """A prompt on the terminal; hidden input for secrets (getpass does not echo)."""
    return getpass.getpass(f"{prompt}: ") if hidden else input(f"{prompt}: ")


def initialise(
    stack: str,
    env: Mapping[str, str],
    project_dir: Path,
    ask: Ask | None,
    *,
    keep_in_env: bool = False,
    replace: bool = False,
) -> int:
    pulumi, url = _prerequisites(stack, env, project_dir)
    entries = [] if keep_in_env else plan_entries(stack, project_dir, env, ask, replace=replace)
    # The environment route stores nothing, but every run must find every variable.
    if keep_in_env and (missing := _environment_route_problems(stack, project_dir, env)):
        raise InitError("cannot initialise:\n" + "\n".join(f"  - {p}" for p in missing))
    print(f"{stack}: state backend {url}", file=sys.stderr)
    runner = cli.PulumiCli(pulumi, env, project_dir)
    for call, stdin in commands(pulumi, stack, entries):
        result = runner.passthrough(*call[1:], stdin=stdin)
        if result.returncode != 0:
            return result.returncode
    stored = ", ".join(e.key for e in entries) or "nothing (credentials stay in the environment)"
    print(f"{stack}: stack ready; stored {stored}")
    print(f"{stack}: next: fleet preview -s {stack}")
    return 0


def _environment_route_problems(stack: str, project_dir: Path, env: Mapping[str, str]) -> list[str]:
    config = mock.stack_config(project_dir, stack)
    secure = mock.secure_keys(project_dir, stack)
    problems = []
    for key, variable, _, whose in app_keys(config):
        if f"{c.PROJECT}:{key}" not in secure and not env.get(variable):
            problems.append(f"export {variable} ({whose} private key, PEM text)")
    needed = required_credentials(mock.project_values(config))
    for source in TOKENS:
        if source.key not in needed:
            continue
        full = f"{c.PROJECT}:{source.key}"
        if full not in secure and not env.get(source.env):
            problems.append(f"export {source.env} ({source.key})")
        if not config.get(f"{full}Expires") and not env.get(source.expires_env):
            problems.append(f"export {source.expires_env} (YYYY-MM-DD, when {source.key} expires)")
    return problems


def run(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    ask = terminal_ask if sys.stdin.isatty() else None
    try:
        return initialise(
            args.stack,
            env,
            args.project_dir,
            ask,
            keep_in_env=args.keep_in_env,
            replace=args.replace,
        )
    except InitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, EOFError):
        # The prompts come before any CLI call that stores a value.
        print(f"\n{args.stack}: cancelled; no credential was stored", file=sys.stderr)
        return 2
