"""`fleet review`: the summary and the gate over preview digests in the engine's exact format.

Each digest is what `pulumi preview --json` prints (`PreviewDigest`, pulumi/pulumi
`pkg/display/json.go`, filled by `pkg/backend/display/json.go`; op names from
`pkg/resource/deploy/step.go`), built by tests/preview_digests.py from two runs of the real program
under mocks: the stack before and after a config change, so every URN, type and input is one the
program registers. What the engine or a provider would add on its own (live fields, the provider's
verdict that a change needs a replacement) is named where a test adds it.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from fleet import cli
from fleet.engine import preview
from fleet.engine import types as t
from fleet.tools.offline import mock as off
from fleet.tools.views import review
from tests import preview_digests as pd
from tests.helpers import ROOT, doc, stack_run

SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
KUSTOMIZATION = "kubernetes:kustomize.toolkit.fluxcd.io/v1:Kustomization"
NEW_APPS_TOKEN = "github_pat_" + "N" * 82
NO_SUMMARY = "no change summary: the engine stopped before the end of the preview"


@pytest.fixture(scope="module")
def prod_before() -> off.Recording:
    return stack_run("prod-eu")


@pytest.fixture(scope="module")
def staging_before() -> off.Recording:
    return stack_run("staging")


def summarise(
    *digests: dict[str, Any], production: set[str] | None = None, acknowledged: bool = False
) -> review.Review:
    previews = [preview.parse(d, f"preview-{i}.json") for i, d in enumerate(digests)]
    stacks = production if production is not None else {"prod-eu"}
    return review.review(previews, stacks, acknowledged)


def rows(markdown: str, section: str) -> list[str]:
    """The table rows of one `###` section."""
    part = markdown.split(f"### {section}", 1)[1].split("\n###", 1)[0].split("<details>", 1)[0]
    return [line for line in part.splitlines() if line.startswith("| ") and "---" not in line][1:]


def token_rotation(before: off.Recording, stack: str) -> dict[str, Any]:
    return pd.plan(before, stack_run(stack, {"appsToken": NEW_APPS_TOKEN}), stack)


def test_review_token_rotation_lists_secret_updates_and_passes(prod_before: off.Recording) -> None:
    digest = token_rotation(prod_before, "prod-eu")
    result = summarise(digest)
    assert result.exit_code == 0
    changed = rows(result.markdown, "Changes that matter")
    assert changed, result.markdown
    assert all("Secret" in row and "updated in place" in row for row in changed), changed
    # flux-apps in flux-system and its copy in each tenant namespace
    assert {re.search(r"Secret `([^`]+)`", row).group(1) for row in changed} == {  # type: ignore[union-attr]
        "flux-system/flux-apps",
        "backend/flux-apps",
        "frontend/flux-apps",
    }
    assert "| `prod-eu` | production | 3 update |" in result.markdown
    assert NEW_APPS_TOKEN not in json.dumps(digest), "the digest masks secrets as the engine does"


def rotation_failing_at_a_secret(before: off.Recording, stack: str) -> dict[str, Any]:
    """A token rotation whose preview the provider fails at the second Secret it plans."""
    complete = token_rotation(before, stack)
    second = [s["urn"] for s in complete["steps"] if s["urn"].split("::")[2].endswith(SECRET)][1]
    return pd.failed(complete, second, "Preview failed: the server rejected the Secret")


def test_review_failed_preview_fails_the_gate_and_says_why(staging_before: off.Recording) -> None:
    # Nothing risky before the failure, on a staging stack: a complete preview would pass.
    digest = rotation_failing_at_a_secret(staging_before, "staging")
    for acknowledged in (False, True):
        result = summarise(digest, acknowledged=acknowledged)
        assert result.exit_code == 1
        assert result.failed == ("staging",)
        assert "**Gate: failed.** The preview of `staging` did not complete" in result.markdown
        assert "Gate: passed" not in result.markdown
    assert "| `staging` | staging | **preview failed**; before it stopped: 1 update |" in (
        result.markdown
    )
    reasons = result.markdown.split("### Failed previews", 1)[1].split("\n###", 1)[0]
    failing = digest["diagnostics"][0]["urn"].split("::")[-1]
    assert f"- `staging`: {failing}: Preview failed: the server rejected the Secret" in reasons
    assert "- `staging`: preview failed\n" in reasons + "\n"
    assert "### Warnings" not in result.markdown, "errors are the failure's reasons, not warnings"


def test_review_a_failed_preview_fails_the_fleet_gate_beside_a_good_one(
    prod_before: off.Recording, staging_before: off.Recording
) -> None:
    result = summarise(
        token_rotation(prod_before, "prod-eu"),
        rotation_failing_at_a_secret(staging_before, "staging"),
    )
    assert result.exit_code == 1
    assert result.failed == ("staging",)
    assert "| `prod-eu` | production | 3 update |" in result.markdown


def test_review_preview_failed_by_policy_alone_points_at_the_log(
    prod_before: off.Recording,
) -> None:
    # A mandatory policy violation: every step planned, the violation itself not in the digest.
    digest = token_rotation(prod_before, "prod-eu")
    digest["diagnostics"] = [{"message": "error: preview failed\n", "severity": "error"}]
    result = summarise(digest)
    assert result.exit_code == 1
    assert (
        "\n- `prod-eu`: preview failed (a policy violation is not in the JSON digest: see the log)\n"
    ) in result.markdown


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d.pop("changeSummary"), NO_SUMMARY),
        (lambda d: d.update(changeSummary={}), NO_SUMMARY),
        (
            lambda d: d.update(maybeCorrupt=True),
            "the engine reports resources that may be corrupt (maybeCorrupt)",
        ),
    ],
    ids=["cancelled", "nothing-ran", "maybe-corrupt"],
)
def test_review_incomplete_digest_without_errors_fails_the_gate(
    staging_before: off.Recording, edit: Any, reason: str
) -> None:
    digest = token_rotation(staging_before, "staging")
    edit(digest)
    result = summarise(digest)
    assert result.exit_code == 1
    assert f"### Failed previews\n\n- `staging`: {reason}\n" in result.markdown


def test_review_warnings_alone_leave_a_preview_complete(staging_before: off.Recording) -> None:
    digest = pd.plan(
        staging_before,
        stack_run("staging", {"appsToken": NEW_APPS_TOKEN}),
        "staging",
        warnings=["d1-fleet:appsToken: the apps token expires in 3 day(s)"],
    )
    result = summarise(digest)
    assert (result.exit_code, result.failed) == (0, ())
    assert "\n\n**Gate: passed.** No risky change on a production stack.\n" in result.markdown


def test_review_failed_preview_is_exit_1_on_the_command_line(
    tmp_path: Path, staging_before: off.Recording
) -> None:
    path = write(tmp_path, "staging.json", rotation_failing_at_a_secret(staging_before, "staging"))
    done = fleet(str(path), "--acknowledge")
    assert done.returncode == 1, done.stderr
    assert "**Gate: failed.**" in done.stdout


def tenant_removal(before: off.Recording, stack: str) -> dict[str, Any]:
    return pd.plan(before, stack_run(stack, {"tenants": '["backend"]'}), stack)


def test_review_tenant_removal_on_production_blocks(prod_before: off.Recording) -> None:
    result = summarise(tenant_removal(prod_before, "prod-eu"))
    assert result.exit_code == 1
    assert "**Gate: blocked.**" in result.markdown
    risky = {
        r.split(" | ")[3]: r
        for r in rows(result.markdown, "Changes that matter")
        if "**risky**" in r
    }
    assert set(risky) == {
        "Namespace `frontend`",
        "Kustomization `frontend/flux-frontend`",
        "GitRepository `frontend/flux-apps`",
        "Secret `frontend/flux-apps`",
        "ConfigMap `frontend/flux-runtime-info`",
    }
    kustomization = risky["Kustomization `frontend/flux-frontend`"]
    assert "leaves what it applied running" in kustomization
    assert "deletionPolicy Orphan" in kustomization
    assert "protected: `pulumi up` refuses" in kustomization


def test_review_tenant_namespace_kept_by_retain_on_delete_is_not_risky(
    prod_before: off.Recording,
) -> None:
    digest = tenant_removal(prod_before, "prod-eu")
    for step in digest["steps"]:
        if (step.get("oldState") or {}).get("type") == "kubernetes:core/v1:Namespace":
            step["oldState"].pop("protect", None)  # retained, not protected
    result = summarise(digest)
    [namespace] = [
        r for r in rows(result.markdown, "Changes that matter") if "Namespace `frontend`" in r
    ]
    assert "**risky**" not in namespace
    assert "the object stays (retainOnDelete)" in namespace


def test_review_protected_delete_that_also_retains_is_refused_not_kept(
    prod_before: off.Recording,
) -> None:
    """The engine refuses a protected resource's delete before it looks at `retainOnDelete`
    (pulumi pkg/resource/deploy/step.go, `DeleteStep.Apply`: `deleteProtectedError` comes
    first), so such a delete is refused, not "the object stays"."""
    digest = tenant_removal(prod_before, "prod-eu")
    [step] = [
        s
        for s in digest["steps"]
        if s["op"] == "delete" and s["oldState"]["type"] == "kubernetes:core/v1:Namespace"
    ]
    assert step["oldState"].get("retainOnDelete") is True
    assert step["oldState"].get("protect") is True, "production protects the namespace"
    result = summarise(digest)
    [namespace] = [
        r for r in rows(result.markdown, "Changes that matter") if "Namespace `frontend`" in r
    ]
    assert "**risky**" in namespace
    assert "refused (protected" in namespace
    assert "once lifted: Pulumi stops managing it, the object stays" in namespace
    assert result.exit_code == 1, "a plan the engine refuses is not passed"


def test_review_acknowledged_risky_change_passes(prod_before: off.Recording) -> None:
    result = summarise(tenant_removal(prod_before, "prod-eu"), acknowledged=True)
    assert result.exit_code == 0
    assert result.blocked, "still named"
    assert "\n\n**Gate: acknowledged** (5 risky change(s) on production).\n" in result.markdown


def test_review_tenant_removal_on_staging_says_what_goes_and_passes(
    staging_before: off.Recording,
) -> None:
    result = summarise(tenant_removal(staging_before, "staging"))
    assert result.exit_code == 0
    changed = rows(result.markdown, "Changes that matter")
    [namespace] = [r for r in changed if "Namespace `frontend`" in r]
    assert "**risky**" in namespace
    assert "every object in it goes" in namespace
    [kustomization] = [r for r in changed if "Kustomization `frontend/flux-frontend`" in r]
    assert kustomization.startswith("| **risky** | `staging` | delete |"), kustomization
    assert kustomization.endswith(
        "| Kustomization deleted: deletes everything it applied (deletionPolicy Delete) |"
    )


def test_review_kustomization_default_deletion_policy_with_prune_deletes_what_it_applied(
    staging_before: off.Recording,
) -> None:
    # State an earlier program version recorded, before it set spec.deletionPolicy: the
    # controller's default (MirrorPrune) with prune: true garbage-collects what was applied.
    urn = pd.Run(staging_before, "staging").urn(
        KUSTOMIZATION, "cluster-tenant-frontend-kustomization"
    )
    digest = tenant_removal(staging_before, "staging")
    [deletion] = [s for s in digest["steps"] if s["urn"] == urn]
    for side in ("inputs", "outputs"):
        del deletion["oldState"][side]["spec"]["deletionPolicy"]
    [row] = [
        r
        for r in rows(summarise(digest).markdown, "Changes that matter")
        if "Kustomization `frontend/flux-frontend`" in r
    ]
    assert row.endswith(
        "| Kustomization deleted: garbage-collects everything it applied "
        "(deletionPolicy MirrorPrune, prune: true) |"
    ), row
    for side in ("inputs", "outputs"):
        deletion["oldState"][side]["spec"]["prune"] = False
    [row] = [
        r
        for r in rows(summarise(digest).markdown, "Changes that matter")
        if "Kustomization `frontend/flux-frontend`" in r
    ]
    assert row.endswith(
        "| Kustomization deleted: leaves what it applied in place "
        "(deletionPolicy MirrorPrune, prune: false) |"
    ), row
    for side in ("inputs", "outputs"):
        deletion["oldState"][side]["spec"]["suspend"] = True
    [row] = [
        r
        for r in rows(summarise(digest).markdown, "Changes that matter")
        if "Kustomization `frontend/flux-frontend`" in r
    ]
    assert row.endswith("| Kustomization deleted: deletes nothing it applied (suspended) |"), row


def test_review_flux_bump_is_an_update_of_the_flux_instance(prod_before: off.Recording) -> None:
    digest = pd.plan(prod_before, stack_run("prod-eu", {"fluxVersion": "2.8.x"}), "prod-eu")
    result = summarise(digest)
    assert result.exit_code == 0
    [row] = rows(result.markdown, "Changes that matter")
    assert "| update | FluxInstance `flux-system/flux` |" in row
    assert "`spec.distribution.version`" in row
    assert "**risky**" not in row


def test_review_secret_replace_blocks_on_production(prod_before: off.Recording) -> None:
    # A Secret's `type` cannot change on the API server, so the provider plans a replacement;
    # the plan's verdict is the provider's, added here as `replace`.
    def retype(urn: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if urn.endswith("::cluster-credentials-platform"):
            return {**inputs, "type": "kubernetes.io/basic-auth"}
        return inputs

    digest = pd.plan(
        prod_before,
        prod_before,
        "prod-eu",
        replace={"cluster-credentials-platform": ["type"]},
        edit=retype,
    )
    result = summarise(digest)
    assert result.exit_code == 1
    [row] = rows(result.markdown, "Changes that matter")
    assert row.startswith("| **risky** | `prod-eu` | replace | Secret `flux-system/flux-system` |")
    assert "deleted, then created again (`type` cannot change in place)" in row
    assert summarise(digest, production=set()).exit_code == 0, "only production stacks are gated"


def test_review_github_rule_deletion_blocks(prod_before: off.Recording) -> None:
    after = stack_run("prod-eu", {"botPushAccess": "none"})
    result = summarise(pd.plan(prod_before, after, "prod-eu"))
    assert result.exit_code == 1
    risky = [r for r in rows(result.markdown, "Changes that matter") if "**risky**" in r]
    assert len(risky) == 2, risky
    assert all("BranchProtection" in r and "anyone with write access may push" in r for r in risky)


def test_review_github_team_deletion_blocks(prod_before: off.Recording) -> None:
    after = stack_run("prod-eu", {"githubAccessOwner": "false"})
    result = summarise(pd.plan(prod_before, after, "prod-eu"))
    assert result.exit_code == 1
    risky = " ".join(r for r in rows(result.markdown, "Changes that matter") if "**risky**" in r)
    for kind in ("Team `", "TeamMembership `", "TeamRepository `", "BranchProtection `"):
        assert kind in risky, kind
    assert "every repository permission it grants" in risky


def runtime_info_edited(outputs: dict[str, Any]) -> dict[str, Any]:
    """`kubectl edit` of the runtime ConfigMap: someone changed CLUSTER_DOMAIN by hand."""
    return {**outputs, "data": {**outputs["data"], "CLUSTER_DOMAIN": "hand.example.com"}}


def test_review_drift_on_refresh_is_named_with_what_up_does(prod_before: off.Recording) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    binding = run.urn(
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "cluster-tenant-backend-role-binding"
    )
    digest = pd.refreshed(
        prod_before, "prod-eu", live={configmap: runtime_info_edited}, deleted=[binding]
    )
    drifted = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert drifted == [
        "| `prod-eu` | ConfigMap `flux-system/flux-runtime-info` | `data` | this plan overwrites it (update) |",
        "| `prod-eu` | RoleBinding `backend/flux-apps` | - | deleted outside Pulumi; this plan creates it again |",
    ]
    # The engine reports refresh steps as they finish, in an order that varies between runs of
    # one plan; the table does not.
    refreshes = [s for s in digest["steps"] if s["op"] == "refresh"]
    others = [s for s in digest["steps"] if s["op"] != "refresh"]
    backwards = {**digest, "steps": refreshes[::-1] + others}
    assert rows(summarise(backwards).markdown, "Drift (found by `--refresh`)") == drifted


def test_review_refresh_without_drift_reports_none(prod_before: off.Recording) -> None:
    result = summarise(pd.refreshed(prod_before, "prod-eu", live={}))
    assert "Drift" not in result.markdown
    assert result.exit_code == 0
    assert "| `prod-eu` | production | no changes |" in result.markdown


def test_review_refresh_step_with_its_own_diff_is_drift(prod_before: off.Recording) -> None:
    # `pulumi refresh --preview-only --json` and engines that report the refresh diff on the step.
    run = pd.Run(prod_before, "prod-eu")
    urn = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={})
    [refresh] = [s for s in digest["steps"] if s["urn"] == urn and s["op"] == "refresh"]
    refresh["diffReasons"] = ["data"]
    refresh["detailedDiff"] = {"data.CLUSTER_DOMAIN": {"kind": "update", "inputDiff": False}}
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert "`data`" in row
    assert "keeps the live value" in row


def server_written(outputs: dict[str, Any]) -> dict[str, Any]:
    """What the API server changes on its own: status, resourceVersion, managedFields, uid."""
    metadata = {
        **outputs.get("metadata", {}),
        "resourceVersion": "48213",
        "uid": "5d1c0c6e-0000-4000-8000-000000000001",
        "generation": 4,
        "creationTimestamp": "2026-12-01T03:20:00Z",
        "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}],
    }
    return {**outputs, "metadata": metadata, "status": {"phase": "Active"}}


def test_review_refresh_finding_only_server_written_fields_is_not_drift(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    namespace = run.urn("kubernetes:core/v1:Namespace", "cluster-flux-system-namespace")
    digest = pd.refreshed(prod_before, "prod-eu", live={namespace: server_written})
    [refresh] = [s for s in digest["steps"] if s["urn"] == namespace and s["op"] == "refresh"]
    refresh["diffReasons"] = ["status", "metadata"]
    refresh["detailedDiff"] = {
        "status.phase": {"kind": "add", "inputDiff": False},
        "metadata.resourceVersion": {"kind": "update", "inputDiff": False},
    }
    assert "Drift" not in summarise(digest).markdown
    both = pd.refreshed(
        prod_before,
        "prod-eu",
        live={configmap: lambda o: server_written(runtime_info_edited(o))},
    )
    [row] = rows(summarise(both).markdown, "Drift (found by `--refresh`)")
    assert "| `data` |" in row, "only the declared field that changed"


def test_review_expiry_warnings_are_listed(prod_before: off.Recording) -> None:
    in_five_days = (date.today() + timedelta(days=5)).isoformat()
    soon = stack_run("prod-eu", {"appsTokenExpires": in_five_days})
    expiring = [w for w in soon.warnings if "expires in" in w]
    assert expiring, soon.warnings
    result = summarise(pd.plan(prod_before, soon, "prod-eu", warnings=soon.warnings))
    section = result.markdown.split("### Warnings", 1)[1]
    assert f"- `prod-eu`: **expiry** {expiring[0]}" in section
    assert result.exit_code == 0


def test_review_other_changes_are_collapsed(staging_before: off.Recording) -> None:
    result = summarise(tenant_removal(staging_before, "staging"))
    details = result.markdown.split("<details>", 1)[1]
    assert details.startswith("<summary>2 other change(s)</summary>")
    assert "ServiceAccount `frontend/flux-apps`" in details
    assert "RoleBinding `frontend/flux-apps`" in details
    assert details.rstrip().endswith("</details>")


def test_review_one_summary_for_the_whole_fleet(
    prod_before: off.Recording, staging_before: off.Recording
) -> None:
    result = summarise(
        token_rotation(staging_before, "staging"), tenant_removal(prod_before, "prod-eu")
    )
    assert result.markdown.startswith(review.MARKER + "\n")
    assert result.markdown.count(review.MARKER) == 1
    assert "| `prod-eu` | production | 7 delete |" in result.markdown
    # flux-apps in flux-system and its copies in backend and frontend (apps-update holds the push
    # token, which a rotation of the apps token leaves alone).
    assert "| `staging` | staging | 3 update |" in result.markdown
    assert result.exit_code == 1


def test_review_production_comes_from_the_stack_files_and_the_override(tmp_path: Path) -> None:
    assert review.production_stacks(ROOT, ["prod-eu", "staging"]) == {"prod-eu"}
    assert review.production_stacks(ROOT, ["staging"], ["staging"]) == {"staging"}
    # No stack file here for it: the gate fails closed.
    assert review.production_stacks(ROOT, ["prod-xx"]) == {"prod-xx"}


def write(tmp_path: Path, name: str, digest: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(digest, indent=4))
    return path


def fleet(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fleet", "review", *argv],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_review_command_exit_codes_and_stdin(tmp_path: Path, prod_before: off.Recording) -> None:
    removal = write(tmp_path, "prod-eu.json", tenant_removal(prod_before, "prod-eu"))
    blocked = fleet(str(removal))
    assert blocked.returncode == 1, blocked.stderr
    assert blocked.stdout.startswith(review.MARKER)
    assert fleet(str(removal), "--acknowledge").returncode == 0
    piped = fleet("-", stdin=removal.read_text())
    assert piped.returncode == 1
    assert piped.stdout == blocked.stdout
    rotation = write(tmp_path, "rotation.json", token_rotation(prod_before, "prod-eu"))
    assert fleet(str(rotation)).returncode == 0


def test_review_production_override_gates_a_staging_stack(
    tmp_path: Path, staging_before: off.Recording
) -> None:
    removal = write(tmp_path, "staging.json", tenant_removal(staging_before, "staging"))
    assert fleet(str(removal)).returncode == 0
    assert fleet(str(removal), "--production", "staging").returncode == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        ("{not json", "not JSON"),
        ("[]", "not a preview digest"),
        (
            '{"steps": [{"op": "explode", "urn": "urn:pulumi:s::p::t::n"}]}',
            "unknown step op 'explode'",
        ),
        ('{"steps": [{"op": "same", "urn": "nope"}]}', "not a Pulumi URN"),
        ("{}", "expected the preview of one stack, found stacks: none"),
        (
            '{"diagnostics": [{"message": "error: could not load plugin\\n", "severity": "error"}]}',
            "the preview failed before it named its stack: could not load plugin",
        ),
        (
            '{"steps": [{"op": "same", "urn": "urn:pulumi:s::p::t::n", "oldState": "x"}]}',
            "must be objects",
        ),
        (
            '{"steps": [{"op": "same", "urn": "urn:pulumi:s::p::t::n"}], "changeSummary": {"same": "one"}}',
            "`changeSummary` must map each op to a count",
        ),
        (
            '{"steps": [{"op": "same", "urn": "urn:pulumi:a::p::t::n"},'
            ' {"op": "same", "urn": "urn:pulumi:b::p::t::n"}]}',
            "found stacks: a, b",
        ),
    ],
)
def test_review_usage_errors_exit_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "preview.json"
    if content is not None:
        path.write_text(content)
    result = fleet(str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_review_unknown_option_is_a_usage_error() -> None:
    assert fleet("--format", "html", "x.json").returncode == 2


def test_review_is_a_registered_command() -> None:
    assert cli.COMMANDS["review"].run is review.run


README_EXAMPLE = re.compile(
    r"<!-- review-example -->\n```markdown\n(.*?)```\n<!-- /review-example -->", re.S
)


def readme_example(prod_before: off.Recording, staging_before: off.Recording) -> str:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    # `pulumi preview --refresh` on prod-eu after the runtime ConfigMap was edited by hand, with
    # a tenant removed from its config: refresh steps first, then the program's steps.
    removal = tenant_removal(prod_before, "prod-eu")
    drifted = pd.refreshed(prod_before, "prod-eu", live={configmap: runtime_info_edited})
    prod = {
        **removal,
        "steps": drifted["steps"] + removal["steps"][1:],
        "changeSummary": {**removal["changeSummary"], "update": 1},
    }
    prod["changeSummary"]["same"] -= 1
    staging = pd.plan(
        staging_before,
        stack_run("staging", {"appsToken": NEW_APPS_TOKEN, "fluxVersion": "2.8.x"}),
        "staging",
        warnings=[
            "d1-fleet:platformToken: the platform token expires in 9 day(s), on 2027-01-01; rotate it before then"
        ],
    )
    return summarise(staging, prod).markdown


def test_review_readme_example_is_what_the_code_renders(
    prod_before: off.Recording, staging_before: off.Recording
) -> None:
    found = README_EXAMPLE.search(doc("review-and-status.md"))
    assert found, "docs/review-and-status.md shows an example comment after <!-- review-example -->"
    assert found.group(1) == readme_example(prod_before, staging_before)


def print_readme_example() -> None:
    """`python -m tests.test_review` prints the example comment of docs/review-and-status.md."""
    sys.stdout.write(readme_example(stack_run("prod-eu"), stack_run("staging")))


def test_review_long_summary_still_fits_a_comment(staging_before: off.Recording) -> None:
    digest = tenant_removal(staging_before, "staging")
    [account] = [s for s in digest["steps"] if "ServiceAccount" in s["urn"]]
    digest["steps"] += [{**account, "urn": f"{account['urn']}-{i}"} for i in range(2000)]
    result = summarise(digest)
    assert len(result.markdown) <= review.MAX_CHARS
    assert "<details>" not in result.markdown
    assert "other change(s) left out (too long for a comment)" in result.markdown
    assert "Namespace `frontend`" in result.markdown, "the changes that matter stay"


def test_review_run_writes_to_the_given_stream(tmp_path: Path, prod_before: off.Recording) -> None:
    path = write(tmp_path, "x.json", token_rotation(prod_before, "prod-eu"))
    out = io.StringIO()
    args = cli.parser().parse_args(["review", str(path)])
    assert review.run(args, out) == 0
    assert out.getvalue().startswith(review.MARKER)


if __name__ == "__main__":
    print_readme_example()


def one_step(before: off.Recording, type_: str, op: str, **changed: Any) -> dict[str, Any]:
    """The prod-eu digest of one step on the first resource of `type_` by URN (the mock runtime
    registers resources in an order that varies between runs)."""
    run = pd.Run(before, "prod-eu")
    [urn, *_] = sorted(u for u in run.by_urn if u.split("::")[2].endswith(f"${type_}"))
    old = run.state(urn)
    new = {**old, "inputs": {**old["inputs"], **changed}} if changed else old
    step = pd.step(
        op,
        urn,
        run.provider(urn),
        old=old,
        new=None if op == "delete" else new,
        diff_reasons=sorted(changed),
        detailed=dict.fromkeys(sorted(changed), "update") if changed else None,
    )
    return pd.digest([pd.root_step("prod-eu"), step], {"same": 1, op: 1})


@pytest.mark.parametrize(
    ("type_", "op", "meaning", "risky"),
    [
        (
            t.FLUX_INSTANCE,
            "delete",
            "FluxInstance deleted: the operator uninstalls Flux",
            True,
        ),
        (
            t.HELM_RELEASE,
            "delete",
            "Flux Operator release uninstalled: nothing manages Flux meanwhile",
            True,
        ),
        (
            t.HELM_RELEASE,
            "replace",
            "Flux Operator release uninstalled: nothing manages Flux meanwhile",
            True,
        ),
        (t.HELM_RELEASE, "update", "Flux Operator upgraded by Helm", False),
    ],
)
def test_review_operator_steps_say_what_happens_to_flux(
    prod_before: off.Recording, type_: str, op: str, meaning: str, risky: bool
) -> None:
    result = summarise(
        one_step(prod_before, type_, op, **({"version": "0.99.0"} if op != "delete" else {}))
    )
    [row] = rows(result.markdown, "Changes that matter")
    # A protected resource is refused first; the meaning, whole, says what follows once lifted.
    assert row.endswith(f" {meaning} |"), row
    assert ("refused (protected" in row) is (op != "update"), row
    assert ("**risky**" in row) is risky
    assert result.exit_code == (1 if risky else 0)


def test_review_flux_instance_update_names_every_changed_key_in_order(
    prod_before: off.Recording,
) -> None:
    digest = one_step(prod_before, t.FLUX_INSTANCE, "update", spec={}, metadata={})
    [row] = rows(summarise(digest).markdown, "Changes that matter")
    assert row.endswith("| Flux reconfigured by the operator (`metadata`, `spec`) |"), row


def test_review_github_access_update_is_named_and_not_gated(prod_before: off.Recording) -> None:
    digest = one_step(
        prod_before, "github:index/teamRepository:TeamRepository", "update", permission="push"
    )
    result = summarise(digest)
    [row] = rows(result.markdown, "Changes that matter")
    assert row == (
        "|  | `prod-eu` | update | TeamRepository `cluster-github-access-d1-apps` "
        "| GitHub access changed (`permission`) |"
    )
    assert result.exit_code == 0


def test_review_namespace_deletion_says_whole_what_goes(staging_before: off.Recording) -> None:
    result = summarise(tenant_removal(staging_before, "staging"))
    [namespace] = [
        r for r in rows(result.markdown, "Changes that matter") if "Namespace `frontend`" in r
    ]
    assert namespace.endswith(
        "| namespace deleted: every object in it goes, workloads included, whatever the "
        "Kustomizations' deletionPolicy |"
    )


def test_review_secret_replacement_names_each_key_that_forces_it(
    prod_before: off.Recording,
) -> None:
    def retype(urn: str, inputs: dict[str, Any]) -> dict[str, Any]:
        if urn.endswith("::cluster-credentials-platform"):
            return {**inputs, "type": "kubernetes.io/basic-auth", "immutable": True}
        return inputs

    forced = pd.plan(
        prod_before,
        prod_before,
        "prod-eu",
        replace={"cluster-credentials-platform": ["immutable", "type"]},
        edit=retype,
    )
    [row] = rows(summarise(forced).markdown, "Changes that matter")
    assert (
        " Secret deleted, then created again (`immutable`, `type` cannot change in place): "
        "Flux cannot authenticate or substitute from it in between |"
    ) in row, row
    # A provider that gives no reason: no empty parenthesis.
    for step in forced["steps"]:
        step.pop("replaceReasons", None)
    [row] = rows(summarise(forced).markdown, "Changes that matter")
    assert " Secret deleted, then created again: Flux cannot" in row


def test_review_step_label_kinds_and_names(prod_before: off.Recording) -> None:
    run = pd.Run(prod_before, "prod-eu")
    [urn] = [
        u
        for u in run.by_urn
        if u.split("::")[2].endswith("$" + SECRET)
        and run.state(u)["outputs"]["metadata"]["name"] == "flux-system"
    ]
    state = run.state(urn)
    outputs_only = {**state, "inputs": {}}
    inputs_only = {**state, "outputs": {}}
    without_kind = {
        **state,
        "outputs": {k: v for k, v in state["outputs"].items() if k != "kind"},
        "inputs": {},
    }
    for old in (state, outputs_only, inputs_only, without_kind):
        parsed = preview.parse(pd.digest([pd.step("delete", urn, "", old=old)], {"delete": 1}), "x")
        assert parsed.steps[0].label() == "Secret `flux-system/flux-system`", old
    team = next(u for u in run.by_urn if u.endswith("::cluster-github-access-team"))
    parsed = preview.parse(
        pd.digest([pd.step("delete", team, "", old=run.state(team))], {"delete": 1}), "x"
    )
    assert parsed.steps[0].label() == "Team `cluster-github-access-team`"


def test_review_urn_of_a_nested_resource_gives_its_own_type_and_full_name() -> None:
    stack, type_, name = preview.parse_urn(
        "urn:pulumi:prod-eu::d1-fleet::fleet:index:Cluster$fleet:flux:FluxInstance"
        "$kubernetes:fluxcd.controlplane.io/v1:FluxInstance::cluster::flux-instance"
    )
    assert (stack, type_, name) == (
        "prod-eu",
        "kubernetes:fluxcd.controlplane.io/v1:FluxInstance",
        "cluster::flux-instance",
    )
    for bad in ("urn:pulumi:a::b::c", "urn:other:a::b::c::d"):
        with pytest.raises(preview.DigestError, match=f"not a Pulumi URN: '{bad}'"):
            preview.parse_urn(bad)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "x.json: not a preview digest (expected a JSON object)"),
        ({"steps": {"a": 1}}, "x.json: `steps` and `diagnostics` must be lists"),
        ({"diagnostics": "x"}, "x.json: `steps` and `diagnostics` must be lists"),
        ({"steps": [{"op": "same"}]}, "x.json: a step without `op` and `urn`"),
        ({"steps": [{"urn": "urn:pulumi:s::p::t::n"}]}, "x.json: a step without `op` and `urn`"),
        ({"steps": ["same"]}, "x.json: a step without `op` and `urn`"),
        (
            {"steps": [{"op": "same", "urn": "urn:pulumi:s::p::t::n", "newState": []}]},
            "x.json: the states and detailedDiff of urn:pulumi:s::p::t::n must be objects",
        ),
        (
            {"steps": [{"op": "update", "urn": "urn:pulumi:s::p::t::n", "detailedDiff": ["data"]}]},
            "x.json: the states and detailedDiff of urn:pulumi:s::p::t::n must be objects",
        ),
        (
            {
                "steps": [
                    {
                        "op": "update",
                        "urn": "urn:pulumi:s::p::t::n",
                        "detailedDiff": {"data": "update"},
                    }
                ]
            },
            "x.json: the states and detailedDiff of urn:pulumi:s::p::t::n must be objects",
        ),
        (
            {"steps": [{"op": "same", "urn": "urn:pulumi:s::p::t::n"}], "changeSummary": [1]},
            "x.json: `changeSummary` must map each op to a count",
        ),
        ({}, "x.json: expected the preview of one stack, found stacks: none"),
        (
            {
                "diagnostics": [
                    {"message": "error: one\n", "severity": "error"},
                    {"message": "warning: two\n", "severity": "warning"},
                    {"message": "error: three\n", "severity": "error"},
                ]
            },
            "x.json: the preview failed before it named its stack: one; three",
        ),
        (
            {
                "diagnostics": [
                    {"urn": "urn:pulumi:a::p::t::n", "message": "x", "severity": "info"},
                    {"urn": "urn:pulumi:b::p::t::n", "message": "y", "severity": "info"},
                ]
            },
            "x.json: expected the preview of one stack, found stacks: a, b",
        ),
    ],
)
def test_review_parse_refuses_what_is_not_one_stacks_digest(document: Any, message: str) -> None:
    with pytest.raises(preview.DigestError) as raised:
        preview.parse(document, "x.json")
    assert str(raised.value).startswith(message), raised.value


def test_review_failure_reasons_are_read_from_error_diagnostics_alone(
    staging_before: off.Recording,
) -> None:
    digest = token_rotation(staging_before, "staging")
    root = pd.root_urn("staging")
    digest["diagnostics"] = [
        {"urn": root, "message": "warning: soon\n", "severity": "warning"},
        {"urn": root, "message": "info\n", "severity": "info"},
    ]
    assert preview.parse(digest, "x").failure == ()
    digest["diagnostics"].append(
        {"urn": root, "message": "error: the program   refused\n  to run\n", "severity": "error"}
    )
    assert preview.parse(digest, "x").failure == ("d1-fleet-staging: the program refused to run",)
    digest["diagnostics"] = [{"severity": "error"}]
    assert preview.parse(digest, "x").failure == ("an error without a message",)


def test_review_table_cells_escape_the_pipe(prod_before: off.Recording) -> None:
    digest = token_rotation(prod_before, "prod-eu")
    digest["diagnostics"] = [
        {"message": "warning: a | b\n", "severity": "warning"},
        {"message": "error: c | d\n", "severity": "error"},
    ]
    markdown = summarise(digest).markdown
    assert "- `prod-eu`: a \\| b" in markdown
    assert "- `prod-eu`: c \\| d" in markdown


def test_review_drift_counts_declared_keys_gone_not_live_only_ones(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")

    def added(outputs: dict[str, Any]) -> dict[str, Any]:
        return {**outputs, "immutable": True}

    def dropped(outputs: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in outputs.items() if k != "data"}

    # Drift is what the program declares changing on the server: a declared key gone is drift;
    # a key only the live object holds is not the program's to compare.
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: dropped})
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert "| `data` |" in row, row
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: added})
    assert "### Drift" not in summarise(digest).markdown


def test_review_command_line_in_process(tmp_path: Path, prod_before: off.Recording) -> None:
    removal = write(tmp_path, "prod-eu.json", tenant_removal(prod_before, "prod-eu"))
    args = cli.parser().parse_args(["review", str(removal)])
    assert (args.previews, args.acknowledge, args.production) == ([str(removal)], False, [])
    out = io.StringIO()
    assert review.run(args, out) == 1
    assert "**Gate: blocked.**" in out.getvalue()
    acknowledged = cli.parser().parse_args(["review", "--acknowledge", str(removal)])
    assert review.run(acknowledged, io.StringIO()) == 0
    # --production repeats, and names a stack the stack files call staging.
    staging = write(tmp_path, "staging.json", tenant_removal(stack_run("staging"), "staging"))
    named = cli.parser().parse_args(
        ["review", str(staging), "--production", "staging", "--production", "prod-xx"]
    )
    assert named.production == ["staging", "prod-xx"]
    assert review.run(named, io.StringIO()) == 1
    with pytest.raises(SystemExit):
        cli.parser().parse_args(["review"])


def test_review_command_line_reports_unreadable_files_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for path, message in ((missing, "No such file or directory"), (broken, "not JSON")):
        args = cli.parser().parse_args(["review", str(path)])
        assert review.run(args, io.StringIO()) == 2
        assert capsys.readouterr().err.startswith(f"error: {path}: {message}")
    # Standard input is named as such in what it reports.
    with pytest.raises(review.ReviewError, match=r"^stdin: expected the preview of one stack"):
        review.load("-", io.StringIO("{}"))


def test_review_failed_previews_are_listed_by_stack_under_the_gate(
    prod_before: off.Recording, staging_before: off.Recording
) -> None:
    prod = rotation_failing_at_a_secret(prod_before, "prod-eu")
    staging = rotation_failing_at_a_secret(staging_before, "staging")
    markdown = summarise(staging, prod).markdown
    gate, failures = markdown.split("\n\n**Gate: failed.** ", 1)[1].split(
        "\n\n### Failed previews\n\n"
    )
    assert gate.startswith("The preview of `prod-eu`, `staging` did not complete, so its plan"), (
        gate
    )
    assert gate.endswith("Fix the cause below and preview again."), gate
    listed = failures.split("\n\n### Changes that matter\n\n", 1)[0].splitlines()
    assert [line.split(": ", 1)[0] for line in listed] == [
        "- `prod-eu`",
        "- `prod-eu`",
        "- `staging`",
        "- `staging`",
    ]
    assert listed[1] == listed[3].replace("staging", "prod-eu") == "- `prod-eu`: preview failed"


def test_review_cancelled_first_preview_counts_the_steps_it_listed(
    staging_before: off.Recording,
) -> None:
    """A new stack's first preview, cancelled: no `changeSummary`, so the row counts the steps
    listed for the stack's objects, the root stack's own `create` not among them."""
    run = pd.Run(staging_before, "staging")
    root = pd.root_step("staging")
    root.update(op="create", oldState=None)
    created = [pd.step("create", u, run.provider(u), new=run.state(u)) for u in sorted(run.by_urn)]
    digest = pd.digest([root, *created[:2]], {})
    digest.pop("changeSummary")
    result = summarise(digest)
    assert "| `staging` | staging | **preview failed**; before it stopped: 2 create |" in (
        result.markdown
    )
    assert result.exit_code == 1


def test_review_warnings_of_every_stack_expiry_first(
    prod_before: off.Recording, staging_before: off.Recording
) -> None:
    prod = token_rotation(prod_before, "prod-eu")
    staging = token_rotation(staging_before, "staging")
    prod["diagnostics"] = [
        {"message": "warning: a deprecated config key\n", "severity": "warning"},
        {"message": "warning: Token EXPIRED on 2026-12-01\n", "severity": "warning"},
    ]
    staging["diagnostics"] = [
        {"message": "warning: another warning\n", "severity": "warning"},
        {"message": "warning: the apps token expires in 3 day(s)\n", "severity": "warning"},
        {"message": "info: not a warning\n", "severity": "info"},
    ]
    markdown = summarise(staging, prod).markdown
    assert (
        "\n\n### Warnings\n\n"
        "- `prod-eu`: **expiry** Token EXPIRED on 2026-12-01\n"
        "- `staging`: **expiry** the apps token expires in 3 day(s)\n"
        "- `prod-eu`: a deprecated config key\n"
        "- `staging`: another warning\n"
    ) in markdown + "\n"
    assert "not a warning" not in markdown


def test_review_kustomization_without_a_recorded_spec_leaves_what_it_applied(
    staging_before: off.Recording,
) -> None:
    # A state recorded without its spec (an import, an older provider): the controller's
    # defaults, MirrorPrune without prune.
    urn = pd.Run(staging_before, "staging").urn(
        KUSTOMIZATION, "cluster-tenant-frontend-kustomization"
    )
    digest = tenant_removal(staging_before, "staging")
    [deletion] = [s for s in digest["steps"] if s["urn"] == urn]
    for side in ("inputs", "outputs"):
        del deletion["oldState"][side]["spec"]
    [row] = [
        r
        for r in rows(summarise(digest).markdown, "Changes that matter")
        if "Kustomization `frontend/flux-frontend`" in r
    ]
    assert row.endswith(
        "| Kustomization deleted: leaves what it applied in place "
        "(deletionPolicy MirrorPrune, prune: false) |"
    ), row


def test_review_reads_a_digest_from_standard_input(
    tmp_path: Path, prod_before: off.Recording
) -> None:
    text = json.dumps(tenant_removal(prod_before, "prod-eu"))
    piped = review.load("-", io.StringIO(text))
    path = tmp_path / "prod-eu.json"
    path.write_text(text)
    from_file = review.load(str(path), io.StringIO("not read"))
    assert (piped.source, from_file.source) == ("stdin", str(path))
    assert review.review([piped], {"prod-eu"}, False) == review.review(
        [from_file], {"prod-eu"}, False
    )


def long_removal(staging_before: off.Recording, copies: int, padding: int) -> dict[str, Any]:
    """The staging tenant removal with `copies` more ServiceAccount deletions, the last one's
    name `padding` characters longer: each adds a row to the collapsed details alone."""
    digest = tenant_removal(staging_before, "staging")
    [account] = [s for s in digest["steps"] if "ServiceAccount" in s["urn"]]
    extra = [{**account, "urn": f"{account['urn']}-{i:04}"} for i in range(copies)]
    last = json.loads(json.dumps(extra[-1]))
    for side in ("inputs", "outputs"):
        last["oldState"][side]["metadata"]["name"] += "x" * padding
    digest["steps"] += [*extra[:-1], last]
    return digest


def test_review_summary_of_exactly_the_limit_is_whole_one_more_is_cut(
    staging_before: off.Recording,
) -> None:
    one = summarise(long_removal(staging_before, 2, 0)).markdown
    two = summarise(long_removal(staging_before, 3, 0)).markdown
    row = len(two) - len(one)
    copies = 2 + (review.MAX_CHARS - len(one)) // row
    short = review.MAX_CHARS - len(summarise(long_removal(staging_before, copies, 0)).markdown)
    whole = summarise(long_removal(staging_before, copies, short)).markdown
    assert len(whole) == review.MAX_CHARS
    assert whole.endswith("\n\n</details>\n")
    assert "left out" not in whole
    cut = summarise(long_removal(staging_before, copies, short + 1)).markdown
    others = copies + 2  # the tenant's own ServiceAccount and RoleBinding
    assert cut == whole.split("\n\n<details>", 1)[0] + (
        f"\n\n_{others} other change(s) left out (too long for a comment)._\n"
    )


@pytest.mark.parametrize(
    ("type_", "op", "label", "meaning"),
    [
        (t.TEAM, "delete", "Team `cluster-github-access-team`", review.GITHUB_ACCESS[t.TEAM]),
        (
            t.TEAM_MEMBERSHIP,
            "replace",
            "TeamMembership `cluster-github-access-membership`",
            review.GITHUB_ACCESS[t.TEAM_MEMBERSHIP],
        ),
        (
            t.FLUX_INSTANCE,
            "replace",
            "FluxInstance `flux-system/flux`",
            "FluxInstance deleted: the operator uninstalls Flux",
        ),
        (
            t.HELM_RELEASE,
            "delete",
            "Release `cluster-flux-operator-release`",
            "Flux Operator release uninstalled: nothing manages Flux meanwhile",
        ),
        (
            SECRET,
            "delete",
            "Secret `flux-system/flux-apps`",
            "Secret deleted: whatever references it fails",
        ),
        (
            CONFIG_MAP,
            "replace",
            "ConfigMap `flux-system/flux-runtime-info`",
            "ConfigMap deleted, then created again: Flux cannot authenticate or substitute from "
            "it in between",
        ),
    ],
)
def test_review_unprotected_deletions_are_risky_rows_of_their_own(
    prod_before: off.Recording, type_: str, op: str, label: str, meaning: str
) -> None:
    """Once `protect` is lifted, the plan's deletion is the one the engine applies."""
    digest = one_step(prod_before, type_, op)
    for step in digest["steps"]:
        for side in ("oldState", "newState"):
            (step.get(side) or {}).pop("protect", None)
    result = summarise(digest)
    assert rows(result.markdown, "Changes that matter") == [
        f"| **risky** | `prod-eu` | {op} | {label} | {meaning} |"
    ]
    assert result.exit_code == 1
    assert summarise(digest, production=set()).exit_code == 0


