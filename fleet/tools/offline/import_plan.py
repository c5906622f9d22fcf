"""What adopting a running cluster imports: a `pulumi import` file from the program's declarations.

The real program runs offline (`fleet.tools.offline.mock`, placeholder tokens) and every resource it
registers becomes an entry of Pulumi's import file (`pulumi import --file`): type, logical name,
parent and provider, and the id its provider reads the live object by.

Import ids, as each provider parses them:
- Kubernetes objects and the Helm release: `<namespace>/<name>`, or `<name>` when cluster-scoped;
- github Team: the team's slug; TeamMembership and TeamRepository: `<team slug>:<user|repo>`;
  BranchProtection: `<repository>:<pattern>`; RepositoryRuleset: `<repository>:<ruleset id>`,
  which only GitHub knows (given with `--ruleset-id`, otherwise left out and reported);
  AppInstallationRepository (GitHub App mode): `<installation id>:<repository>`.

Components are entries with `component: true` and no id; providers are referenced through
`nameTable` by their URN, so they must be in the stack first (`pulumi up --target <provider>`,
which `fleet adopt --run` does before `pulumi import`). Pure: no CLI, no cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from fleet.engine import types as t
from fleet.program import conventions as c
from fleet.tools.offline import mock, render

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
    resource: mock.Registration,
    recording: mock.Recording,
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
    resource: mock.Registration,
    inputs: Mapping[str, Any],
    recording: mock.Recording,
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
    resource: mock.Registration, by_urn: Mapping[str, mock.Registration]
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
        return "a tenant copy (delete Kyverno's copy first; see docs/lifecycle.md#adopting-a-running-cluster)"
    return None


def _reference_names(recording: mock.Recording) -> dict[str, str]:
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

    def holds(self, resource: mock.Registration, by_urn: Mapping[str, mock.Registration]) -> bool:
        """Whether `resource` belongs to the selected tenant or platform component."""
        if self.kind == "tenant":
            node: mock.Registration | None = resource
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
    recording: mock.Recording,
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
    if only is not None and not any(only.holds(r, by_urn) for r in recording.resources):
        # Bringing one back means declaring it again first; a name not declared (or mistyped)
        # would otherwise import nothing and say nothing was missing.
        raise AdoptError(
            f"--only {only.kind}:{only.name}: stack {stack} declares no {only.kind} "
            f"{only.name!r}; add it to the stack file first"
        )
    urn_of = {r.urn: mock.engine_urn(recording, r, stack) for r in recording.resources}
    name_table: dict[str, str] = {}
    providers: list[str] = []
    skipped: list[str] = []
    names = _reference_names(recording)
    for r in recording.resources:
        if r.type.startswith(t.PROVIDER_PREFIX):
            name_table[names[r.urn]] = urn_of[r.urn]
            providers.append(urn_of[r.urn])
    imported: list[mock.Registration] = []
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
    recording: mock.Recording,
    imported: Sequence[mock.Registration],
    *,
    in_state: frozenset[str],
    urn_of: Mapping[str, str],
    only: Selection | None,
    by_urn: Mapping[str, mock.Registration],
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


def release_next_step(resource: mock.Registration) -> str:
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


def parse_ruleset_ids(values: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        repo, sep, ruleset = value.partition("=")
        if not sep or not repo or not ruleset.isdigit():
            raise AdoptError(f"--ruleset-id {value!r}: expected REPOSITORY=NUMERIC_ID")
        found[repo] = ruleset
    return found


def _kubectl_flags(recording: mock.Recording) -> tuple[str, ...]:
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
