"""Adopt a running cluster: a `pulumi import` file written from the program's own declarations.

Since pulumi-kubernetes 4.29 creating an object that already exists fails with AlreadyExists at
`up` (the preview stays green), and a cluster bootstrapped the d1 way already holds most of what a
stack declares; in GitHub the bot team, its grants and branch rules exist too. Instead of a
hand-written list, the real program runs offline (`fleet.tools.offline`, placeholder tokens) and
every resource it registers becomes an entry of Pulumi's import file (`pulumi import --file`):
type, logical name, parent and provider, and the id its provider reads the live object by.

Import ids, as each provider parses them:
- Kubernetes objects and the Helm release: `<namespace>/<name>`, or `<name>` when cluster-scoped;
- github Team: the team's slug; TeamMembership and TeamRepository: `<team slug>:<user|repo>`;
  BranchProtection: `<repository>:<pattern>`; RepositoryRuleset: `<repository>:<ruleset id>`,
  which only GitHub knows (given with `--ruleset-id`, otherwise left out and reported);
  AppInstallationRepository (GitHub App mode): `<installation id>:<repository>`.

Components are entries with `component: true` and no id; providers are referenced through
`nameTable` by their URN, so they must be in the stack first (`pulumi up --target <provider>`,
which `--run` does before `pulumi import`).

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
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from fleet.engine import cli, state
from fleet.engine import types as t
from fleet.program import conventions as c
from fleet.tools import cli_args, deploy, offline, render

# The field manager pulumi-kubernetes takes over on update, and the prefix of its own managers.
HANDOVER_MANAGER: Final = "before-first-apply"
STACK_MANAGER_PREFIX: Final = "pulumi-kubernetes"
# Python SDK distribution of each provider package, for the plugin version of every entry.
SDKS: Final = {"kubernetes": "pulumi_kubernetes", "github": "pulumi_github"}


class AdoptError(Exception):
    """The import file cannot be written (unknown stack, invalid config, a bad --ruleset-id)."""


@dataclass(frozen=True)
class ImportPlan:
    """The import file's document, the provider URNs it needs in state, and what it left out."""

    document: dict[str, Any]
    providers: tuple[str, ...]
    skipped: tuple[str, ...] = field(default=())
    # `<namespace>/<name>` of every adopted Secret, and the kubectl flags that reach its cluster.
    secrets: tuple[str, ...] = field(default=())
    kubectl_flags: tuple[str, ...] = field(default=())
    # What the first `up` after the import will do to what was imported.
    next_steps: tuple[str, ...] = field(default=())

    def text(self) -> str:
        return json.dumps(self.document, indent=2, sort_keys=False) + "\n"


def team_slug(name: str) -> str:
    """The slug GitHub derives from a team name (lower case, other characters as '-')."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")


def kubernetes_id(inputs: Mapping[str, Any]) -> str:
    """`<namespace>/<name>`, or `<name>` for a cluster-scoped object."""
    meta = inputs.get("metadata") or {}
    name, namespace = str(meta["name"]), meta.get("namespace")
    return f"{namespace}/{name}" if namespace else name


def import_id(
    resource: offline.Registration,
    recording: offline.Recording,
    ruleset_ids: Mapping[str, str],
) -> str | None:
    """The id `resource`'s provider imports it by; None when only GitHub knows it."""
    inputs = render.plain(resource.inputs)
    if resource.type == t.HELM_RELEASE:
        return f"{inputs['namespace']}/{inputs['name']}"
    if resource.type.startswith("kubernetes:"):
        return kubernetes_id(inputs)
    if resource.type.startswith("github:"):
        return _github_id(resource, inputs, recording, ruleset_ids)
    raise AdoptError(f"no import id known for {resource.type} ({resource.name})")


def _github_id(
    resource: offline.Registration,
    inputs: Mapping[str, Any],
    recording: offline.Recording,
    ruleset_ids: Mapping[str, str],
) -> str | None:
    if resource.type == t.TEAM:
        return team_slug(str(inputs["name"]))
    if resource.type in (
        t.TEAM_MEMBERSHIP,
        t.TEAM_REPOSITORY,
    ):
        (team,) = recording.of_type(t.TEAM)
        other = inputs.get("username") or inputs["repository"]
        return f"{team_slug(str(render.plain(team.inputs)['name']))}:{other}"
    if resource.type == t.APP_INSTALLATION_REPOSITORY:
        return f"{inputs['installationId']}:{inputs['repository']}"
    if resource.type == t.BRANCH_PROTECTION:
        return f"{inputs['repositoryId']}:{inputs['pattern']}"
    if resource.type == t.REPOSITORY_RULESET:
        found = ruleset_ids.get(str(inputs["repository"]))
        return f"{inputs['repository']}:{found}" if found else None
    raise AdoptError(f"no import id known for {resource.type} ({resource.name})")


