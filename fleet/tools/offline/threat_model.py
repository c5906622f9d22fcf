"""The fleet's threat model, derived from what a stack declares: per namespace, which Git
credential is there, what it reaches on GitHub and in the cluster, and who can read it.

Nothing here is asserted by hand: the credentials are told apart by the data of the Secrets the
program declares, their reach on GitHub by the owner stack's GitHub objects (an App's installation
grants and ruleset bypass actors) or, for a token, by the GitRepositories that read it, and the
readers by the RBAC bindings in the namespace. Kubernetes' built-in `edit` ClusterRole reads and
writes Secrets and `admin` includes it (`view` does not;
kubernetes/kubernetes `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`, `ClusterRoles`),
so whoever a namespace binds to `admin` or `edit` reads every credential there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fleet.engine import types as t
from fleet.program import conventions as c
from fleet.program import credentials
from fleet.tools.offline import mock

# Built-in ClusterRoles that read Secrets in the namespace they are bound in.
SECRET_READING_ROLES: Final = ("admin", "edit")
TENANT_NAMESPACE: Final = "each tenant namespace"
# On a hub, the namespace of each spoke: the Flux objects that reconcile the spoke from d1-infra.
SPOKE_NAMESPACE: Final = "each spoke's namespace (hub)"
NOBODY: Final = "none"


@dataclass(frozen=True, order=True)
class Row:
    """One credential in one namespace (tenant namespaces share a row)."""

    namespace: str
    secret: str
    credential: str
    github: str
    bypasses: str
    cluster: str
    readers: str


@dataclass(frozen=True)
class _Credential:
    """A Secret's Git credential: an App (by id and installation) or a token (by value)."""

    app_id: str | None
    installation: str | None
    token: str | None


def _credential(secret: mock.Registration) -> _Credential | None:
    data, _ = mock.unwrap_secret(secret.inputs.get("stringData") or {})
    data = {k: mock.unwrap_secret(v)[0] for k, v in data.items()}
    if credentials.APP_ID_KEY in data:
        return _Credential(
            data[credentials.APP_ID_KEY],
            data.get(credentials.INSTALLATION_ID_KEY)
            or data.get(credentials.INSTALLATION_OWNER_KEY),
            None,
        )
    if "password" in data:
        return _Credential(None, None, data["password"])
    return None


def _repo(url: str) -> str:
    return url.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]


def _where(r: mock.Registration) -> tuple[str, str]:
    meta = r.inputs["metadata"]
    return meta.get("namespace", ""), meta["name"]


def derive(
    stack: mock.Recording,
    owner: mock.Recording,
    labels: Mapping[str, str],
) -> set[Row]:
    """The rows of `stack`'s threat model; `owner` is the fleet's githubAccessOwner stack run
    (the same run when `stack` is the owner). `labels` names each credential by its App id or
    token value (the config keys it comes from), so a row says `githubApp*` or `appsToken`.
    """
    found: dict[tuple[str, str], _Credential] = {}
    for secret in stack.of_type(t.SECRET):
        cred = _credential(secret)
        if cred is not None:
            found[_where(secret)] = cred
    reads: dict[_Credential, set[str]] = {}
    sources: dict[tuple[str, str], _Credential] = {}
    for source in stack.of_type(t.GIT_REPOSITORY):
        namespace, name = _where(source)
        cred = found.get((namespace, source.inputs["spec"].get("secretRef", {}).get("name", "")))
        if cred is not None:
            reads.setdefault(cred, set()).add(_repo(source.inputs["spec"]["url"]))
            sources[(namespace, name)] = cred
    pushes: dict[_Credential, set[str]] = {}
    for automation in stack.of_type(t.IMAGE_UPDATE_AUTOMATION):
        namespace, _ = _where(automation)
        cred = sources.get((namespace, automation.inputs["spec"]["sourceRef"]["name"]))
        if cred is not None:
            pushes.setdefault(cred, set()).update(reads[cred])
    installs: dict[str, set[str]] = {}
    first_app: set[str] = set()  # installations of the App (the second App's grants say `-apps-`)
    for grant in owner.of_type(t.APP_INSTALLATION_REPOSITORY):
        installation = str(grant.inputs["installationId"])
        installs.setdefault(installation, set()).add(grant.inputs["repository"])
        if "-apps-" not in grant.name:
            first_app.add(installation)
    bypass_apps: dict[str, set[str]] = {}
    team_bypass: set[str] = set()
    for ruleset in owner.of_type(t.REPOSITORY_RULESET):
        for actor in ruleset.inputs.get("bypassActors") or []:
            if actor["actorType"] == "Integration":
                # The mock runtime hands numbers over as floats.
                app = str(int(actor["actorId"]))
                bypass_apps.setdefault(app, set()).add(ruleset.inputs["repository"])
            elif actor["actorType"] == "Team":
                team_bypass.add(ruleset.inputs["repository"])
    rows: set[Row] = set()
    for (namespace, name), cred in found.items():
        if cred.app_id is not None:
            installation = cred.installation or ""
            if not installation.isdigit() and len(first_app) == 1:
                # Found by owner (Flux 2.8): the fleet allows that only for the App whose
                # installation another stack names by id (config fleet rule), the one the owner
                # stack grants; the second App is always named by id.
                installation = next(iter(first_app))
            reach = installs.get(installation, set())
            bypass = bypass_apps.get(cred.app_id, set())
            label = labels.get(cred.app_id, f"App {cred.app_id}")
        else:
            # A token reaches what it was created for; the program reads it for these only.
            reach = reads.get(cred, set())
            # The bot's tokens: its team bypasses the rule where the token pushes.
            bypass = team_bypass & pushes.get(cred, set())
            label = labels.get(cred.token or "", "a token")
        writes = pushes.get(cred, set())
        github = ", ".join(
            f"{repo} ({'read, push' if repo in writes else 'read'})" for repo in sorted(reach)
        )
        rows.add(
            Row(
                namespace=_namespace_label(stack, namespace),
                secret=name,
                credential=label,
                github=github or NOBODY,
                bypasses=", ".join(sorted(bypass)) or NOBODY,
                cluster=_cluster_reach(stack, namespace),
                readers=_readers(stack, namespace),
            )
        )
    return rows


