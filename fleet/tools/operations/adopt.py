"""`fleet adopt`: import a running cluster into its stack with the plan `offline.import_plan` writes.

Since pulumi-kubernetes 4.29 creating an object that already exists fails with AlreadyExists at
`up` (the preview stays green), and a cluster bootstrapped the d1 way already holds most of what a
stack declares; in GitHub the bot team, its grants and branch rules exist too. This module runs
the import (`--run`: the providers first, then `pulumi import --file`) and hands the adopted
Secrets over to the stack.

Adopted Secrets keep fields owned by the field managers that wrote them (`flux create secret` is
manager `flux`, Kyverno's copies are Kyverno's). Server-side apply only removes a key that its own
manager alone owns, so a key the stack stops declaring (the tokens, after a switch to a GitHub App)
would stay in `flux-system`, `flux-apps` and every tenant copy. `hand_over` renames every foreign
manager of an adopted Secret to `before-first-apply`, which pulumi-kubernetes takes over before
its next update (provider/pkg/await/await.go, fixCSAFieldManagers): from then on the stack owns
every key and prunes what it no longer declares.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from fleet.engine import cli, state
from fleet.tools.offline.import_plan import (
    AdoptError,
    ImportPlan,
    parse_ruleset_ids,
    parse_selection,
    plan_stack,
)
from fleet.tools.operations import deploy

# The field manager pulumi-kubernetes takes over on update, and the prefix of its own managers.
HANDOVER_MANAGER: Final = "before-first-apply"
STACK_MANAGER_PREFIX: Final = "pulumi-kubernetes"


def _merge_fields(into: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """Union of two FieldsV1 trees, whose every value is an object (a field's own entry `.`
    maps to `{}`)."""
    for key, value in fields.items():
        _merge_fields(into.setdefault(key, {}), value)


def handover_patch(live: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """A JSON patch giving the fields of every foreign field manager to `before-first-apply`.

    The stack's own entries and subresource entries stay; the others become one Update entry
    of `before-first-apply`, which the stack's provider takes over on its next update. None when
    there is nothing to hand over. The patch tests the resourceVersion, so a concurrent write
    fails it instead of being overwritten.
    """
    metadata = live["metadata"]
    entries: list[Mapping[str, Any]] = list(metadata.get("managedFields") or [])
    kept = [
        e
        for e in entries
        if str(e.get("manager", "")).startswith(STACK_MANAGER_PREFIX) or e.get("subresource")
    ]
    foreign = [e for e in entries if e not in kept]
    if not foreign or (
        len(foreign) == 1
        and foreign[0].get("manager") == HANDOVER_MANAGER
        and foreign[0].get("operation") == "Update"
    ):
        return None
    fields: dict[str, Any] = {}
    for entry in foreign:
        _merge_fields(fields, entry.get("fieldsV1") or {})
    handed: dict[str, Any] = {
        "manager": HANDOVER_MANAGER,
        "operation": "Update",
        "apiVersion": "v1",  # a Secret's, the only kind handed over
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    times = sorted(str(e["time"]) for e in foreign if e.get("time"))
    if times:
        handed["time"] = times[-1]
    return [
        {"op": "test", "path": "/metadata/resourceVersion", "value": metadata["resourceVersion"]},
        {"op": "replace", "path": "/metadata/managedFields", "value": [*kept, handed]},
    ]


def secret_commands(
    kubectl: str, plan_: ImportPlan, secret: str
) -> tuple[list[str], Callable[[list[dict[str, Any]]], list[str]]]:
    """kubectl's read of an adopted Secret, and its patch command for a given JSON patch."""
    namespace, _, name = secret.rpartition("/")
    base = [kubectl, *plan_.kubectl_flags, "--namespace", namespace]
    get = [*base, "get", "secret", name, "--output", "json"]

    def patch(ops: list[dict[str, Any]]) -> list[str]:
        return [*base, "patch", "secret", name, "--type", "json", "--patch", json.dumps(ops)]

    return get, patch


