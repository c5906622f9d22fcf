"""The e2e lifecycle scenario's judgement, on preview JSON written in the engine's format.

`pulumi preview --json` prints pulumi `pkg/display/json.go`'s `previewDigest`: `steps` of
`previewStep` (`op`, `urn`, `provider`, `oldState`/`newState` as `apitype.ResourceV3` with
`type` and `inputs`, `diffReasons`, `detailedDiff`); the `op` values are the engine's
`StepOp` constants (pulumi `pkg/resource/deploy/step.go`: `same`, `create`, `update`, `delete`,
`replace`, `create-replacement`, `delete-replaced`).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from fleet.tools.ephemeral import lifecycle
from fleet.tools.offline.mock import engine_urn
from tests.helpers import APPS_TOKEN, PLATFORM_TOKEN, ROOT, stack_run

STACK = "staging"
URN = f"urn:pulumi:{STACK}::d1-fleet::fleet:index:Cluster$"


def state(type_: str, name: str, namespace: str | None, logical: str) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {
        "urn": f"{URN}{type_}::{logical}",
        "custom": True,
        "type": type_,
        "inputs": {"metadata": meta},
        "outputs": {"metadata": meta},
    }


def step(op: str, type_: str, name: str, namespace: str | None, logical: str) -> dict[str, Any]:
    """One `previewStep`: `oldState` for what exists, `newState` for what will."""
    body = state(type_, name, namespace, logical)
    found: dict[str, Any] = {"op": op, "urn": body["urn"], "provider": "urn::kubernetes::id"}
    if op != "create":
        found["oldState"] = body
    if op != "delete":
        found["newState"] = body
    if op in ("update", "replace", "create-replacement"):
        found["diffReasons"] = ["stringData"]
        found["detailedDiff"] = {"stringData": {"kind": "update", "inputDiff": True}}
    return found


def digest(*steps: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for s in steps:
        counts[s["op"]] = counts.get(s["op"], 0) + 1
    return {"config": {}, "steps": list(steps), "changeSummary": counts, "duration": 1}


SECRET = "kubernetes:core/v1:Secret"
NAMESPACE = "kubernetes:core/v1:Namespace"
ROTATION = digest(
    step("update", SECRET, "flux-system", "flux-system", "cluster-credentials-platform"),
    step("update", SECRET, "flux-apps", "flux-system", "cluster-credentials-apps"),
    step("update", SECRET, "flux-apps", "backend", "cluster-tenant-backend-apps-secret"),
    step("same", NAMESPACE, "flux-system", None, "cluster-flux-system-namespace"),
)


def test_rotation_that_updates_the_git_secrets_in_place_passes() -> None:
    assert lifecycle.rotation_problems(ROTATION) == []


@pytest.mark.parametrize("op", ["replace", "create-replacement", "delete-replaced"])
def test_rotation_that_replaces_a_secret_fails(op: str) -> None:
    """`replace`, `create-replacement` and `delete-replaced` (pulumi pkg/resource/deploy/step.go
    `OpReplace`, `OpCreateReplacement`, `OpDeleteReplaced`) delete the Secret Flux reads."""
    replaced = digest(
        *ROTATION["steps"][:2],
        step(op, SECRET, "flux-apps", "backend", "cluster-tenant-backend-apps-secret"),
    )
    problems = lifecycle.rotation_problems(replaced)
    assert any(p.startswith(f"{op} ") and "replaces nothing" in p for p in problems)


def test_rotation_that_leaves_a_git_secret_alone_fails() -> None:
    only_apps = digest(ROTATION["steps"][1])
    assert lifecycle.rotation_problems(only_apps) == [
        "Secret flux-system: not updated by the rotation"
    ]


TENANT_STEPS = [
    ("kubernetes:core/v1:Namespace", "lifecycle", None, "cluster-tenant-lifecycle-namespace"),
    ("kubernetes:core/v1:Secret", "flux-apps", "lifecycle", "cluster-tenant-lifecycle-apps-secret"),
    (
        "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization",
        "flux-lifecycle",
        "lifecycle",
        "cluster-tenant-lifecycle-kustomization",
    ),
]


@pytest.mark.parametrize("op", ["create", "delete"])
def test_tenant_change_touching_only_that_tenant_passes(op: str) -> None:
    preview = digest(*(step(op, *s) for s in TENANT_STEPS))
    assert lifecycle.tenant_problems(preview, "lifecycle", op) == []


def test_tenant_change_touching_anything_else_fails() -> None:
    preview = digest(
        *(step("create", *s) for s in TENANT_STEPS),
        step("update", SECRET, "flux-apps", "backend", "cluster-tenant-backend-apps-secret"),
        step("delete", *TENANT_STEPS[1]),
    )
    problems = lifecycle.tenant_problems(preview, "lifecycle", "create")
    assert any("cluster-tenant-backend-apps-secret: only tenant lifecycle" in p for p in problems)
    assert any("cluster-tenant-lifecycle-apps-secret: expected create" in p for p in problems)
    assert lifecycle.tenant_problems(digest(), "lifecycle", "create") == [
        "tenant lifecycle: its namespace is not planned for create"
    ]


class FakeCli:
    """Answers the scenario's `pulumi` calls as the CLI would, and records them."""

    def __init__(self, export: dict[str, Any], previews: list[dict[str, Any]]) -> None:
        self.export = export
        self.previews = previews
        self.calls: list[list[str]] = []
        self.preview_envs: list[dict[str, str]] = []

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(argv[1:])
        verb = argv[1:3]
        out = ""
        if verb[0] == "preview":
            self.preview_envs.append(kwargs["env"])
            out = json.dumps(self.previews.pop(0))
        elif verb == ["config", "get"]:
            out = json.dumps({"value": '["backend", "frontend"]', "secret": False})
        elif verb == ["stack", "export"]:
            out = json.dumps(self.export)
        return subprocess.CompletedProcess(argv, 0, out, "")


