"""`python -m fleet adopt`: the import file against Pulumi's import file format, its ids against the
objects the program declares, and the URNs it would produce against the committed URN lists.

The format rules are those `pulumi import --file` enforces (pkg/cmd/pulumi/operations/import.go,
parseImportFile): known keys only, a type and a name on every entry, an id on every custom
resource and none on a component, parent and provider given as names that resolve through
`nameTable` or another entry, providers resolving to provider URNs, and unique URNs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleet.cli import main
from fleet.engine import state
from fleet.engine import types as t
from fleet.tools.offline import import_plan, mock
from fleet.tools.operations import adopt
from tests.helpers import EXPORTED_TOKENS, ROOT, app_run, stack_run

SPEC_KEYS = {
    "type",
    "name",
    "id",
    "parent",
    "provider",
    "version",
    "pluginDownloadUrl",
    "properties",
    "component",
    "remote",
    "logicalName",
    "inputs",
    "outputs",
    "parameterization",
    "extension",
}
URNS = ROOT / "tests" / "urns"


def check_import_file(document: dict[str, Any], stack: str) -> set[str]:
    """Apply parseImportFile's rules; return the URNs the engine would give the entries."""
    assert set(document) <= {"nameTable", "resources", "providerInputs"}
    name_table: dict[str, str] = document["nameTable"]
    entries: list[dict[str, Any]] = document["resources"]
    for name, urn in name_table.items():
        assert urn.startswith(f"urn:pulumi:{stack}::d1-fleet::"), name
    names = [e.get("name") or e.get("logicalName") for e in entries]
    assert all(names), "every entry needs a name"
    assert len(names) == len(set(names)), "every entry needs a unique name"
    by_name = {e.get("name") or e["logicalName"]: e for e in entries}
    for entry in entries:
        assert set(entry) <= SPEC_KEYS, entry
        assert entry.get("type"), entry
        if entry.get("remote"):
            assert entry.get("component"), entry
        if entry.get("component"):
            assert "id" not in entry, entry
        elif not entry["type"].startswith("pulumi:providers:"):
            assert entry.get("id"), f"{entry['name']}: a custom resource needs an id"
        for key in ("parent", "provider"):
            if key in entry:
                ref = entry[key]
                assert ref in name_table or ref in by_name, f"{entry['name']}: {key} {ref!r}"
        if "provider" in entry:
            ref = entry["provider"]
            target = name_table.get(ref) or by_name[ref]["type"]
            assert "pulumi:providers:" in target, f"{entry['name']}: {ref} is not a provider"

    def chain(entry: dict[str, Any]) -> str:
        parent = entry.get("parent")
        if parent is None:
            return str(entry["type"])
        if parent in by_name:
            return f"{chain(by_name[parent])}${entry['type']}"
        return f"{name_table[parent].split('::')[2]}${entry['type']}"

    urns = [
        f"urn:pulumi:{stack}::d1-fleet::{chain(e)}::{e.get('logicalName') or e['name']}"
        for e in entries
    ]
    assert len(urns) == len(set(urns)), "ambiguous URNs"
    return set(urns)


def skipped_objects(plan: import_plan.ImportPlan) -> set[str]:
    """`<type> <logical name>` of every resource the plan leaves to `pulumi up`."""
    return {line.split(": ", 1)[0] for line in plan.skipped}


COPIES = ("kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap")
ADMISSION = (
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
)


@pytest.mark.parametrize("stack", ["staging", "prod-eu"])
def test_adopt_file_follows_the_import_format_and_yields_the_stack_urns(stack: str) -> None:
    run = stack_run(stack)
    plan = import_plan.plan(run, stack)
    document = json.loads(plan.text())
    urns = check_import_file(document, stack)
    committed = set((URNS / f"{stack}.txt").read_text().splitlines())
    providers = {u for u in committed if "::pulumi:providers:" in u}
    skipped = skipped_objects(plan)
    left = {
        mock.engine_urn(run, r, stack) for r in run.resources if f"{r.type} {r.name}" in skipped
    }
    # Importing every entry, then `pulumi up`, gives the stack exactly what the program declares.
    assert urns | left == committed - providers
    assert not urns & left
    assert set(document["nameTable"].values()) == providers == set(plan.providers)
    # Left to `up`: the tenant copies Kyverno generated in d1 and the admission policies d1 lacked.
    tenants = {"backend", "frontend"} | ({"apps-update"} if stack == "staging" else set())
    copies = {
        (r.inputs["metadata"]["namespace"], r.inputs["metadata"]["name"])
        for r in run.resources
        if r.type in COPIES and f"{r.type} {r.name}" in skipped_objects(plan)
    }
    assert copies == {(t, n) for t in tenants for n in ("flux-apps", "flux-runtime-info")}
    assert {r.type for r in run.resources if f"{r.type} {r.name}" in skipped_objects(plan)} == {
        *COPIES,
        *ADMISSION,
    }