def test_review_github_access_update_names_each_changed_key(prod_before: off.Recording) -> None:
    digest = one_step(
        prod_before, t.BRANCH_PROTECTION, "update", enforceAdmins=True, allowsDeletions=False
    )
    [row] = rows(summarise(digest).markdown, "Changes that matter")
    assert row.startswith("|  | `prod-eu` | update | BranchProtection `"), row
    assert row.endswith("| GitHub access changed (`allowsDeletions`, `enforceAdmins`) |"), row


def with_refresh_diff(digest: dict[str, Any], urn: str, *paths: str) -> dict[str, Any]:
    """`digest` with the refresh step of `urn` carrying a diff of its own on `paths`."""
    [refresh] = [s for s in digest["steps"] if s["urn"] == urn and s["op"] == "refresh"]
    refresh["diffReasons"] = sorted({p.split(".")[0] for p in paths})
    refresh["detailedDiff"] = {p: {"kind": "update", "inputDiff": False} for p in paths}
    return digest


def test_review_refresh_diff_counts_only_what_the_program_declares(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    urn = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    # `immutable` is no input of the ConfigMap: set by hand, it is not the program's drift.
    undeclared = with_refresh_diff(pd.refreshed(prod_before, "prod-eu", live={}), urn, "immutable")
    assert "### Drift" not in summarise(undeclared).markdown
    both = with_refresh_diff(
        pd.refreshed(prod_before, "prod-eu", live={}), urn, "immutable", "data.CLUSTER_DOMAIN"
    )
    [row] = rows(summarise(both).markdown, "Drift (found by `--refresh`)")
    assert "| `data` | this plan keeps the live value |" in row, row


def test_review_refresh_diff_of_an_object_without_recorded_inputs_is_drift_on_every_key(
    prod_before: off.Recording,
) -> None:
    # Imported, or recorded by an older engine: no inputs to tell declared keys apart.
    run = pd.Run(prod_before, "prod-eu")
    urn = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = with_refresh_diff(pd.refreshed(prod_before, "prod-eu", live={}), urn, "immutable")
    for step in digest["steps"]:
        if step["urn"] == urn:
            for side in ("oldState", "newState"):
                step[side] = {**step[side], "inputs": {}}
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert row == (
        "| `prod-eu` | ConfigMap `flux-system/flux-runtime-info` | `immutable` "
        "| this plan keeps the live value |"
    )


def test_review_drift_names_every_declared_key_edited_by_hand_and_no_other(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")

    def annotated(outputs: dict[str, Any]) -> dict[str, Any]:
        """`kubectl annotate`: a key beside the declared annotation, not the program's."""
        metadata = outputs["metadata"]
        annotations = {**metadata["annotations"], "example.com/owner": "ops"}
        return {**outputs, "metadata": {**metadata, "annotations": annotations}}

    def relabelled(outputs: dict[str, Any]) -> dict[str, Any]:
        """`kubectl label --overwrite` of the declared label, the data edited, `immutable` set,
        and the fields the server writes on every write."""
        metadata = outputs["metadata"]
        labels = {**metadata["labels"], "toolkit.fluxcd.io/runtime": "false"}
        edited = runtime_info_edited({**outputs, "metadata": {**metadata, "labels": labels}})
        return server_written({**edited, "immutable": True})

    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: annotated})
    assert "### Drift" not in summarise(digest).markdown
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: relabelled})
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert "| `data`, `metadata` | this plan overwrites it (update) |" in row, row


