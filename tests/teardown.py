"""What each `pulumi destroy` variant deletes, computed from a stack's registrations.

The engine's rules, applied to what the program declares (resources, parents, dependencies,
providers, `protect`), so a test can assert that no destroy variant strips a production cluster or
the fleet's GitHub access:

- `destroy` (with its preview): a protected delete fails the preview, so nothing is deleted while
  anything is protected (pulumi `pkg/resource/deploy/step.go`, `DeleteStep.Apply`).
- `destroy --skip-preview`, and every Automation API destroy (which passes `--skip-preview`):
  a protected delete fails but the engine continues past it, skipping only what the failed
  resource transitively depends on (`step_executor.go` `cancelDueToError`,
  `deployment_executor.go` `performPostSteps`); everything else is deleted.
- `destroy --exclude-protected`: the CLI excludes each protected resource with everything it
  transitively depends on (`operations/destroy.go` `getProtectedExcludes`), and the engine widens
  the excludes by their direct dependencies, parents and components' earlier children
  (`step_generator.go` `getExcludeDependencies`); everything else is deleted.
- `destroy --ignore-protect` deletes everything: it is an explicit override, like
  `pulumi state unprotect`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence

from fleet.engine import types as t
from fleet.tools.offline.mock import Recording, Registration


class Destroy(enum.Enum):
    """A way to run `pulumi destroy`."""

    PREVIEWED = "pulumi destroy"
    SKIP_PREVIEW = "pulumi destroy --skip-preview (and the Automation API's destroy)"
    EXCLUDE_PROTECTED = "pulumi destroy --exclude-protected"
    IGNORE_PROTECT = "pulumi destroy --ignore-protect"


def provider_urn(reference: str) -> str:
    """The URN in a provider reference `<urn>::<id>`."""
    return reference.rsplit("::", 1)[0] if reference else ""


class _Graph:
    def __init__(self, resources: Sequence[Registration]) -> None:
        self.resources = list(resources)
        self.by_urn = {r.urn: r for r in resources}
        self.index = {r.urn: i for i, r in enumerate(resources)}
        self.children: dict[str, list[Registration]] = {}
        for r in resources:
            self.children.setdefault(r.parent, []).append(r)

    def _direct(self, r: Registration) -> Iterator[str]:
        """Provider and dependencies (the parent is walked separately, as the engine does)."""
        if r.provider:
            yield provider_urn(r.provider)
        yield from r.dependencies

    def transitive(self, r: Registration) -> set[str]:
        """`TransitiveDependenciesOf` (`pkg/resource/graph/dependency_graph.go`): provider,
        dependencies and the parent chain, each with its own, recursively."""
        seen: set[str] = set()
        stack = [r.urn]
        while stack:
            urn = stack.pop()
            node = self.by_urn.get(urn)
            if node is None or urn in seen:
                continue
            seen.add(urn)
            stack.extend(self._direct(node))
            if node.parent:
                stack.append(node.parent)
        seen.discard(r.urn)
        return seen

    def dependencies_of(self, r: Registration) -> set[str]:
        """`DependenciesOf`: provider, dependencies, parent, and for a component dependency its
        children registered before `r`."""
        found = {u for u in self._direct(r) if u in self.by_urn}
        for urn in list(found):
            if not self.by_urn[urn].custom:
                found.update(
                    c.urn
                    for c in self.children.get(urn, [])
                    if self.index[c.urn] < self.index[r.urn]
                )
        if r.parent in self.by_urn:
            found.add(r.parent)
        return found


def kept(recording: Recording, how: Destroy) -> set[str]:
    """URNs that `how` leaves in the stack (and on the cluster and GitHub)."""
    graph = _Graph(recording.resources)
    protected = [r for r in recording.resources if r.protect]
    every = {r.urn for r in recording.resources}
    if how is Destroy.IGNORE_PROTECT or not protected:
        return set()
    if how is Destroy.PREVIEWED:
        return every
    keep = {r.urn for r in protected}
    for r in protected:
        keep |= graph.transitive(r)
    if how is Destroy.SKIP_PREVIEW:
        return keep
    return _widened(graph, keep)


def _widened(graph: _Graph, excludes: set[str]) -> set[str]:
    """`getExcludeDependencies`: the excludes with everything they depend on, directly or not."""
    keep = set(excludes)
    frontier = list(keep)
    while frontier:
        node = graph.by_urn.get(frontier.pop())
        if node is None:
            continue
        for urn in graph.dependencies_of(node) - keep:
            keep.add(urn)
            frontier.append(urn)
    return keep


def deleted_excluding(recording: Recording, excludes: Iterable[str]) -> list[Registration]:
    """What `pulumi destroy --exclude <urn>...` deletes once nothing is protected (after
    `pulumi state unprotect --all`): all but the excludes and what they depend on."""
    keep = _widened(_Graph(recording.resources), set(excludes))
    return [r for r in recording.resources if r.urn not in keep]


def deleted(recording: Recording, how: Destroy) -> list[Registration]:
    """What `how` deletes, in registration order."""
    keep = kept(recording, how)
    return [r for r in recording.resources if r.urn not in keep]


def harmless(recording: Recording, resources: Iterable[Registration]) -> list[Registration]:
    """Of `resources`, those whose loss leaves the cluster and the fleet running as before.

    Providers and components exist in the state only. Webhook receivers (tokens, Secrets,
    Receivers, the Ingress, the GitHub webhooks) only make Flux reconcile at once on a push;
    without them every source still polls on its interval.
    """
    graph = _Graph(recording.resources)

    def in_receivers(r: Registration) -> bool:
        node: Registration | None = r
        while node is not None:
            if node.type == t.RECEIVERS:
                return True
            node = graph.by_urn.get(node.parent)
        return False

    return [
        r
        for r in resources
        if not r.custom or r.type.startswith(t.PROVIDER_PREFIX) or in_receivers(r)
    ]


def harmful(recording: Recording, how: Destroy) -> list[str]:
    """Names of what `how` deletes that a running cluster or the fleet cannot lose."""
    gone = deleted(recording, how)
    safe = {r.urn for r in harmless(recording, gone)}
    return [r.name for r in gone if r.urn not in safe]