def test_adopt_leaves_receivers_to_up_and_does_not_fail_on_them() -> None:
    run = stack_run("staging", {"receivers": "true"})
    plan = import_plan.plan(run, "staging")
    skipped = skipped_objects(plan)
    for type_ in (
        "random:index/randomPassword:RandomPassword",
        "github:index/repositoryWebhook:RepositoryWebhook",
        "kubernetes:notification.toolkit.fluxcd.io/v1:Receiver",
        "kubernetes:networking.k8s.io/v1:Ingress",
    ):
        assert any(line.startswith(f"{type_} ") for line in skipped), type_
    imported = {e["type"] for e in plan.document["resources"]}
    assert "random:index/randomPassword:RandomPassword" not in imported


@pytest.mark.parametrize("stack", ["staging", "prod-eu"])
def test_adopt_ids_name_the_declared_objects(stack: str) -> None:
    run = stack_run(stack)
    plan = import_plan.plan(run, stack)
    ids = {
        e["logicalName"]: e.get("id")
        for e in plan.document["resources"]
        if e["name"] == e["logicalName"]
    }
    objects = [
        r for r in run.kubernetes_objects() if f"{r.type} {r.name}" not in skipped_objects(plan)
    ]
    assert len(objects) > 20
    for r in objects:
        meta = r.inputs["metadata"]
        expected = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
        assert ids[r.name] == expected, r.name
    assert ids["cluster-flux-operator-release"] == "flux-system/flux-operator"
    assert ids["cluster-flux-instance"] == "flux-system/flux"
    assert ids["cluster-tenant-backend-namespace"] == "backend"
    assert ids["cluster-credentials-apps"] == "flux-system/flux-apps"
    for e in plan.document["resources"]:
        assert ("id" in e) != bool(e.get("component")), e["name"]


def test_adopt_ids_of_the_github_objects() -> None:
    plan = import_plan.plan(stack_run("prod-eu"), "prod-eu")
    github = {
        e["name"]: e["id"] for e in plan.document["resources"] if e["type"].startswith("github:")
    }
    assert github == {
        "cluster-github-access-team": "flux-bot",
        "cluster-github-access-membership": "flux-bot:controlplaneio-fluxcd-bot",
        "cluster-github-access-d1-infra": "flux-bot:d1-infra",
        "cluster-github-access-d1-apps": "flux-bot:d1-apps",
        "cluster-github-access-d1-infra-protection": "d1-infra:main",
        "cluster-github-access-d1-apps-protection": "d1-apps:main",
    }
    providers = {e["provider"] for e in plan.document["resources"] if "provider" in e}
    assert providers == {"kubernetes", "github"}


def test_adopt_rulesets_need_their_github_id() -> None:
    run = stack_run("prod-eu", {"botPushAccess": "rulesetBypass"})
    without = import_plan.plan(run, "prod-eu")
    rules = [line for line in without.skipped if ":RepositoryRuleset " in line]
    assert len(rules) == 2
    assert "--ruleset-id d1-infra=<id>" in rules[0] + rules[1]
    assert not [
        e for e in without.document["resources"] if e["type"].endswith(":RepositoryRuleset")
    ]
    with_ids = import_plan.plan(
        run, "prod-eu", import_plan.parse_ruleset_ids(["d1-infra=11", "d1-apps=12"])
    )
    rulesets = {
        e["id"] for e in with_ids.document["resources"] if e["type"].endswith(":RepositoryRuleset")
    }
    assert rulesets == {"d1-infra:11", "d1-apps:12"}
    with pytest.raises(import_plan.AdoptError, match="REPOSITORY=NUMERIC_ID"):
        import_plan.parse_ruleset_ids(["d1-infra"])


def fake_pulumi(bin_dir: Path, record: Path, export: dict[str, Any] | None = None) -> Path:
    """A `pulumi` that logs its arguments and answers `stack export` with `export`, or as the CLI
    does for a stack that does not exist yet."""
    bin_dir.mkdir(exist_ok=True)
    saved = bin_dir / "export.json"
    answer = (
        f"cat {saved}"
        if export is not None
        else "echo \"error: no stack named 'staging' found\" >&2; exit 255"
    )
    if export is not None:
        saved.write_text(json.dumps(export))
    fake = bin_dir / "pulumi"
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {record}\necho "$PWD" >> {record}.cwd\n'
        f'case "$*" in "stack export"*) {answer} ;; esac\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return fake


def test_adopt_file_holds_no_values_only_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_pulumi(tmp_path / "bin", tmp_path / "calls.log")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    out = tmp_path / "adopt.json"
    assert main(["adopt", "staging", "--out", str(out)]) == 0
    text = out.read_text()
    assert "OFFLINE_RENDER_PLACEHOLDER" not in text
    for entry in json.loads(text)["resources"]:
        assert not {"inputs", "outputs", "properties"} & set(entry)


def test_team_slug_follows_github() -> None:
    assert import_plan.team_slug("flux-bot") == "flux-bot"
    assert import_plan.team_slug("Flux Bot Team") == "flux-bot-team"


