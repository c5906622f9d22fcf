"""Reading the `pulumi preview --json` digest (`fleet.engine.preview`): three readings, one place."""

from __future__ import annotations

import json

import pytest

from fleet.engine import preview

URN = "urn:pulumi:staging::d1-fleet::fleet:index:Cluster$kubernetes:core/v1:Secret::s-flux-apps"
STEP = {
    "op": "update",
    "urn": URN,
    "newState": {
        "type": "kubernetes:core/v1:Secret",
        "inputs": {"metadata": {"name": "flux-apps"}},
    },
}


def test_preview_parse_reads_one_stacks_digest() -> None:
    parsed = preview.parse({"steps": [STEP], "changeSummary": {"update": 1}}, "x.json")
    assert parsed.stack == "staging"
    [step] = parsed.steps
    assert (step.op, step.type, step.name) == (
        preview.Op.UPDATE,
        "kubernetes:core/v1:Secret",
        "s-flux-apps",
    )
    with pytest.raises(preview.DigestError, match="unknown step op"):
        preview.parse({"steps": [{**STEP, "op": "teleport"}]}, "x.json")


def test_preview_planned_names_the_kubernetes_object() -> None:
    [step] = preview.planned({"steps": [STEP]})
    assert (step.op, step.type, step.name, step.logical_name) == (
        "update",
        "kubernetes:core/v1:Secret",
        "flux-apps",
        "s-flux-apps",
    )


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        (
            json.dumps({"changeSummary": {"same": 3, "update": 1, "x": "y"}}),
            {"same": 3, "update": 1},
        ),
        (json.dumps({"changeSummary": {}, "diagnostics": [{"severity": "error"}]}), None),
        (json.dumps({"steps": []}), None),
        ("not json", None),
    ],
)
def test_preview_change_counts_or_none_when_the_preview_cannot_tell(
    text: str, counts: dict[str, int] | None
) -> None:
    assert preview.change_counts(text) == counts


def test_preview_planned_reads_a_deletion_from_its_old_state_and_a_bare_step_from_its_urn() -> None:
    deletion = {
        "op": "delete",
        "urn": URN,
        "oldState": {
            "type": "kubernetes:core/v1:Secret",
            "inputs": {"metadata": {"name": "flux-apps", "namespace": "frontend"}},
        },
    }
    nested = "fleet:index:Cluster$fleet:github:Access$github:index/team:Team"
    bare = {"op": "delete", "urn": f"urn:pulumi:staging::d1-fleet::{nested}::t"}
    top = {"op": "same", "urn": "urn:pulumi:staging::d1-fleet::pulumi:pulumi:Stack::d1-fleet"}
    [old, unnamed, stack] = preview.planned({"steps": [deletion, bare, top]})
    assert (old.type, old.name, old.namespace) == (
        "kubernetes:core/v1:Secret",
        "flux-apps",
        "frontend",
    )
    assert (unnamed.type, unnamed.name, unnamed.namespace) == ("github:index/team:Team", "", None)
    assert (stack.type, stack.logical_name) == ("pulumi:pulumi:Stack", "d1-fleet")


def server_written_update(**step: object) -> dict[str, object]:
    """An update step whose difference the given `detailedDiff`/`diffReasons` name."""
    return {"op": "update", "urn": URN, **step}


@pytest.mark.parametrize(
    ("steps", "updates"),
    [
        # Only what the API server writes: not drift, whichever way the step names it.
        ([server_written_update(detailedDiff={"status.phase": {"kind": "update"}})], 1),
        ([server_written_update(detailedDiff={}, diffReasons=["metadata.resourceVersion"])], 1),
        ([server_written_update(diffReasons=["status"])], 1),
        # A declared field beside a server-written one is drift.
        (
            [
                server_written_update(
                    detailedDiff={"status": {"kind": "update"}, "data.x": {"kind": "update"}}
                )
            ],
            2,
        ),
        # The detailed paths win over a top-level reason that stands for them.
        (
            [
                server_written_update(
                    detailedDiff={"metadata.uid": {"kind": "update"}}, diffReasons=["metadata"]
                )
            ],
            1,
        ),
        # An update that names nothing, another op, a step that is not an object: counted as is.
        ([server_written_update()], 2),
        ([{"op": "replace", "urn": URN, "diffReasons": ["status"]}], 2),
        (["status"], 2),
        # Never below zero, whatever the steps say.
        ([server_written_update(diffReasons=["status"])] * 3, 0),
    ],
)
def test_preview_change_counts_leave_out_updates_of_server_written_fields(
    steps: list[object], updates: int
) -> None:
    text = json.dumps({"steps": steps, "changeSummary": {"same": 4, "update": 2}})
    assert preview.change_counts(text) == {"same": 4, "update": updates}


def test_preview_change_counts_of_odd_documents() -> None:
    assert preview.change_counts("[]") is None
    assert preview.change_counts(json.dumps({"changeSummary": []})) == {}
    warned = {"changeSummary": {"same": 1}, "diagnostics": [{"severity": "warning"}, "x"]}
    assert preview.change_counts(json.dumps(warned)) == {"same": 1}
    server = {"op": "update", "urn": URN, "diffReasons": ["status"]}
    no_update = {"steps": [server], "changeSummary": {"same": 1}}
    assert preview.change_counts(json.dumps(no_update)) == {"same": 1}


def test_preview_keeps_each_warning_by_its_words_and_drops_one_without_any() -> None:
    digest = {
        "steps": [STEP],
        "changeSummary": {"update": 1},
        "diagnostics": [
            {"severity": "warning", "message": "warning: the platform token expires in 9 day(s)\n"},
            {"severity": "warning"},
            {"severity": "warning", "message": "  "},
        ],
    }
    [warning] = preview.parse(digest, "x.json").diagnostics
    assert (warning.stack, warning.severity, warning.message) == (
        "staging",
        "warning",
        "the platform token expires in 9 day(s)",
    )