def test_review_drift_of_an_object_without_recorded_inputs_compares_every_key(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: runtime_info_edited})
    for step in digest["steps"]:
        if step["urn"] == configmap:
            for side in ("oldState", "newState"):
                step[side] = {k: v for k, v in step[side].items() if k != "inputs"}
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert "| `data` | this plan overwrites it (update) |" in row, row


@pytest.mark.parametrize("ops", [("refresh",), ("update",), ("refresh", "update")])
def test_review_refresh_of_an_object_without_recorded_outputs_is_no_drift(
    prod_before: off.Recording, ops: tuple[str, ...]
) -> None:
    """The engine leaves `outputs` out of a state that has none: with nothing recorded (the
    refresh step's old state) or nothing read (the plan's), there is nothing to compare."""
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: runtime_info_edited})
    for step in digest["steps"]:
        if step["urn"] == configmap and step["op"] in ops:
            step["oldState"] = {k: v for k, v in step["oldState"].items() if k != "outputs"}
    result = summarise(digest)
    assert "### Drift" not in result.markdown
    assert "| `prod-eu` | production | 1 update |" in result.markdown


def test_review_drift_then_is_the_first_step_planned_after_the_refresh(
    prod_before: off.Recording,
) -> None:
    """With `--show-replacement-steps` a replacement is `create-replacement`, `replace`, then
    `delete-replaced` at the end of the plan: the first says what becomes of the live value."""
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: runtime_info_edited})
    [update] = [s for s in digest["steps"] if s["urn"] == configmap and s["op"] == "update"]
    halves = [{**update, "op": op} for op in ("create-replacement", "replace", "delete-replaced")]
    digest["steps"] = [s for s in digest["steps"] if s is not update] + halves
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert row.endswith("| `data` | this plan overwrites it (create-replacement) |"), row