def test_adopt_run_puts_the_providers_in_the_stack_then_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "calls.log"
    # The stack was just created by `stack select --create`: its export holds nothing yet.
    fake_pulumi(bin_dir, record, {"version": 3, "deployment": {"manifest": {}}})
    # kubectl: every Secret as `flux create secret` left it; patches are recorded.
    live = tmp_path / "live.json"
    live.write_text(json.dumps(FLUX_CREATED))
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(
        f'#!/bin/sh\necho "kubectl $@" >> {record}\n'
        f'case "$*" in *" get secret "*) cat {live} ;; esac\n'
    )
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("contexts:\n  - name: staging\n")
    for key, value in {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "KUBECONFIG": str(kubeconfig),
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "FLEET_PLATFORM_TOKEN": "github_pat_" + "p" * 82,
        "FLEET_APPS_TOKEN": "github_pat_" + "a" * 82,
        "FLEET_PLATFORM_TOKEN_EXPIRES": "2099-01-01",
        "FLEET_APPS_TOKEN_EXPIRES": "2099-01-01",
        "FLEET_APPS_PUSH_TOKEN": "github_pat_" + "w" * 82,
        "FLEET_APPS_PUSH_TOKEN_EXPIRES": "2099-01-01",
        "HOME": str(tmp_path),
    }.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "adopt.json"
    args = argparse.Namespace(
        stack="staging", out=out, ruleset_id=[], run=True, project_dir=project
    )
    monkeypatch.chdir(tmp_path)  # not the project: every CLI call runs in the project folder
    assert adopt.run(args) == 0
    assert set(Path(f"{record}.cwd").read_text().split()) == {str(project)}
    shown = capsys.readouterr().out.splitlines()
    assert (
        "staging: flux-system/flux-system: fields of flux, kyverno handed to the stack (its next "
        "update owns them and removes the keys it does not declare)"
    ) in shown
    assert "import with:" not in "\n".join(shown), "--run imports; it does not say how to"
    calls = record.read_text().splitlines()
    assert calls[0] == "stack select --create staging"
    assert calls[1] == "stack export --stack staging", "the state is read once the stack exists"
    pulumi_calls = [c for c in calls if not c.startswith("kubectl ")]
    up, imported = pulumi_calls[-2], pulumi_calls[-1]
    # After the import, each adopted Secret's foreign fields are handed to the stack.
    kubectl_calls = calls[calls.index(imported) + 1 :]
    assert kubectl_calls
    assert all(" --context staging --namespace " in c for c in kubectl_calls)
    patches = [c for c in kubectl_calls if " patch secret " in c]
    assert len(patches) == len([c for c in kubectl_calls if " get secret " in c]) == 2
    assert up.startswith("up --policy-pack policy --stack staging --yes --skip-preview --target ")
    assert "--target urn:pulumi:staging::d1-fleet::pulumi:providers:kubernetes::kubernetes" in up
    assert imported == (
        f"import --stack staging --file {out} --yes --protect=true --generate-code=false"
    )
    assert json.loads(out.read_text())["resources"]
    # Token values reach the CLI through its environment only, never its arguments.
    assert "github_pat_" not in record.read_text()


# A Secret as `flux create secret git` writes it (client-side, field manager "flux"), later
# labelled by Kyverno, and applied once by the stack.
FLUX_CREATED: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Secret",
    "metadata": {
        "name": "flux-system",
        "namespace": "flux-system",
        "resourceVersion": "4711",
        "managedFields": [
            {
                "manager": "flux",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:data": {".": {}, "f:password": {}, "f:username": {}},
                    "f:type": {},
                },
            },
            {
                "manager": "kyverno",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-02-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:data": {"f:token": {}},
                    "f:metadata": {"f:labels": {"f:generate.kyverno.io/policy-name": {}}},
                },
            },
            {
                "manager": "pulumi-kubernetes-1a2b3c",
                "operation": "Apply",
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {"f:password": {}}},
            },
        ],
    },
    "data": {"password": "c2VjcmV0", "username": "Z2l0", "token": "c2VjcmV0"},
}


def test_handover_gives_every_foreign_field_to_the_manager_the_provider_takes_over() -> None:
    ops = adopt.handover_patch(FLUX_CREATED)
    assert ops is not None
    test, replace = ops
    assert test == {"op": "test", "path": "/metadata/resourceVersion", "value": "4711"}
    assert replace["op"] == "replace"
    assert replace["path"] == "/metadata/managedFields"
    stack, handed = replace["value"]
    assert stack == FLUX_CREATED["metadata"]["managedFields"][2]
    assert handed == {
        "manager": "before-first-apply",
        "operation": "Update",
        "apiVersion": "v1",
        "fieldsType": "FieldsV1",
        "time": "2025-02-01T00:00:00Z",
        "fieldsV1": {
            "f:data": {".": {}, "f:password": {}, "f:username": {}, "f:token": {}},
            "f:type": {},
            "f:metadata": {"f:labels": {"f:generate.kyverno.io/policy-name": {}}},
        },
    }
    # Field names only: no value of the Secret travels in the patch.
    assert "c2VjcmV0" not in json.dumps(ops)
    # Once handed over (or never foreign), nothing is left to do.
    after = {
        **FLUX_CREATED,
        "metadata": {**FLUX_CREATED["metadata"], "managedFields": replace["value"]},
    }
    assert adopt.handover_patch(after) is None
    only_stack = {
        **FLUX_CREATED,
        "metadata": {**FLUX_CREATED["metadata"], "managedFields": [stack]},
    }
    assert adopt.handover_patch(only_stack) is None


