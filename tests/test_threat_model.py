"""The threat model derived from what the stacks declare, in token mode, App mode and a mixed fleet.

No tenant namespace may hold a credential that reaches the infrastructure or fleet repository, or
that bypasses a branch rule; the README's table is the derived one. Tenant administrators are bound
to ClusterRole `admin` in their namespace, which reads Secrets (Kubernetes' bootstrap policy,
`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`: `admin` and `edit` aggregate
read on `secrets`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from fleet.engine import types as t
from fleet.program.config import keys
from fleet.tools.offline import mock, threat_model
from fleet.tools.offline.mock import Recording
from tests.helpers import (
    APP_ID,
    APPS_APP_ID,
    APPS_TOKEN,
    PLATFORM_TOKEN,
    ROOT,
    TOKEN_KEYS,
    app_config,
    app_stack_file,
    doc,
    fleet_dir,
    hub_run,
    stack_run,
)

PUSH_TOKEN = "github_pat_" + "W" * 82
# Image automation's push credential, written to apps-update alone.
PUSH = {"appsPushToken": PUSH_TOKEN, "appsPushTokenExpires": "2099-01-01"}
LABELS = {
    PUSH_TOKEN: "`appsPushToken`",
    PLATFORM_TOKEN: "`platformToken`",
    APPS_TOKEN: "`appsToken`",
    str(APP_ID): "GitHub App (`githubAppId`)",
    str(APPS_APP_ID): "second GitHub App (`githubAppsAppId`)",
}
PLATFORM_REPOSITORIES = ("d1-infra", "d1-fleet")
RBAC = "rbac.authorization.k8s.io"
# The owner stack of an App fleet lets the App bypass the pull-request rule (no bot team left).
APP_OWNER = {"botPushAccess": "rulesetBypass", "botUsername": "", "mergeTeams": ""}
NO_APPS_APP = {key: "" for key in keys.APPS_APP_KEYS}
README = doc("threat-model.md")


def _run(project: Path, stack: str, config: dict[str, str], drop: tuple[str, ...]) -> Recording:
    return stack_run(stack, {k: v for k, v in config.items() if v}, drop=drop, project_dir=project)


def _app(project: Path, stack: str, extra: dict[str, str], apps_token: bool) -> Recording:
    changes = NO_APPS_APP if apps_token else {}
    config = {**{k: v for k, v in app_config().items() if k not in changes}, **extra}
    unset = tuple(k for k, v in {**changes, **extra}.items() if not v)
    tokens = ("platformToken", "platformTokenExpires") if apps_token else TOKEN_KEYS
    return _run(project, stack, config, (*tokens, "mergeTeams", *unset))


def _rows(stack: Recording, owner: Recording) -> set[threat_model.Row]:
    return threat_model.derive(stack, owner, LABELS)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Recording, Recording]]:
    """Staging's run (image automation: the widest reach) and its owner's, per gitAuth mode."""
    found = {"token": (stack_run("staging", PUSH), stack_run("prod-eu"))}
    for mode, apps_token in (("githubApp, second App", False), ("githubApp, appsToken", True)):
        files = NO_APPS_APP if apps_token else {}
        project = fleet_dir(
            tmp_path_factory.mktemp("fleet"),
            {s: app_stack_file(s, **files) for s in mock.known_stacks(ROOT)},
        )
        staging = _app(project, "staging", PUSH, apps_token)
        owner = _app(project, "prod-eu", APP_OWNER, apps_token)
        found[mode] = (staging, owner)
    return found


@pytest.fixture
def fleets(runs: dict[str, tuple[Recording, Recording]]) -> dict[str, set[threat_model.Row]]:
    """Each mode's rows, derived in the test that reads them (the runs are shared)."""
    return {mode: _rows(stack, owner) for mode, (stack, owner) in runs.items()}