def export_of_staging() -> dict[str, Any]:
    """`pulumi stack export` (pulumi sdk/go/common/apitype/core.go) of an `up`-created staging."""
    run = stack_run(STACK)
    return {
        "version": 3,
        "deployment": {
            "manifest": {},
            "resources": [
                {"urn": engine_urn(run, r, STACK), "custom": r.custom, "type": r.type}
                for r in run.resources
            ],
        },
    }


def test_scenario_runs_rotation_then_add_remove_bring_back_then_adopt(tmp_path: Path) -> None:
    created = digest(*(step("create", *s) for s in TENANT_STEPS))
    deleted = digest(*(step("delete", *s) for s in TENANT_STEPS))
    cli = FakeCli(export_of_staging(), [ROTATION, created, deleted, created])
    env = {
        "FLEET_PLATFORM_TOKEN": PLATFORM_TOKEN,
        "FLEET_APPS_TOKEN": APPS_TOKEN,
        "PULUMI_BACKEND_URL": f"file://{tmp_path}",
    }
    shown: list[str] = []
    scenario = lifecycle.Scenario(STACK, ROOT, env, run=cli)
    lifecycle.run_scenario(scenario, shown.append)
    verbs = [" ".join(c[:3]) for c in cli.calls]
    assert verbs[:2] == ["preview --json --policy-pack", "config get d1-fleet:tenants"]
    runs = [c for c in cli.calls if c[0] in ("preview", "up")]
    assert all(c[c.index("--policy-pack") + 1] == "policy" for c in runs), "the pack on every run"
    writes = [c for c in cli.calls if c[:2] in (["config", "rm"], ["config", "set"])]
    lists: list[list[str]] = []
    for call in writes:
        if call[1] == "rm":
            assert call[2] == "d1-fleet:tenants"
            lists.append([])
        else:
            assert call[2:4] == ["--path", f"d1-fleet:tenants[{len(lists[-1])}]"]
            lists[-1].append(call[4])
    assert lists == [
        ["backend", "frontend", "lifecycle"],
        ["backend", "frontend"],
        ["backend", "frontend", "lifecycle"],
        ["backend", "frontend"],
    ]
    assert verbs.count("up --yes --skip-preview") == 4
    assert verbs[-1] == "stack export --stack"
    # The rotated tokens reach the preview through its environment, never its arguments.
    rotated = cli.preview_envs[0]
    assert rotated["FLEET_APPS_TOKEN"] != APPS_TOKEN
    assert rotated["FLEET_APPS_TOKEN"].startswith("github_pat_")
    assert rotated["FLEET_APPS_TOKEN"] not in " ".join(" ".join(c) for c in cli.calls)
    assert cli.preview_envs[1]["FLEET_APPS_TOKEN"] == APPS_TOKEN
    assert shown[-1] == "staging: fleet adopt finds nothing to import"


def test_scenario_stops_at_the_first_wrong_plan(tmp_path: Path) -> None:
    replaced = digest(step("replace", *TENANT_STEPS[1]))
    cli = FakeCli(export_of_staging(), [replaced])
    env = {"FLEET_APPS_TOKEN": APPS_TOKEN, "PULUMI_BACKEND_URL": f"file://{tmp_path}"}
    with pytest.raises(lifecycle.ScenarioError, match="token rotation"):
        lifecycle.run_scenario(lifecycle.Scenario(STACK, ROOT, env, run=cli), print)
    assert not [c for c in cli.calls if c[0] == "up"], "nothing is applied after a wrong plan"


def test_scenario_without_tokens_says_which_variables() -> None:
    with pytest.raises(lifecycle.ScenarioError, match="FLEET_PLATFORM_TOKEN and FLEET_APPS_TOKEN"):
        lifecycle.rotated({})


def test_tenants_are_written_as_a_list_the_cli_accepts() -> None:
    """`tenants` is typed `array<string>` in Pulumi.yaml: the CLI refuses a plain string there
    (pulumi pkg/workspace/config.go, as `fleet.tools.offline.cli_config` applies it), while
    `pulumi config set --path 'key[i]'` builds a list value (sdk/go/common/resource/config/map.go,
    `Map.Set`), the shape the scenario writes."""
    from fleet.tools.offline import cli_config  # noqa: PLC0415

    project = cli_config.load_project(cli_config.load_yaml((ROOT / "Pulumi.yaml").read_text()))
    base = cli_config.stack_file_config(ROOT / "Pulumi.staging.yaml")
    secrets = frozenset({"d1-fleet:platformToken", "d1-fleet:appsToken"})
    as_text = {**base, "d1-fleet:tenants": '["backend", "lifecycle"]'}
    as_list = {**base, "d1-fleet:tenants": ["backend", "lifecycle"]}
    refused = cli_config.merge(project, "staging", as_text, secret_keys=secrets)[1]
    assert any("d1-fleet:tenants" in p and "array<string>" in p for p in refused)
    assert cli_config.merge(project, "staging", as_list, secret_keys=secrets)[1] == []