def test_handover_reads_and_patches_each_adopted_secret_on_the_stack_s_cluster() -> None:
    plan = import_plan.plan(stack_run("staging"), "staging")
    assert plan.kubectl_flags == ("--context", "staging")
    # The tenant copies are left to `up` (Kyverno's are deleted first), so only flux-system's.
    assert sorted(plan.secrets) == ["flux-system/flux-apps", "flux-system/flux-system"]
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        out = json.dumps(FLUX_CREATED) if "get" in command else ""
        return subprocess.CompletedProcess(command, 0, out, "")

    done = adopt.hand_over("kubectl", plan, {}, run_=fake_run)
    assert len(done) == 2
    assert "fields of flux, kyverno handed to the stack" in done[0]
    get, patch = calls[0], calls[1]
    namespace, _, name = plan.secrets[0].rpartition("/")
    base = ["kubectl", "--context", "staging", "--namespace", namespace]
    assert get == [*base, "get", "secret", name, "--output", "json"]
    assert patch[: len(base) + 5] == [*base, "patch", "secret", name, "--type", "json"]
    assert patch[-2] == "--patch"
    assert json.loads(patch[-1]) == adopt.handover_patch(FLUX_CREATED)


def test_adopt_unknown_stack_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adopt", "nope"]) == 2
    assert "no stack file" in capsys.readouterr().err


def test_import_format_check_rejects_what_pulumi_rejects() -> None:
    good = import_plan.plan(stack_run("staging"), "staging").document
    check_import_file(good, "staging")
    missing_id = json.loads(json.dumps(good))
    custom = next(e for e in missing_id["resources"] if "id" in e)
    del custom["id"]
    with pytest.raises(AssertionError, match="needs an id"):
        check_import_file(missing_id, "staging")
    dangling = json.loads(json.dumps(good))
    next(e for e in dangling["resources"] if "parent" in e)["parent"] = "nowhere"
    with pytest.raises(AssertionError, match="parent 'nowhere'"):
        check_import_file(dangling, "staging")


def test_handover_skips_a_secret_the_cluster_does_not_have() -> None:
    plan = import_plan.plan(stack_run("staging"), "staging")

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        if "flux-apps" in command:
            missing = 'Error from server (NotFound): secrets "flux-apps" not found'
            return subprocess.CompletedProcess(command, 1, "", missing)
        out = json.dumps(FLUX_CREATED) if "get" in command else ""
        return subprocess.CompletedProcess(command, 0, out, "")

    done = adopt.hand_over("kubectl", plan, {}, run_=fake_run)
    assert "flux-system/flux-apps: not on the cluster; pulumi up creates it" in done
    assert any(line.startswith("flux-system/flux-system: fields of") for line in done)

    def broken(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "Unable to connect to the server")

    with pytest.raises(import_plan.AdoptError, match="kubectl get failed"):
        adopt.hand_over("kubectl", plan, {}, run_=broken)


def test_adopt_reads_the_fleet_of_the_project_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The owner's GitHub objects depend on the other stack files; run from another folder, the
    # project's own files must still be the ones read.
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.prod-eu.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "Pulumi.rogue.yaml").write_text("config:\n  d1-fleet:gitAuth: [not, a, mode]\n")
    monkeypatch.chdir(elsewhere)
    plan = import_plan.plan_stack(project, "prod-eu")
    assert any(e["type"] == "github:index/team:Team" for e in plan.document["resources"])


def export_of(run: mock.Recording, stack: str, leave_out: Any = lambda r: False) -> Any:
    """The stack's `pulumi stack export` once `up` created what `run` declares (engine format,
    pulumi sdk/go/common/apitype/core.go `UntypedDeployment`/`ResourceV3`), without `leave_out`.

    Ids are what `up` records (GitHub's numbers and node ids), never the import ids."""
    resources = [
        {
            "urn": f"urn:pulumi:{stack}::d1-fleet::pulumi:pulumi:Stack::d1-fleet-{stack}",
            "custom": False,
            "type": "pulumi:pulumi:Stack",
        }
    ]
    for index, r in enumerate(run.resources):
        if leave_out(r):
            continue
        state: dict[str, Any] = {
            "urn": mock.engine_urn(run, r, stack),
            "custom": r.custom,
            "type": r.type,
        }
        if r.custom:
            state["id"] = str(1000 + index)
        resources.append(state)
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def in_state(run: mock.Recording, stack: str, leave_out: Any = lambda r: False) -> Any:
    return state.urns(export_of(run, stack, leave_out))


def check_parents_known(document: dict[str, Any], state: frozenset[str]) -> None:
    """`ImportStep.Apply` (pulumi pkg/resource/deploy/step.go) refuses an entry whose URN is in
    the state ("already exists") or whose parent is neither in the state (registered first by
    `registerExistingResources`, pkg/resource/deploy/import.go) nor created by the file."""
    by_name = {e["name"]: e for e in document["resources"]}
    for entry in document["resources"]:
        parent = entry.get("parent")
        if parent is None:
            continue
        if parent in by_name:
            assert by_name[parent].get("component") or by_name[parent].get("id"), entry
        else:
            assert document["nameTable"][parent] in state, f"{entry['name']}: unknown parent"