def test_no_tenant_namespace_holds_a_credential_that_climbs(
    fleets: dict[str, set[threat_model.Row]],
) -> None:
    for mode, rows in fleets.items():
        assert threat_model.tenant_violations(rows, PLATFORM_REPOSITORIES) == [], mode
        # The platform credential never leaves flux-system.
        platform = {r.credential for r in rows if r.secret == "flux-system"}
        assert all(r.namespace == "flux-system" for r in rows if r.credential in platform), mode


def test_a_mixed_fleet_keeps_every_tenant_namespace_below_the_platform(tmp_path: Path) -> None:
    # staging on the App, the owner on tokens with the ruleset both the team and the App bypass.
    project = fleet_dir(tmp_path, {"staging": app_stack_file("staging")})
    owner = stack_run(
        "prod-eu", {"botPushAccess": "rulesetBypass", "mergeTeams": "[]"}, project_dir=project
    )
    staging = _app(project, "staging", PUSH, apps_token=False)
    for stack in (staging, owner):
        rows = _rows(stack, owner)
        assert threat_model.tenant_violations(rows, PLATFORM_REPOSITORIES) == []
    # The owner's ruleset lets the App bypass it on d1-infra, and the App stays in flux-system.
    (platform,) = [r for r in _rows(staging, owner) if r.secret == "flux-system"]
    assert "d1-infra" in platform.bypasses


def test_an_app_found_by_its_owner_reaches_what_the_owner_grants_its_installation(
    tmp_path: Path,
) -> None:
    # Flux 2.8 looks the installation up by owner; the owner stack grants it by id.
    by_owner = {
        "githubAppInstallationId": "",
        "githubAppInstallationOwner": "controlplaneio-fluxcd",
        "fluxVersion": "2.8.x",
    }
    project = fleet_dir(
        tmp_path,
        {
            "staging": app_stack_file("staging", **by_owner),
            "prod-eu": app_stack_file("prod-eu"),
        },
    )
    staging = _app(project, "staging", by_owner, apps_token=False)
    owner = _app(project, "prod-eu", APP_OWNER, apps_token=False)
    (platform,) = [r for r in _rows(staging, owner) if r.secret == "flux-system"]
    assert platform.github == "d1-infra (read, push)"
    # In a tenant namespace, the check sees what that credential climbs to.
    leaked = dataclasses.replace(platform, namespace=threat_model.TENANT_NAMESPACE)
    assert threat_model.tenant_violations([leaked], PLATFORM_REPOSITORIES)


def test_the_check_catches_the_app_key_in_a_tenant_namespace(
    fleets: dict[str, set[threat_model.Row]],
) -> None:
    """Before the second App, every tenant copy held the App that reaches and bypasses d1-infra."""
    (platform,) = [r for r in fleets["githubApp, second App"] if r.secret == "flux-system"]
    leaked = threat_model.Row(
        namespace=threat_model.TENANT_NAMESPACE,
        secret="flux-apps",
        credential=platform.credential,
        github=platform.github,
        bypasses=platform.bypasses,
        cluster=platform.cluster,
        readers=platform.readers,
    )
    assert threat_model.tenant_violations([leaked], PLATFORM_REPOSITORIES)


def test_image_automation_without_a_push_token_is_refused() -> None:
    """Image automation would otherwise push with the apps credential every tenant namespace
    holds, which would then need write access: the program refuses the stack instead."""
    with pytest.raises(mock.ProgramError) as caught:
        stack_run("staging", drop=("appsPushToken", "appsPushTokenExpires"))
    assert "d1-fleet:appsPushToken: required with imageAutomation: true" in str(caught.value)
    assert PUSH_TOKEN not in str(caught.value)


def test_the_check_sees_image_automation_sharing_the_tenants_credential() -> None:
    """Were image automation given the apps credential, the derived table would show every
    tenant namespace holding a push credential, and the check would fail."""
    staging = stack_run("staging", PUSH)
    shared = [
        dataclasses.replace(r, inputs={**r.inputs, "stringData": _apps_data(staging)})
        if r.type == "kubernetes:core/v1:Secret"
        and r.inputs["metadata"]["namespace"] == "apps-update"
        else r
        for r in staging.resources
    ]
    rows = _rows(Recording(resources=shared), stack_run("prod-eu"))
    assert threat_model.tenant_violations(rows, PLATFORM_REPOSITORIES) == [
        "each tenant namespace/flux-apps: `appsToken` reaches d1-apps (read, push), bypasses none"
    ]