def test_review_kustomization_deletion_reads_the_live_spec_over_the_declared_one(
    staging_before: off.Recording,
) -> None:
    # The last refresh read `deletionPolicy: Delete`, set by hand over the declared `Orphan`:
    # deleting the object the cluster holds deletes what it applied.
    urn = pd.Run(staging_before, "staging").urn(
        KUSTOMIZATION, "cluster-tenant-frontend-kustomization"
    )
    digest = tenant_removal(staging_before, "staging")
    [deletion] = [s for s in digest["steps"] if s["urn"] == urn]
    old = deletion["oldState"]
    old["inputs"]["spec"] = {**old["inputs"]["spec"], "deletionPolicy": "Orphan"}
    old["outputs"]["spec"] = {**old["outputs"]["spec"], "deletionPolicy": "Delete"}
    [row] = [
        r
        for r in rows(summarise(digest).markdown, "Changes that matter")
        if "Kustomization `frontend/flux-frontend`" in r
    ]
    assert row.endswith(
        "| Kustomization deleted: deletes everything it applied (deletionPolicy Delete) |"
    )


def test_review_step_label_from_the_old_state_when_the_new_one_is_empty(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    urn = run.urn(SECRET, "cluster-credentials-platform")
    old = run.state(urn)
    for new in ({**old, "inputs": {}, "outputs": {}}, {"urn": urn, "type": SECRET}):
        digest = pd.digest([pd.step("update", urn, "", old=old, new=new)], {"update": 1})
        assert preview.parse(digest, "x").steps[0].label() == "Secret `flux-system/flux-system`"


def test_review_drift_on_a_key_this_plan_starts_declaring(prod_before: off.Recording) -> None:
    """`immutable` set by hand, and declared by the program from this change on: drift the
    plan overwrites, though the recorded inputs never named it."""
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(
        prod_before, "prod-eu", live={configmap: lambda o: {**o, "immutable": True}}
    )
    [update] = [s for s in digest["steps"] if s["urn"] == configmap and s["op"] == "update"]
    new = update["newState"]
    update["newState"] = {**new, "inputs": {**new["inputs"], "immutable": False}}
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert row.endswith("| `immutable` | this plan overwrites it (update) |"), row


def test_review_drift_joins_the_refresh_diff_and_the_value_read(prod_before: off.Recording) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: runtime_info_edited})
    with_refresh_diff(digest, configmap, 'metadata.labels["toolkit.fluxcd.io/runtime"]')
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert row.endswith("| `data`, `metadata` | this plan overwrites it (update) |"), row