def tenant_of(name: str) -> Any:
    def inside(r: mock.Registration, run: mock.Recording) -> bool:
        node: mock.Registration | None = r
        by_urn = {x.urn: x for x in run.resources}
        while node is not None:
            if node.type == t.TENANT and node.name == f"cluster-tenant-{name}":
                return True
            node = by_urn.get(node.parent)
        return False

    return inside


@pytest.mark.parametrize(
    ("stack", "app"), [("staging", False), ("prod-eu", False), ("prod-eu", True)]
)
def test_adopt_again_imports_nothing_the_state_holds(stack: str, app: bool) -> None:
    """Second run on an adopted (or `up`-created) stack: every URN is in the state with an id the
    file could not reproduce, so nothing is listed and `pulumi import` is not run (`ImportStep.Apply`
    in pulumi pkg/resource/deploy/step.go: "already exists"), in either credential mode."""
    run = app_run(stack, {"botPushAccess": "rulesetBypass"}) if app else stack_run(stack)
    plan = import_plan.plan(run, stack, in_state=in_state(run, stack))
    assert plan.document["resources"] == []
    assert not plan.secrets


def test_adopt_with_part_of_the_stack_in_state_imports_the_rest_under_known_parents() -> None:
    """A tenant missing from the state of a running prod-eu: its entries (components too) and
    nothing else; the cluster component it hangs under comes from `nameTable`, since the import
    registers the state's resources first (`registerExistingResources`, pulumi
    pkg/resource/deploy/import.go)."""
    run = stack_run("prod-eu")
    missing = tenant_of("backend")
    state = in_state(run, "prod-eu", lambda r: missing(r, run))
    plan = import_plan.plan(run, "prod-eu", in_state=state)
    urns = check_import_file(plan.document, "prod-eu")
    check_parents_known(plan.document, state)
    expected = {mock.engine_urn(run, r, "prod-eu") for r in run.resources if missing(r, run)}
    skipped = {
        mock.engine_urn(run, r, "prod-eu")
        for r in run.resources
        if f"{r.type} {r.name}" in skipped_objects(plan)
    }
    assert urns == expected - skipped
    assert "urn:pulumi:prod-eu::d1-fleet::fleet:index:Cluster::cluster" in (
        plan.document["nameTable"].values()
    )


def test_adopt_only_a_removed_production_tenant_imports_its_retained_namespace() -> None:
    """Re-adding a removed production tenant: removing it deleted all but its namespace
    (`retainOnDelete`: `DeleteStep.Apply`, pulumi pkg/resource/deploy/step.go, deletes nothing),
    and its components left the state with it. The file holds the namespace and the two
    components above it, which the engine creates empty (`importResources`, pulumi
    pkg/resource/deploy/import.go) parents first, each completed step recorded as a new resource
    (`stepExecutor` in pkg/resource/deploy/step_executor.go), so the namespace's parent is known
    (`ImportStep.Apply`)."""
    run = stack_run("prod-eu", {"tenants": '["backend", "frontend", "payments"]'})
    removed = tenant_of("payments")
    state = in_state(run, "prod-eu", lambda r: removed(r, run))
    plan = import_plan.plan(
        run, "prod-eu", in_state=state, only=import_plan.parse_selection("tenant:payments")
    )
    check_import_file(plan.document, "prod-eu")
    check_parents_known(plan.document, state)
    entries = {(e["type"], e["logicalName"], e.get("id")) for e in plan.document["resources"]}
    assert entries == {
        ("fleet:tenants:Tenant", "cluster-tenant-payments", None),
        ("fleet:tenants:TenantNamespace", "cluster-tenant-payments", None),
        ("kubernetes:core/v1:Namespace", "cluster-tenant-payments-namespace", "payments"),
    }
    assert plan.document["nameTable"]["cluster"] == (
        "urn:pulumi:prod-eu::d1-fleet::fleet:index:Cluster::cluster"
    )
    # The rest of the tenant is left to `up`, and nothing of the other tenants is touched.
    assert {line.split(": ")[0].split(" ")[1] for line in plan.skipped} >= {
        "cluster-tenant-payments-kustomization",
        "cluster-tenant-payments-source",
    }
    assert not [line for line in plan.skipped if "backend" in line or "frontend" in line]


def test_adopt_only_a_tenant_never_takes_one_whose_name_it_prefixes() -> None:
    # `front` and `frontend` both removed from the state: `--only tenant:front` takes front alone.
    run = stack_run("prod-eu", {"tenants": '["backend", "front", "frontend"]'})
    gone = (tenant_of("front"), tenant_of("frontend"))
    state = in_state(run, "prod-eu", lambda r: any(removed(r, run) for removed in gone))
    plan = import_plan.plan(
        run, "prod-eu", in_state=state, only=import_plan.parse_selection("tenant:front")
    )
    names = {e["logicalName"] for e in plan.document["resources"]}
    assert names == {"cluster-tenant-front", "cluster-tenant-front-namespace"}
    assert not [line for line in plan.skipped if "frontend" in line]
    # Nor a component whose name is a prefix of one the stack runs: it is not declared at all.
    with pytest.raises(import_plan.AdoptError, match="declares no component 'monitor'"):
        import_plan.plan(run, "prod-eu", only=import_plan.parse_selection("component:monitor"))