def _apps_data(stack: Recording) -> dict[str, object]:
    (apps,) = [
        r
        for r in stack.of_type("kubernetes:core/v1:Secret")
        if r.inputs["metadata"]["namespace"] == "flux-system"
        and r.inputs["metadata"]["name"] == "flux-apps"
    ]
    data: dict[str, object] = apps.inputs["stringData"]
    return data


def test_the_push_token_stays_in_apps_update(
    fleets: dict[str, set[threat_model.Row]],
) -> None:
    for mode, rows in fleets.items():
        holders = {r.namespace for r in rows if r.credential == "`appsPushToken`"}
        assert holders == {"apps-update"}, mode


def test_readme_threat_model_is_the_derived_table(
    fleets: dict[str, set[threat_model.Row]],
) -> None:
    section = README.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|"))
    assert table == threat_model.markdown(fleets)


def test_a_hub_keeps_the_platform_credential_in_platform_namespaces(tmp_path: Path) -> None:
    """A hub copies the platform credential into each spoke's namespace (its GitRepository reads
    d1-infra there: a Kustomization's source and kubeConfig Secret live in its own namespace,
    fluxcd/pkg runtime/client/impersonator.go `getRESTConfigFromSecret`); nothing but those
    namespaces' own Flux accounts is bound there, and no tenant namespace holds it."""
    hub = hub_run(tmp_path)
    rows = _rows(hub, hub)
    platform = {
        r.credential for r in rows if r.secret == "flux-system" and r.namespace == "flux-system"
    }
    holders = {r.namespace for r in rows if r.credential in platform}
    assert holders == {"flux-system", threat_model.SPOKE_NAMESPACE}, holders
    assert threat_model.tenant_violations(rows, PLATFORM_REPOSITORIES) == []
    assert threat_model.spoke_namespace_subjects(hub) == []


def test_a_tenant_bound_in_a_spoke_namespace_is_found(tmp_path: Path) -> None:
    hub = hub_run(tmp_path)
    bindings = [r for r in hub.resources if r.type.endswith("RoleBinding")]
    spoke_binding = next(b for b in bindings if "SpokeSync" in b.urn)
    widened = dataclasses.replace(
        spoke_binding,
        inputs={
            **spoke_binding.inputs,
            "subjects": [{"kind": "Group", "name": "team-backend", "apiGroup": RBAC}],
        },
    )
    broken = Recording(
        resources=[widened if r is spoke_binding else r for r in hub.resources],
    )
    assert threat_model.spoke_namespace_subjects(broken) != []


