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