# Components whose resources a d1 cluster never had: `up` creates them after the import.
NEW_COMPONENTS: Final = {
    t.RECEIVERS: "a webhook receiver (its random token, secret, Receiver, Ingress "
    "and GitHub webhook)",
    t.TENANT_GUARDRAILS: "an admission policy replacing d1's Kyverno policies",
}


def created_by_up(
    resource: offline.Registration, by_urn: Mapping[str, offline.Registration]
) -> str | None:
    """Why `up` creates this resource instead of importing it; None when it is imported.

    Left out: what a d1 cluster never had (receivers, the admission policies) and the tenant
    copies of `flux-apps` and `flux-runtime-info`, which Kyverno generated there: they are deleted
    with Kyverno's policies before adopting, so the stack is their one owner.
    """
    owner = by_urn.get(resource.parent)
    while owner is not None:
        if owner.type in NEW_COMPONENTS:
            return NEW_COMPONENTS[owner.type]
        owner = by_urn.get(owner.parent)
    meta = render.plain(resource.inputs).get("metadata") or {}
    if (
        resource.type in (t.SECRET, t.CONFIG_MAP)
        and meta.get("name") in (c.APPS_SECRET, c.RUNTIME_CONFIGMAP)
        and meta.get("namespace") not in (None, c.FLUX_NAMESPACE)
    ):
        return "a tenant copy (delete Kyverno's copy first; see the README)"
    return None


def _reference_names(recording: offline.Recording) -> dict[str, str]:
    """A unique reference name per resource: its logical name, suffixed by its type when taken.

    A component and its child may share a logical name (a tenant and its namespace kit), which
    their different types keep apart in the URN; inside the file, `name` must be unique.
    """
    names: dict[str, str] = {}
    taken: set[str] = set()
    for r in recording.resources:
        name = r.name
        if name in taken:
            name = f"{r.name}-{r.type.rsplit(':', 1)[-1].lower()}"
        while name in taken:
            name += "-1"
        taken.add(name)
        names[r.urn] = name
    return names


@dataclass(frozen=True)
class Selection:
    """`--only tenant:<name>` or `--only component:<name>`: one tenant or platform component."""

    kind: str
    name: str

    def holds(
        self, resource: offline.Registration, by_urn: Mapping[str, offline.Registration]
    ) -> bool:
        """Whether `resource` belongs to the selected tenant or platform component."""
        if self.kind == "tenant":
            node: offline.Registration | None = resource
            while node is not None:
                if node.type == t.TENANT and node.name.endswith(f"-tenant-{self.name}"):
                    return True
                node = by_urn.get(node.parent)
            return False
        owner = by_urn.get(resource.parent)
        meta = render.plain(resource.inputs).get("metadata") or {}
        return (
            owner is not None
            and owner.type == t.PLATFORM
            and meta.get("name") in (f"{self.name}-controllers", f"{self.name}-configs")
        )


SELECTABLE: Final = ("tenant", "component")


def parse_selection(value: str) -> Selection:
    kind, sep, name = value.partition(":")
    if not sep or kind not in SELECTABLE or not name:
        raise AdoptError(f"--only {value!r}: expected tenant:<name> or component:<name>")
    return Selection(kind, name)


