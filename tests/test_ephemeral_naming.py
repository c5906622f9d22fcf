"""Naming and tagging of ephemeral stacks: unique per run, valid names, readable ages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from fleet.tools.ephemeral import naming, tags

NOW = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def test_run_id_from_github_includes_attempt_so_reruns_do_not_collide() -> None:
    env = {"GITHUB_RUN_ID": "9876543210", "GITHUB_RUN_ATTEMPT": "2"}
    assert naming.resolve_run_id(None, env, generate=False, now=lambda: NOW) == "9876543210-2"


def test_run_id_precedence_option_then_fleet_run_id_then_github() -> None:
    env = {"FLEET_RUN_ID": "Nightly_42", "GITHUB_RUN_ID": "1"}
    assert naming.resolve_run_id("PR 7", env, generate=False, now=lambda: NOW) == "pr-7"
    assert naming.resolve_run_id(None, env, generate=False, now=lambda: NOW) == "nightly-42"


def test_run_id_generated_locally_is_timestamped_and_random() -> None:
    run_id = naming.resolve_run_id(None, {}, generate=True, now=lambda: NOW, token=lambda: "ab12")
    assert run_id == "20260301123005-ab12"
    first = naming.resolve_run_id(None, {}, generate=True, now=lambda: NOW)
    second = naming.resolve_run_id(None, {}, generate=True, now=lambda: NOW)
    assert first != second, "two local runs in the same second must still differ"


def test_run_id_required_for_commands_that_do_not_create() -> None:
    with pytest.raises(ValueError, match="no run id"):
        naming.resolve_run_id(None, {}, generate=False, now=lambda: NOW)


def test_run_id_without_letters_or_digits_is_rejected() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        naming.sanitize_run_id("--//--")


def test_stack_name_is_a_dns_label_even_for_the_longest_run_id() -> None:
    run_id = naming.sanitize_run_id("X" * 200)
    name = naming.stack_name("abcdefghij", run_id, 999)
    assert len(name) <= 63
    assert DNS_LABEL.match(name), name


def test_run_index_matches_whole_names_only() -> None:
    assert naming.run_index("eph-12-3", "eph", "12") == 3
    assert naming.run_index("org/d1-fleet/eph-12-0", "eph", "12") == 0
    assert naming.run_index("eph-12-2-0", "eph", "12") is None, "run 12 must not claim run 12-2"
    assert naming.run_index("staging", "eph", "12") is None


def test_is_ephemeral_leaves_cluster_stacks_alone() -> None:
    assert naming.is_ephemeral("eph-20260301-ab-1", "eph")
    assert not naming.is_ephemeral("staging", "eph")
    assert not naming.is_ephemeral("prod-eu", "eph")
    assert not naming.is_ephemeral("ephemeral", "eph")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", timedelta(minutes=90)), ("6h", timedelta(hours=6)), ("2d", timedelta(days=2))],
)
def test_parse_age(text: str, expected: timedelta) -> None:
    assert naming.parse_age(text) == expected


@pytest.mark.parametrize("text", ["6", "0h", "-1h", "6 hours", "1w"])
def test_parse_age_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="positive number and a unit"):
        naming.parse_age(text)


def test_prefix_must_keep_names_short_and_valid() -> None:
    assert naming.check_prefix("ci") == "ci"
    with pytest.raises(ValueError, match="lower-case"):
        naming.check_prefix("CI_Fleet")


def test_tags_carry_run_base_and_utc_creation_time() -> None:
    created = datetime(2026, 3, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))
    stack_tags = tags.stack_tags("77-1", "staging", created)
    assert stack_tags == {
        "fleet:ephemeral": "true",
        "fleet:run-id": "77-1",
        "fleet:created-at": "2026-03-01T12:30:00+00:00",
        "fleet:base-stack": "staging",
    }
    assert all(len(k) <= 40 and re.fullmatch(r"[A-Za-z0-9_.:-]+", k) for k in stack_tags)
    assert tags.created_at(stack_tags) == datetime(2026, 3, 1, 12, 30, tzinfo=UTC)


def test_unreadable_creation_tag_means_unknown_age() -> None:
    assert tags.created_at({}) is None
    assert tags.created_at({"fleet:created-at": "yesterday"}) is None