def test_adopt_only_what_removal_left_on_staging_and_for_components_is_nothing() -> None:
    """Staging retains nothing and a platform component's Kustomizations are deleted with it
    (`DeleteStep.Apply`, pulumi pkg/resource/deploy/step.go): `up` recreates them, no import."""
    run = stack_run("staging")
    tenant = import_plan.plan(run, "staging", only=import_plan.parse_selection("tenant:backend"))
    assert [e for e in tenant.document["resources"] if "id" in e] == []
    assert tenant.skipped
    prod = stack_run("prod-eu")
    component = import_plan.plan(
        prod, "prod-eu", only=import_plan.parse_selection("component:monitoring")
    )
    assert component.document["resources"] == []
    assert {line.split(": ")[0].split(" ")[1] for line in component.skipped} == {
        "cluster-platform-monitoring-controllers",
        "cluster-platform-monitoring-configs",
    }


def test_adopt_only_refuses_what_it_cannot_select() -> None:
    for value in ("tenant", "tenant:", "namespace:backend"):
        with pytest.raises(
            import_plan.AdoptError, match="expected tenant:<name> or component:<name>"
        ):
            import_plan.parse_selection(value)


def test_adopt_cli_reads_the_state_and_writes_only_the_removed_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    prod = (ROOT / "Pulumi.prod-eu.yaml").read_text()
    (project / "Pulumi.prod-eu.yaml").write_text(
        prod + "  d1-fleet:tenants: [backend, frontend, payments]\n"
    )
    run = stack_run("prod-eu", project_dir=project)
    removed = tenant_of("payments")
    record = tmp_path / "calls.log"
    fake_pulumi(tmp_path / "bin", record, export_of(run, "prod-eu", lambda r: removed(r, run)))
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    out = tmp_path / "adopt.json"
    argv = ["adopt", "prod-eu", "--only", "tenant:payments", "--out", str(out)]
    assert main([*argv, "--project-dir", str(project)]) == 0
    assert record.read_text().splitlines() == ["stack export --stack prod-eu"]
    document = json.loads(out.read_text())
    assert [e["id"] for e in document["resources"] if "id" in e] == ["payments"]
    shown = capsys.readouterr().out
    assert "1 resources to import" in shown
    assert "already in the stack's state left out" in shown
    assert main(["adopt", "prod-eu", "--only", "pod:x", "--project-dir", str(project)]) == 2


def test_adopt_says_the_imported_operator_release_is_upgraded_in_place() -> None:
    """pulumi-kubernetes `provider/pkg/provider/helm_release.go`: `importRelease` records the
    chart's own name (the OCI reference is not in the release), so the program's chart differs and
    the next `up` runs a Helm upgrade; `helmReleaseProvider.Diff` replaces only on a changed `name`
    or `namespace`, which the import id fixes to the program's."""
    run = stack_run("prod-eu")
    (release,) = run.of_type(t.HELM_RELEASE)
    plan = import_plan.plan(run, "prod-eu")
    inputs = release.inputs
    assert import_plan.imported_chart(inputs["chart"]) == "flux-operator" != inputs["chart"]
    (entry,) = [e for e in plan.document["resources"] if e["type"] == t.HELM_RELEASE]
    assert entry["id"] == f"{inputs['namespace']}/{inputs['name']}"
    (note,) = plan.next_steps
    assert f"at chart version {inputs['version']}" in note
    assert "'flux-operator'" in note
    assert inputs["chart"] in note
    assert "shows it as an update" in note
    assert "nothing is replaced" in note
    # Not imported (already in the state): nothing to say.
    state = in_state(run, "prod-eu")
    assert import_plan.plan(run, "prod-eu", in_state=state).next_steps == ()


def test_hand_over_after_an_import_by_hand_covers_every_adopted_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `pulumi import` by hand the Secrets are in the state; hand-over still takes them all
    and never reads the state to leave them out."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text("#!/bin/sh\nexit 0\n")
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    handed: list[tuple[str, ...]] = []

    def record(_: str, plan: import_plan.ImportPlan, __: Any) -> list[str]:
        handed.append(plan.secrets)
        return []

    monkeypatch.setattr(adopt, "hand_over", record)
    args = argparse.Namespace(
        stack="staging",
        out=None,
        ruleset_id=[],
        run=False,
        hand_over_secrets=True,
        project_dir=ROOT,
    )
    never = lambda stack: pytest.fail(f"read the state of {stack}")  # noqa: E731
    assert adopt.run(args, read_state=never) == 0
    # Registration order follows the SDK's resolution of outputs, so compare as a set.
    assert [set(h) for h in handed] == [{"flux-system/flux-system", "flux-system/flux-apps"}]