def test_review_preview_failed_at_its_first_change_says_only_that(
    staging_before: off.Recording,
) -> None:
    complete = token_rotation(staging_before, "staging")
    first = complete["steps"][1]["urn"]
    digest = pd.failed(complete, first, "Preview failed: the server rejected the Secret")
    result = summarise(digest)
    assert "| `staging` | staging | **preview failed** |" in result.markdown
    assert result.exit_code == 1


def test_review_server_written_fields_are_no_drift_on_an_object_without_recorded_inputs(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: server_written})
    for step in digest["steps"]:
        if step["urn"] == configmap:
            for side in ("oldState", "newState"):
                step[side] = {k: v for k, v in step[side].items() if k != "inputs"}
    assert "### Drift" not in summarise(digest).markdown


def test_review_other_changes_name_the_keys_that_force_a_replacement_else_those_that_differ(
    prod_before: off.Recording,
) -> None:
    account = one_step(
        prod_before,
        "kubernetes:core/v1:ServiceAccount",
        "update",
        automountServiceAccountToken=False,
        imagePullSecrets=[],
    )
    binding = one_step(
        prod_before, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", "replace", roleRef={}
    )
    [replaced] = [s for s in binding["steps"] if s["op"] == "replace"]
    replaced["diffReasons"] = ["roleRef", "subjects"]
    replaced["replaceReasons"] = ["roleRef"]
    account["steps"].append(replaced)
    details = summarise(account).markdown.split("<details>", 1)[1]
    assert [r for r in details.splitlines() if r.startswith("| `")] == [
        "| `prod-eu` | update | ServiceAccount `flux-system/flux-infra` "
        "| `automountServiceAccountToken`, `imagePullSecrets` |",
        "| `prod-eu` | replace | RoleBinding `backend/flux-apps` | `roleRef` |",
    ]