def hand_over(
    kubectl: str,
    plan_: ImportPlan,
    env: Mapping[str, str],
    run_: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> list[str]:
    """Give the stack every key of the adopted Secrets; what was done, one line per Secret.

    Reads each Secret (its values stay in this process, never printed) and patches only its
    managedFields, which name fields and managers, no values.
    """
    done: list[str] = []
    for secret in plan_.secrets:
        get, patch = secret_commands(kubectl, plan_, secret)
        read = run_(get, capture_output=True, text=True, check=False, env=dict(env))
        if read.returncode != 0 and "NotFound" in read.stderr:
            # Not on the cluster, so not imported either: `up` creates it, owned by the stack.
            done.append(f"{secret}: not on the cluster; pulumi up creates it")
            continue
        if read.returncode != 0:
            raise AdoptError(f"{secret}: kubectl get failed: {read.stderr.strip()}")
        live = json.loads(read.stdout)
        ops = handover_patch(live)
        if ops is None:
            done.append(f"{secret}: owned by the stack already")
            continue
        managers = sorted(
            {
                str(e.get("manager"))
                for e in live["metadata"].get("managedFields") or []
                if not str(e.get("manager", "")).startswith(STACK_MANAGER_PREFIX)
            }
        )
        wrote = run_(patch(ops), capture_output=True, text=True, check=False, env=dict(env))
        if wrote.returncode != 0:
            raise AdoptError(f"{secret}: kubectl patch failed: {wrote.stderr.strip()}")
        done.append(
            f"{secret}: fields of {', '.join(managers)} handed to the stack (its next update "
            "owns them and removes the keys it does not declare)"
        )
    return done


def import_commands(stack: str, plan_: ImportPlan, path: Path) -> list[list[str]]:
    """The CLI's arguments: the providers into state first (the file references them), then the
    import itself.

    Imported resources are protected until the next `pulumi up` applies the program's own
    `protect`; no code is generated (the Flux kinds are not in the provider schema, and the
    program already declares every resource). The targeted `up` runs the whole program, so the
    policy pack checks it as on every `up`; `pulumi import` takes no pack (pulumi
    pkg/cmd/pulumi/operations: only preview, up and watch declare `--policy-pack`).
    """
    targets = [arg for urn in plan_.providers for arg in ("--target", urn)]
    pack = ["--policy-pack", cli.POLICY_PACK]
    return [
        ["up", *pack, "--stack", stack, "--yes", "--skip-preview", *targets],
        [
            "import",
            "--stack",
            stack,
            "--file",
            str(path),
            "--yes",
            "--protect=true",
            "--generate-code=false",
        ],
    ]


class _StopError(Exception):
    """End the command with `code` (the message, if any, is printed already)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def run(args: argparse.Namespace, read_state: StateReader | None = None) -> int:
    """Write the import file; with --run, also import (exit code of the Pulumi CLI).

    The stack's state is read first (`pulumi stack export`, or `read_state`), so running adopt
    again, or for one tenant under a running stack, imports only what the state lacks.
    """
    try:
        plan_, env, pulumi = _prepare(args, read_state)
    except _StopError as stop:
        return stop.code
    if getattr(args, "hand_over_secrets", False):
        return _hand_over(args, plan_, env)
    out: Path = args.out or Path(f"adopt-{args.stack}.json")
    out.write_text(plan_.text())
    adopted = sum(1 for e in plan_.document["resources"] if "id" in e)
    print(f"{args.stack}: wrote {out}: {adopted} resources to import (ids from the program)")
    for note in plan_.skipped:
        print(f"{args.stack}: not imported: {note}")
    for note in plan_.next_steps:
        print(f"{args.stack}: after the import: {note}")
    if not args.run:
        print(
            f"{args.stack}: import with: python -m fleet adopt {args.stack} --run (see docs/lifecycle.md#adopting-a-running-cluster)"
        )
        print(
            f"{args.stack}: after an import by hand, before the next up: "
            f"python -m fleet adopt {args.stack} --hand-over-secrets"
        )
        return 0
    if not adopted or pulumi is None:
        print(f"{args.stack}: nothing to import; pulumi up creates the rest")
        return 0
    runner = cli.PulumiCli(pulumi, env, args.project_dir)
    for call in import_commands(args.stack, plan_, out.resolve()):
        result = runner.passthrough(*call)
        if result.returncode != 0:
            return result.returncode
    return _hand_over(args, plan_, env)


def _prepare(
    args: argparse.Namespace, read_state: StateReader | None
) -> tuple[ImportPlan, dict[str, str], str | None]:
    """The plan against the stack's state, the environment and CLI to run with; with --run the
    stack is selected (or created) first, exactly as `up` does."""
    try:
        ruleset_ids = parse_ruleset_ids(args.ruleset_id)
        only = parse_selection(args.only) if getattr(args, "only", None) else None
        # Checks the stack file, config and selection before anything touches the CLI.
        plan_stack(args.project_dir, args.stack, only=only)
    except AdoptError as error:
        print(f"error: {error}", file=sys.stderr)
        raise _StopError(2) from None
    env = dict(os.environ)
    pulumi = cli.find(env)
    if args.run:
        try:
            preflight = deploy.preflight(args.stack, env, args.project_dir, policy=False)
        except deploy.PreflightError as error:
            print(f"error: {error}", file=sys.stderr)
            raise _StopError(2) from None
        # Tokens stay in the environment the CLI runs the program with.
        env, pulumi = dict(preflight.env), preflight.pulumi
        runner = cli.PulumiCli(pulumi, env, args.project_dir)
        selected = runner.passthrough(*deploy.select_command(preflight, args.stack)[1:])
        if selected.returncode != 0:
            raise _StopError(selected.returncode)
    try:
        # Handing over after an import by hand concerns every adopted Secret, now in the state.
        hand_over_only = getattr(args, "hand_over_secrets", False)
        in_state = frozenset() if hand_over_only else _state(args, pulumi, env, read_state)
        plan_ = plan_stack(args.project_dir, args.stack, ruleset_ids, in_state=in_state, only=only)
    except (AdoptError, state.StateError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise _StopError(2) from None
    if in_state:
        print(f"{args.stack}: {len(in_state)} resources already in the stack's state left out")
    return plan_, env, pulumi


StateReader = Callable[[str], frozenset[str]]


def _state(
    args: argparse.Namespace,
    pulumi: str | None,
    env: Mapping[str, str],
    read_state: StateReader | None,
) -> frozenset[str]:
    """URNs already in the stack's state, from the reader given or `pulumi stack export`."""
    if read_state is not None:
        return read_state(args.stack)
    if pulumi is None:
        raise AdoptError(
            f"the Pulumi CLI is not on PATH: adopt reads the stack's state "
            f"(pulumi stack export) to leave out what it already holds; {cli.INSTALL_HINT}"
        )
    return state.read_urns(cli.PulumiCli(pulumi, env, args.project_dir), args.stack)


def _hand_over(args: argparse.Namespace, plan_: ImportPlan, env: Mapping[str, str]) -> int:
    kubectl = shutil.which("kubectl", path=env.get("PATH"))
    if kubectl is None:
        print(
            "error: kubectl is not on PATH: it gives the stack ownership of the adopted Secrets' "
            f"keys; install it and run: python -m fleet adopt {args.stack} --hand-over-secrets",
            file=sys.stderr,
        )
        return 2
    try:
        done = hand_over(kubectl, plan_, env)
    except AdoptError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in done:
        print(f"{args.stack}: {line}")
    return 0