def _kubectl(tmp_path: Path, script: str) -> dict[str, str]:
    """A kubectl on PATH running `script` (sh), called through the real subprocess.run; the
    environment hand_over is given, which is all kubectl sees."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f"#!/bin/sh\n{script}\n")
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", "KUBECONFIG": str(tmp_path / "kubeconfig")}


def test_handover_runs_kubectl_with_the_stack_s_environment_and_reads_its_answers(
    tmp_path: Path,
) -> None:
    plan = import_plan.plan(stack_run("staging"), "staging")
    first, second = plan.secrets
    live = tmp_path / "live.json"
    live.write_text(json.dumps(FLUX_CREATED))
    record = tmp_path / "record"
    env = _kubectl(
        tmp_path,
        f'echo "$KUBECONFIG $*" >> {record}\n'
        f'case "$*" in\n'
        f'  *"get secret {first.rpartition("/")[2]} "*)\n'
        f'    echo "Error from server (NotFound): secrets not found" >&2; exit 1 ;;\n'
        f'  *" get secret "*) cat {live} ;;\n'
        "esac",
    )
    done = adopt.hand_over("kubectl", plan, env)
    # The first Secret is missing: reported, and the next one is still handed over.
    assert done[0] == f"{first}: not on the cluster; pulumi up creates it"
    assert done[1] == (
        f"{second}: fields of flux, kyverno handed to the stack (its next update owns them "
        "and removes the keys it does not declare)"
    )
    calls = record.read_text().splitlines()
    assert all(c.startswith(f"{tmp_path / 'kubeconfig'} --context staging ") for c in calls)
    assert [c.split()[5] for c in calls] == ["get", "get", "patch"]


def test_handover_stops_on_a_patch_the_server_refuses_and_says_why(tmp_path: Path) -> None:
    plan = import_plan.plan(stack_run("staging"), "staging")
    live = tmp_path / "live.json"
    live.write_text(json.dumps(FLUX_CREATED))
    env = _kubectl(
        tmp_path,
        f'case "$*" in\n  *" get secret "*) cat {live} ;;\n'
        '  *) echo "the server rejected our request: resourceVersion changed" >&2; exit 1 ;;\n'
        "esac",
    )
    with pytest.raises(import_plan.AdoptError) as refused:
        adopt.hand_over("kubectl", plan, env)
    assert str(refused.value) == (
        f"{plan.secrets[0]}: kubectl patch failed: the server rejected our request: "
        "resourceVersion changed"
    )


def test_handover_skips_a_secret_the_stack_owns_and_goes_on(tmp_path: Path) -> None:
    plan = import_plan.plan(stack_run("staging"), "staging")
    first, second = plan.secrets
    owned = {**FLUX_CREATED, "metadata": {**FLUX_CREATED["metadata"], "managedFields": []}}
    (tmp_path / "owned.json").write_text(json.dumps(owned))
    (tmp_path / "live.json").write_text(json.dumps(FLUX_CREATED))
    env = _kubectl(
        tmp_path,
        f'case "$*" in\n  *"get secret {first.rpartition("/")[2]} "*) cat {tmp_path}/owned.json ;;\n'
        f'  *" get secret "*) cat {tmp_path}/live.json ;;\nesac',
    )
    done = adopt.hand_over("kubectl", plan, env)
    assert done[0] == f"{first}: owned by the stack already"
    assert done[1].startswith(f"{second}: fields of flux, kyverno handed to the stack")


def _entry(manager: str, time: str, **extra: Any) -> dict[str, Any]:
    return {
        "manager": manager,
        "operation": "Update",
        "apiVersion": "v1",
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:data": {f"f:{manager}": {}}},
        **extra,
    }


def test_handover_keeps_subresource_entries_and_dates_the_handed_entry_by_the_latest() -> None:
    entries = [
        _entry("flux", "2025-01-01T00:00:00Z"),
        _entry("kyverno", "2025-03-01T00:00:00Z"),
        _entry("kubectl-edit", "2025-02-01T00:00:00Z"),
        _entry("kube-controller-manager", "2025-04-01T00:00:00Z", subresource="status"),
    ]
    live = {"metadata": {"resourceVersion": "7", "managedFields": entries}}
    ops = adopt.handover_patch(live)
    assert ops is not None
    kept, handed = ops[1]["value"]
    assert kept == entries[3], "a subresource's entry is not the object's fields"
    assert handed["time"] == "2025-03-01T00:00:00Z", "the newest of the three, not the second"
    assert set(handed["fieldsV1"]["f:data"]) == {"f:flux", "f:kyverno", "f:kubectl-edit"}


def test_handover_is_needed_while_another_manager_sits_beside_an_earlier_handover() -> None:
    entries = [
        _entry(adopt.HANDOVER_MANAGER, "2025-01-01T00:00:00Z"),
        _entry("kyverno", "2025-02-01T00:00:00Z"),
    ]
    ops = adopt.handover_patch({"metadata": {"resourceVersion": "7", "managedFields": entries}})
    assert ops is not None
    [handed] = ops[1]["value"]
    assert set(handed["fieldsV1"]["f:data"]) == {f"f:{adopt.HANDOVER_MANAGER}", "f:kyverno"}


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.staging.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    return project


def test_adopt_without_run_writes_the_file_here_and_says_the_two_next_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    fake_pulumi(tmp_path / "bin", tmp_path / "calls.log")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    assert main(["adopt", "staging", "--project-dir", str(project)]) == 0
    assert json.loads((tmp_path / "adopt-staging.json").read_text())["resources"]
    shown = capsys.readouterr().out.splitlines()
    assert shown[-2:] == [
        "staging: import with: python -m fleet adopt staging --run "
        "(see docs/lifecycle.md#adopting-a-running-cluster)",
        "staging: after an import by hand, before the next up: "
        "python -m fleet adopt staging --hand-over-secrets",
    ]
    notes = [line for line in shown if line.startswith("staging: not imported: ")]
    assert notes, "what up creates instead is named"
    assert any(
        line.startswith("staging: after the import: helm release flux-system/flux-operator: ")
        for line in shown
    )
    assert set(Path(f"{tmp_path / 'calls.log'}.cwd").read_text().split()) == {str(project)}


def test_adopt_run_with_everything_in_the_state_imports_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _runnable(tmp_path, monkeypatch)
    record = tmp_path / "calls.log"
    # A stack only this project has: every step reads the project given, not the checkout.
    shutil.move(project / "Pulumi.staging.yaml", project / "Pulumi.lab.yaml")
    everything = in_state(stack_run("lab", project_dir=project), "lab")
    args = argparse.Namespace(
        stack="lab", out=tmp_path / "adopt.json", ruleset_id=[], run=True, project_dir=project
    )
    assert adopt.run(args, read_state={"lab": everything}.__getitem__) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "lab: nothing to import; pulumi up creates the rest"
    )
    assert record.read_text().splitlines() == ["stack select --create lab"]


def test_adopt_run_stops_before_the_cli_when_the_stack_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    record = tmp_path / "calls.log"
    fake_pulumi(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    for key in EXPORTED_TOKENS:
        monkeypatch.delenv(key, raising=False)
    assert main(["adopt", "staging", "--run", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot run:")
    assert "d1-fleet:platformToken: no token" in err
    assert not record.exists(), "nothing ran"


def test_adopt_refuses_a_ruleset_id_without_its_repository_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    record = tmp_path / "calls.log"
    fake_pulumi(tmp_path / "bin", record)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    argv = ["adopt", "staging", "--ruleset-id", "4242", "--project-dir", str(project)]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert not record.exists()


def _runnable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pulumi_script: str = "") -> Path:
    """A project with staging, tokens and a kube context: what `adopt --run` needs to start."""
    project = _project(tmp_path)
    bin_dir = tmp_path / "bin"
    fake_pulumi(bin_dir, tmp_path / "calls.log")
    if pulumi_script:
        (bin_dir / "pulumi").write_text(f"#!/bin/sh\n{pulumi_script}\n")
    for key, value in {**EXPORTED_TOKENS, "PATH": f"{bin_dir}:/usr/bin:/bin"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.setenv("HOME", str(tmp_path))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("contexts:\n  - name: staging\n")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    return project


def test_adopt_run_stops_with_the_cli_s_code_when_the_stack_cannot_be_selected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _runnable(tmp_path, monkeypatch, 'echo "error: backend unreachable" >&2; exit 7')
    assert main(["adopt", "staging", "--run", "--project-dir", str(project)]) == 7


def test_adopt_run_refuses_a_selection_it_cannot_find_before_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _runnable(tmp_path, monkeypatch)
    argv = ["adopt", "staging", "--run", "--only", "tenant:nope", "--project-dir", str(project)]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "error: --only tenant:nope: stack staging declares no tenant 'nope'; add it to the stack "
        "file first\n"
    )
    assert not (tmp_path / "calls.log").exists(), "no stack selected, nothing created"


def test_adopt_without_the_cli_says_it_reads_the_state_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["adopt", "staging", "--project-dir", str(project)]) == 2
    assert capsys.readouterr().err.startswith(
        "error: the Pulumi CLI is not on PATH: adopt reads the stack's state (pulumi stack "
        "export) to leave out what it already holds; "
    )


def test_hand_over_alone_needs_kubectl_and_says_how_to_run_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["adopt", "staging", "--hand-over-secrets", "--project-dir", str(project)]) == 2
    assert capsys.readouterr().err == (
        "error: kubectl is not on PATH: it gives the stack ownership of the adopted Secrets' "
        "keys; install it and run: python -m fleet adopt staging --hand-over-secrets\n"
    )


def test_hand_over_alone_reports_kubectl_s_failure_and_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path)
    env = _kubectl(tmp_path, 'echo "Unable to connect to the server" >&2; exit 1')
    monkeypatch.setenv("PATH", env["PATH"])
    assert main(["adopt", "staging", "--hand-over-secrets", "--project-dir", str(project)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: flux-system/")
    assert err.endswith(": kubectl get failed: Unable to connect to the server\n")


def test_adopt_puts_each_given_ruleset_id_in_the_import_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path)
    prod = (ROOT / "Pulumi.prod-eu.yaml").read_text()
    prod = prod.replace("botPushAccess: branchProtection", "botPushAccess: rulesetBypass")
    (project / "Pulumi.prod-eu.yaml").write_text(
        "\n".join(line for line in prod.splitlines() if "mergeTeams" not in line) + "\n"
    )
    fake_pulumi(tmp_path / "bin", tmp_path / "calls.log")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    out = tmp_path / "adopt.json"
    argv = ["adopt", "prod-eu", "--ruleset-id", "d1-infra=11", "--out", str(out)]
    assert main([*argv, "--project-dir", str(project)]) == 0
    ids = {e.get("id") for e in json.loads(out.read_text())["resources"]}
    assert "d1-infra:11" in ids