def test_review_drift_under_a_declared_value_this_preview_cannot_know_yet(
    prod_before: off.Recording,
) -> None:
    """A declared value computed from outputs `pulumi up` has yet to make reads, in the plan's
    inputs, as the engine's unknown marker: what lies under it is compared key by key."""
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: runtime_info_edited})
    [update] = [s for s in digest["steps"] if s["urn"] == configmap and s["op"] == "update"]
    new = update["newState"]
    unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    update["newState"] = {**new, "inputs": {**new["inputs"], "data": unknown}}
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert row.endswith("| `data` | this plan overwrites it (update) |"), row


def test_review_refresh_step_without_a_recorded_state_is_judged_by_its_own_diff(
    prod_before: off.Recording,
) -> None:
    run = pd.Run(prod_before, "prod-eu")
    configmap = run.urn(CONFIG_MAP, "cluster-runtime-info-configmap")
    digest = pd.refreshed(prod_before, "prod-eu", live={configmap: runtime_info_edited})
    with_refresh_diff(digest, configmap, "data.CLUSTER_DOMAIN")
    [refresh] = [s for s in digest["steps"] if s["urn"] == configmap and s["op"] == "refresh"]
    del refresh["oldState"]
    [row] = rows(summarise(digest).markdown, "Drift (found by `--refresh`)")
    assert row == (
        "| `prod-eu` | ConfigMap `flux-system/flux-runtime-info` | `data` "
        "| this plan overwrites it (update) |"
    )