def _namespace_label(stack: mock.Recording, namespace: str) -> str:
    if namespace in (c.FLUX_NAMESPACE, c.APPS_UPDATE_NAMESPACE):
        return namespace
    if any(
        t.SPOKE_SYNC in s.urn and s.inputs["metadata"].get("namespace") == namespace
        for s in stack.of_type(t.SECRET)
    ):
        return SPOKE_NAMESPACE
    return TENANT_NAMESPACE


def spoke_namespace_subjects(stack: mock.Recording) -> list[str]:
    """Subjects bound in a hub's spoke namespaces other than that namespace's own accounts: a
    spoke namespace holds the platform credential and the spoke's kubeconfig, so nothing but its
    Flux accounts (and cluster administrators) may read it."""
    spokes = {
        s.inputs["metadata"]["namespace"] for s in stack.of_type(t.SECRET) if t.SPOKE_SYNC in s.urn
    }
    return [
        f"{namespace}: {subject.get('kind')} {subject.get('namespace', '')}/{subject['name']}"
        for namespace in sorted(spokes)
        for _, subjects in _bindings(stack, namespace)
        for subject in subjects
        if subject.get("kind") != "ServiceAccount" or subject.get("namespace") != namespace
    ]


def _bindings(stack: mock.Recording, namespace: str) -> list[tuple[str, list[dict[str, Any]]]]:
    return [
        (b.inputs["roleRef"]["name"], list(b.inputs.get("subjects") or []))
        for b in stack.of_type(t.ROLE_BINDING)
        if b.inputs["metadata"].get("namespace") == namespace
    ]


def _cluster_reach(stack: mock.Recording, namespace: str) -> str:
    """What the namespace's Flux account may do: what a credential there lets a pusher deploy."""
    for binding in stack.of_type(t.CLUSTER_ROLE_BINDING):
        for subject in binding.inputs.get("subjects") or []:
            if subject.get("namespace") == namespace:
                return f"ClusterRole {binding.inputs['roleRef']['name']} (cluster-wide)"
    roles = sorted({role for role, _ in _bindings(stack, namespace)})
    return ", ".join(f"ClusterRole {role} in the namespace" for role in roles) or NOBODY


def _readers(stack: mock.Recording, namespace: str) -> str:
    """Who reads Secrets in the namespace besides cluster administrators."""
    who = sorted(
        {
            f"{subject['kind']} {subject['name']}"
            for role, subjects in _bindings(stack, namespace)
            if role in SECRET_READING_ROLES
            for subject in subjects
        }
    )
    if not who:
        return "cluster administrators"
    return (
        "cluster administrators; admin/edit holders in the namespace: "
        + ", ".join(who)
        + " (whatever the repository deploys there) and whoever administers the namespace"
    )


def tenant_violations(rows: Iterable[Row], platform: Sequence[str]) -> list[str]:
    """Rows outside the platform namespaces whose credential reaches or bypasses a rule of a
    repository in `platform` (the infrastructure and fleet repositories), and rows of tenant
    namespaces whose credential may push or bypass any rule: only image automation's apps-update
    pushes, to the applications repository. The platform namespaces are flux-system and, on a
    hub, each spoke's namespace, which reconciles d1-infra for its spoke and where only its own
    Flux accounts are bound (`spoke_namespace_subjects`)."""
    return [
        f"{row.namespace}/{row.secret}: {row.credential} reaches {row.github}, bypasses "
        f"{row.bypasses}"
        for row in sorted(rows)
        if row.namespace not in (c.FLUX_NAMESPACE, SPOKE_NAMESPACE)
        and (
            any(repo in row.github or repo in row.bypasses for repo in platform)
            or (row.namespace == TENANT_NAMESPACE and row.bypasses != NOBODY)
            or (row.namespace == TENANT_NAMESPACE and "push" in row.github)
        )
    ]


HEADER: Final = (
    "| gitAuth | Namespace | Secret | Credential | GitHub | Bypasses rules on | "
    "Flux account there | Who reads it |"
)


def markdown(modes: Mapping[str, Iterable[Row]]) -> str:
    """The table of docs/threat-model.md: one line per mode and row, in a stable order."""
    lines = [HEADER, "|" + " --- |" * 8]
    for mode, rows in modes.items():
        for row in sorted(rows, key=_order):
            lines.append(
                f"| {mode} | {row.namespace} | `{row.secret}` | {row.credential} | {row.github} | "
                f"{row.bypasses} | {row.cluster} | {row.readers} |"
            )
    return "\n".join(lines)


def _order(row: Row) -> tuple[int, str, str]:
    rank = {
        c.FLUX_NAMESPACE: 0,
        TENANT_NAMESPACE: 1,
        c.APPS_UPDATE_NAMESPACE: 2,
        SPOKE_NAMESPACE: 3,
    }
    return rank.get(row.namespace, 3), row.secret, row.credential