def plan(
    recording: offline.Recording,
    stack: str,
    ruleset_ids: Mapping[str, str] | None = None,
    *,
    in_state: frozenset[str] = frozenset(),
    only: Selection | None = None,
) -> ImportPlan:
    """The import file for what `recording` declares and the stack's state does not hold yet.

    `in_state` (engine URNs, from `fleet.engine.state.read_urns`) is left out: a parent already there is
    referenced through `nameTable`, since the engine registers the state's resources before the
    import (`pkg/resource/deploy/import.go`, `registerExistingResources`). A parent component
    missing from the state gets an entry (`component: true`): the engine refuses an import whose
    parent is not among its new resources (`pkg/resource/deploy/step.go`, `ImportStep.Apply`:
    "unknown parent") and creates a component entry as an empty component.

    With `only`, just that tenant or platform component, and of it only what removing it left on
    the cluster: the resources with `retainOnDelete` (a production tenant's namespace), whose
    delete the engine skips (`DeleteStep.Apply`); `up` creates the rest.
    """
    ruleset_ids = ruleset_ids or {}
    by_urn = {r.urn: r for r in recording.resources}
    urn_of = {r.urn: offline.engine_urn(recording, r, stack) for r in recording.resources}
    name_table: dict[str, str] = {}
    providers: list[str] = []
    skipped: list[str] = []
    names = _reference_names(recording)
    for r in recording.resources:
        if r.type.startswith(t.PROVIDER_PREFIX):
            name_table[names[r.urn]] = urn_of[r.urn]
            providers.append(urn_of[r.urn])
    imported: list[offline.Registration] = []
    ids: dict[str, str] = {}
    for r in recording.resources:
        if r.type.startswith(t.PROVIDER_PREFIX) or not r.custom or urn_of[r.urn] in in_state:
            continue
        if only is not None and not only.holds(r, by_urn):
            continue
        if only is not None and not r.retain_on_delete:
            skipped.append(f"{r.type} {r.name}: created by pulumi up: removing it deleted it")
            continue
        reason = created_by_up(r, by_urn)
        if reason is not None:
            skipped.append(f"{r.type} {r.name}: created by pulumi up: {reason}")
            continue
        found = import_id(r, recording, ruleset_ids)
        if found is None:
            skipped.append(
                f"{r.type} {r.name}: pass --ruleset-id "
                f"{render.plain(r.inputs)['repository']}=<id> to adopt an existing ruleset "
                "(otherwise pulumi up creates it)"
            )
            continue
        imported.append(r)
        ids[r.urn] = found
    components = _components_to_create(
        recording, imported, in_state=in_state, urn_of=urn_of, only=only, by_urn=by_urn
    )
    keep = {r.urn for r in imported} | components
    entries: list[dict[str, Any]] = []
    for r in recording.resources:
        if r.urn not in keep:
            continue
        entry: dict[str, Any] = {"type": r.type, "name": names[r.urn], "logicalName": r.name}
        parent = by_urn.get(r.parent)
        if parent is not None:
            entry["parent"] = names[parent.urn]
            if parent.urn not in keep:
                name_table[names[parent.urn]] = urn_of[parent.urn]
        if not r.custom:
            entry["component"] = True
            entries.append(entry)
            continue
        entry["id"] = ids[r.urn]
        provider = by_urn.get(r.provider.rsplit("::", 1)[0])
        if provider is not None:
            entry["provider"] = names[provider.urn]
        package = r.type.split(":", 1)[0]
        if package in SDKS:
            entry["version"] = metadata.version(SDKS[package])
        entries.append(entry)
    return ImportPlan(
        document={"nameTable": name_table, "resources": entries},
        providers=tuple(providers),
        skipped=tuple(skipped),
        secrets=tuple(e["id"] for e in entries if e["type"] == t.SECRET and "id" in e),
        kubectl_flags=_kubectl_flags(recording),
        next_steps=tuple(release_next_step(r) for r in imported if r.type == t.HELM_RELEASE),
    )


def _components_to_create(
    recording: offline.Recording,
    imported: Sequence[offline.Registration],
    *,
    in_state: frozenset[str],
    urn_of: Mapping[str, str],
    only: Selection | None,
    by_urn: Mapping[str, offline.Registration],
) -> set[str]:
    """Components the import creates: every one missing from the state for a whole stack, the
    missing ancestors of what is imported for a selection."""
    if only is None:
        return {
            r.urn for r in recording.resources if not r.custom and urn_of[r.urn] not in in_state
        }
    found: set[str] = set()
    for r in imported:
        owner = by_urn.get(r.parent)
        while owner is not None and urn_of[owner.urn] not in in_state:
            found.add(owner.urn)
            owner = by_urn.get(owner.parent)
    return found


def imported_chart(chart: str) -> str:
    """The `chart` an imported Helm release records: the chart's own name, not the OCI reference.

    pulumi-kubernetes `provider/pkg/provider/helm_release.go` (`importRelease`) looks the chart up
    in the program folder and the local Helm repositories, else falls back to its metadata name.
    """
    return chart.rstrip("/").rsplit("/", 1)[-1]


def release_next_step(resource: offline.Registration) -> str:
    """What `up` does after the operator release is imported: a Helm upgrade at the same version.

    The imported inputs (chart name, the provider's defaults) differ from the program's, and the
    release's diff replaces only on a new name or namespace (`helmReleaseProvider.Diff`), so the
    release is updated in place.
    """
    inputs = render.plain(resource.inputs)
    return (
        f"helm release {inputs['namespace']}/{inputs['name']}: the next pulumi up upgrades it in "
        f"place at chart version {inputs['version']} (the import records chart "
        f"{imported_chart(str(inputs['chart']))!r}, the program {inputs['chart']!r}): make preview "
        "shows it as an update, with any value d1 installed differently; nothing is replaced"
    )