def _token_instructions() -> dict[str, tuple[set[str], bool]]:
    """The token table (docs/first-run.md, Tokens): each token's repositories, and whether it may
    write Contents."""

    section = doc("first-run.md").split("## Tokens", 1)[1].split("\n## ", 1)[0]
    found: dict[str, tuple[set[str], bool]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and "only" in cells[1]:
            token = cells[0].split("`")[1]
            repositories = {cells[1].removesuffix(" only")}
            found[token] = (repositories, "Contents read and write" in cells[2])
    return found


def test_readme_token_instructions_give_each_token_the_threat_models_reach(
    fleets: dict[str, set[threat_model.Row]],
) -> None:
    """Who follows the README's token instructions gives each token no more than the threat model
    says its Secret reaches: `appsToken`, copied into every tenant namespace, reads d1-apps only
    (instructions that grant it Contents write on d1-infra give every tenant push to it)."""
    instructions = _token_instructions()
    assert set(instructions) == {"platformToken", "appsToken", "appsPushToken"}, instructions
    for token, (repositories, writes) in instructions.items():
        rows = {r for rows in fleets.values() for r in rows if r.credential == f"`{token}`"}
        assert rows, token
        reach = {r.github.split(" (", 1)[0] for r in rows}
        pushes = any("push" in r.github for r in rows)
        assert (repositories, writes) == (reach, pushes), token


def row(namespace: str, github: str, bypasses: str = threat_model.NOBODY) -> threat_model.Row:
    return threat_model.Row(namespace, "s", "`token`", github, bypasses, "-", "-")


@pytest.mark.parametrize(
    ("found", "violation"),
    [
        # The platform namespaces may hold the platform credential, on a hub each spoke's too.
        (row("flux-system", "d1-infra (read, push)", "d1-infra"), False),
        (row(threat_model.SPOKE_NAMESPACE, "d1-infra (read)"), False),
        # Image automation's namespace pushes to the applications repository alone.
        (row("apps-update", "d1-apps (read, push)"), False),
        (row("apps-update", "d1-infra (read)"), True),
        (row(threat_model.TENANT_NAMESPACE, "d1-apps (read)"), False),
        (row(threat_model.TENANT_NAMESPACE, "d1-apps (read, push)"), True),
        (row(threat_model.TENANT_NAMESPACE, "d1-apps (read)", "d1-apps"), True),
        (row("monitoring", "d1-fleet (read)"), True),
    ],
)
def test_the_check_exempts_only_the_platform_namespaces_and_image_automation(
    found: threat_model.Row, violation: bool
) -> None:
    flagged = threat_model.tenant_violations([found], PLATFORM_REPOSITORIES)
    assert bool(flagged) is violation, found
    if violation:
        assert flagged == [
            f"{found.namespace}/s: `token` reaches {found.github}, bypasses {found.bypasses}"
        ]


# A small fleet built by hand: objects the program does not declare today (a public source, a
# second role in a namespace, an installation without grants) and names at the edges.
INFRA_TOKEN = "github_pat_" + "I" * 82
READ_TOKEN = "github_pat_" + "R" * 82


def _registration(type_: str, name: str, parent: str, inputs: dict[str, Any]) -> mock.Registration:
    return mock.Registration(
        type=type_,
        name=name,
        urn=f"urn:pulumi:staging::d1-fleet::{parent}${type_}::{name}",
        inputs=inputs,
        parent="",
        dependencies=(),
        protect=False,
        provider="",
        custom=True,
    )


def _object(
    type_: str,
    namespace: str | None,
    name: str,
    inputs: dict[str, Any],
    parent: str = "fleet:flux:Tenant",
) -> mock.Registration:
    meta = {"name": name} if namespace is None else {"namespace": namespace, "name": name}
    return _registration(type_, f"{namespace}-{name}", parent, {"metadata": meta, **inputs})


def _token(
    namespace: str, name: str, token: str, parent: str = "fleet:flux:Tenant"
) -> mock.Registration:
    data = {"username": "git", "password": token, "token": token}
    return _object(t.SECRET, namespace, name, {"stringData": data}, parent)


def _app_key(namespace: str, name: str, **keys_: str) -> mock.Registration:
    data = {**keys_, "githubAppPrivateKey": "-----BEGIN RSA PRIVATE KEY-----"}
    return _object(t.SECRET, namespace, name, {"stringData": data})


def _source(namespace: str, name: str, url: str, secret: str | None) -> mock.Registration:
    spec = {"url": url, **({"secretRef": {"name": secret}} if secret else {})}
    return _object(t.GIT_REPOSITORY, namespace, name, {"spec": spec})


def _automation(namespace: str, source: str) -> mock.Registration:
    spec = {"sourceRef": {"kind": "GitRepository", "name": source}}
    return _object(t.IMAGE_UPDATE_AUTOMATION, namespace, "apps", {"spec": spec})


def _binding(namespace: str | None, role: str, *subjects: dict[str, str]) -> mock.Registration:
    type_ = t.ROLE_BINDING if namespace else t.CLUSTER_ROLE_BINDING
    found = {"subjects": list(subjects)} if subjects else {}
    return _object(
        type_, namespace, role, {"roleRef": {"kind": "ClusterRole", "name": role}, **found}
    )


def _account(namespace: str, name: str) -> dict[str, str]:
    return {"kind": "ServiceAccount", "namespace": namespace, "name": name}


def _group(name: str) -> dict[str, str]:
    return {"kind": "Group", "name": name, "apiGroup": RBAC}


def _grant(installation: str, repository: str) -> mock.Registration:
    inputs = {"installationId": installation, "repository": repository}
    name = f"{installation}-{repository}"
    return _registration(t.APP_INSTALLATION_REPOSITORY, name, "fleet:github:Access", inputs)


def _ruleset(repository: str, *actors: tuple[str, float]) -> mock.Registration:
    """A ruleset on `repository` that `actors` (type, id; the runtime's floats) bypass."""
    bypass = [
        {"actorType": kind, "actorId": actor, "bypassMode": "always"} for kind, actor in actors
    ]
    inputs = {"repository": repository, "bypassActors": bypass}
    return _registration(t.REPOSITORY_RULESET, repository, "fleet:github:Access", inputs)


def _hand_built() -> tuple[Recording, Recording]:
    """A hub-like stack: the App in flux-system pushes d1-infra, a spoke namespace holds a token
    for it, a tenant reads d1-fleet with a token and a public repository without one, another
    holds an App whose installation has no grant, image automation pushes d1-apps."""
    url = "https://github.com/acme/"
    stack = Recording(
        resources=[
            _app_key("flux-system", "flux-system", githubAppID="11", githubAppInstallationID="101"),
            _source("flux-system", "flux-system", url + "d1-infra.git", "flux-system"),
            _automation("flux-system", "flux-system"),
            _token("staging", "flux-system", INFRA_TOKEN, parent="fleet:spokes:SpokeSync"),
            _source("staging", "flux-system", url + "d1-infra.git", "flux-system"),
            _token("team-a", "flux-apps", READ_TOKEN),
            _source("team-a", "flux-apps", url + "d1-fleet", "flux-apps"),
            _source("team-a", "public", url + "charts", None),
            _app_key("team-b", "flux-apps", githubAppID="22", githubAppInstallationID="202"),
            _token("apps-update", "image-push", PUSH_TOKEN),
            _source("apps-update", "flux-apps", url + "d1-apps/", "image-push"),
            _automation("apps-update", "flux-apps"),
            _binding(None, "view"),
            _binding(None, "cluster-admin", _account("flux-system", "kustomize-controller")),
            _binding(None, "cluster-admin", _account("staging", "flux-cluster-admin")),
            _binding("team-a", "view", _group("team-a-viewers")),
            _binding("team-a", "edit", _group("team-a-developers")),
            _binding("team-a", "admin", _account("team-a", "flux-apps")),
            _binding("team-b", "flux-reader", _group("team-b-developers")),
        ]
    )
    owner = Recording(
        resources=[
            _grant("101", "d1-infra"),
            _grant("101", "d1-apps"),
            _ruleset("d1-infra", ("Integration", 11.0), ("Team", 7.0)),
            _ruleset("d1-apps", ("Team", 7.0), ("Integration", 11.0)),
            _ruleset("d1-fleet", ("RepositoryRole", 5.0), ("DeployKey", 0.0)),
        ]
    )
    return stack, owner


CLUSTER_ADMIN = "ClusterRole cluster-admin (cluster-wide)"
ONLY_ADMINS = "cluster administrators"


def _readers(*who: str) -> str:
    return (
        f"{ONLY_ADMINS}; admin/edit holders in the namespace: {', '.join(who)} (whatever the "
        "repository deploys there) and whoever administers the namespace"
    )


HAND_BUILT_ROWS = {
    # An unlabelled App: its id; what its installation covers, pushes where automation writes.
    threat_model.Row(
        "flux-system",
        "flux-system",
        "App 11",
        "d1-apps (read), d1-infra (read, push)",
        "d1-apps, d1-infra",
        CLUSTER_ADMIN,
        ONLY_ADMINS,
    ),
    # An unlabelled token in a spoke's namespace (not a tenant's, though tenants are beside it).
    threat_model.Row(
        threat_model.SPOKE_NAMESPACE,
        "flux-system",
        "a token",
        "d1-infra (read)",
        threat_model.NOBODY,
        CLUSTER_ADMIN,
        ONLY_ADMINS,
    ),
    # A role and a deploy key bypass d1-fleet's rule, not the bot team; the token only reads.
    threat_model.Row(
        threat_model.TENANT_NAMESPACE,
        "flux-apps",
        "`appsToken`",
        "d1-fleet (read)",
        threat_model.NOBODY,
        "ClusterRole admin in the namespace, ClusterRole edit in the namespace, "
        "ClusterRole view in the namespace",
        _readers("Group team-a-developers", "ServiceAccount flux-apps"),
    ),
    # An App whose installation the owner grants nothing.
    threat_model.Row(
        threat_model.TENANT_NAMESPACE,
        "flux-apps",
        "App 22",
        threat_model.NOBODY,
        threat_model.NOBODY,
        "ClusterRole flux-reader in the namespace",
        ONLY_ADMINS,
    ),
    # Image automation's token: the bot team bypasses the rule where it pushes.
    threat_model.Row(
        "apps-update",
        "image-push",
        "`appsPushToken`",
        "d1-apps (read, push)",
        "d1-apps",
        threat_model.NOBODY,
        ONLY_ADMINS,
    ),
}


def test_each_row_says_what_its_credential_reaches_and_who_reads_it() -> None:
    stack, owner = _hand_built()
    labels = {READ_TOKEN: "`appsToken`", PUSH_TOKEN: "`appsPushToken`"}
    assert threat_model.derive(stack, owner, labels) == HAND_BUILT_ROWS


def test_the_table_orders_rows_by_namespace_before_secret() -> None:
    """flux-system first, then the tenants, image automation, and each spoke's namespace last,
    whatever the Secrets are called."""
    table = threat_model.markdown({"hub": HAND_BUILT_ROWS}).splitlines()[2:]
    assert [line.split(" | ")[1:4] for line in table] == [
        ["flux-system", "`flux-system`", "App 11"],
        [threat_model.TENANT_NAMESPACE, "`flux-apps`", "App 22"],
        [threat_model.TENANT_NAMESPACE, "`flux-apps`", "`appsToken`"],
        ["apps-update", "`image-push`", "`appsPushToken`"],
        [threat_model.SPOKE_NAMESPACE, "`flux-system`", "a token"],
    ]


@pytest.mark.parametrize(
    ("url", "repository"),
    [
        ("https://github.com/acme/d1-apps.git", "d1-apps"),
        ("https://github.com/acme/d1-apps/", "d1-apps"),
        ("https://github.com/acme/d1-apps.git/", "d1-apps"),
        ("ssh://git@github.com/acme/FLUX", "FLUX"),
    ],
)
def test_a_source_url_names_its_repository(url: str, repository: str) -> None:
    stack = Recording(
        resources=[_token("team-a", "git", READ_TOKEN), _source("team-a", "apps", url, "git")]
    )
    (found,) = threat_model.derive(stack, Recording(), {})
    assert found.github == f"{repository} (read)"


def test_spoke_namespace_subjects_name_everyone_but_its_own_accounts(tmp_path: Path) -> None:
    """The spoke's own ServiceAccounts are exempt; a group, or an account of another namespace
    (even one named like the spoke's), is listed with its kind and namespace. Bindings in the
    hub's other namespaces are not its concern."""
    hub = hub_run(tmp_path)
    bound = Recording(
        resources=[
            *hub.resources,
            _binding("staging", "admin", _group("team-backend"), _account("staging", "flux")),
            _binding("staging", "view", _account("flux-system", "flux")),
            _binding("flux-system", "admin", _group("platform-team")),
        ]
    )
    assert threat_model.spoke_namespace_subjects(bound) == [
        "staging: Group /team-backend",
        "staging: ServiceAccount flux-system/flux",
    ]