def _kubectl_flags(recording: offline.Recording) -> tuple[str, ...]:
    """kubectl's flags for the cluster the stack's Kubernetes provider reaches."""
    found = recording.of_type(t.KUBERNETES_PROVIDER)
    if not found:
        return ()
    inputs = render.plain(found[0].inputs)
    flags: list[str] = []
    if inputs.get("kubeconfig"):
        flags += ["--kubeconfig", str(inputs["kubeconfig"])]
    if inputs.get("context"):
        flags += ["--context", str(inputs["context"])]
    return tuple(flags)


def _merge_fields(into: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        if isinstance(value, Mapping):
            _merge_fields(into.setdefault(key, {}), value)
        else:
            into.setdefault(key, value)


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
        "apiVersion": str(foreign[0].get("apiVersion", "v1")),
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


def plan_stack(
    project_dir: Path,
    stack: str,
    ruleset_ids: Mapping[str, str] | None = None,
    *,
    in_state: frozenset[str] = frozenset(),
    only: Selection | None = None,
) -> ImportPlan:
    """Run the project's `__main__.py` for `stack` offline and plan the import of what it declares."""
    try:
        recording, _, _ = render.record_stack(project_dir, stack)
    except render.RenderError as error:
        raise AdoptError(str(error)) from None
    return plan(recording, stack, ruleset_ids, in_state=in_state, only=only)


def import_commands(pulumi: str, stack: str, plan_: ImportPlan, path: Path) -> list[list[str]]:
    """The providers into state first (the file references them), then the import itself.

    Imported resources are protected until the next `pulumi up` applies the program's own
    `protect`; no code is generated (the Flux kinds are not in the provider schema, and the
    program already declares every resource).
    """
    targets = [arg for urn in plan_.providers for arg in ("--target", urn)]
    return [
        [pulumi, "up", "--stack", stack, "--yes", "--skip-preview", *targets],
        [
            pulumi,
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


def parse_ruleset_ids(values: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        repo, sep, ruleset = value.partition("=")
        if not sep or not repo or not ruleset.isdigit():
            raise AdoptError(f"--ruleset-id {value!r}: expected REPOSITORY=NUMERIC_ID")
        found[repo] = ruleset
    return found


def arguments(parser: argparse.ArgumentParser) -> None:
    cli_args.add_stack(parser)
    parser.add_argument(
        "--out", type=Path, help="import file to write (default: adopt-<stack>.json)"
    )
    parser.add_argument(
        "--ruleset-id",
        action="append",
        default=[],
        metavar="REPO=ID",
        help="id of an existing repository ruleset to adopt (gh api repos/OWNER/REPO/rulesets)",
    )
    parser.add_argument(
        "--only",
        metavar="KIND:NAME",
        help="tenant:<name> or component:<name>: only what removing it left on the cluster "
        "(its retained namespace), with its component parents, to bring it back under a "
        "running stack",
    )
    parser.add_argument(
        "--run",
        action="store_true",
        help="after writing the file, put the providers in the stack and run pulumi import",
    )
    parser.add_argument(
        "--hand-over-secrets",
        action="store_true",
        help="only give the stack ownership of every key of the adopted Secrets (kubectl), "
        "for imports run by hand; --run does it after importing",
    )
    cli_args.add_project_dir(parser)


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
        print(f"{args.stack}: import with: python -m fleet adopt {args.stack} --run (see README)")
        print(
            f"{args.stack}: after an import by hand, before the next up: "
            f"python -m fleet adopt {args.stack} --hand-over-secrets"
        )
        return 0
    if not adopted or pulumi is None:
        print(f"{args.stack}: nothing to import; pulumi up creates the rest")
        return 0
    runner = cli.PulumiCli(pulumi, env, args.project_dir)
    for call in import_commands(pulumi, args.stack, plan_, out.resolve()):
        result = runner.passthrough(*call[1:])
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
        # Checks the stack file and config before anything touches the CLI.
        plan_stack(args.project_dir, args.stack, ruleset_ids, only=only)
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
        for call in deploy.commands(preflight, args.stack, "up", [])[:-1]:
            result = runner.passthrough(*call[1:])
            if result.returncode != 0:
                raise _StopError(result.returncode)
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
