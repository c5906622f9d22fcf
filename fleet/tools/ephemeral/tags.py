"""Stack tags that mark an ephemeral stack, its run and its age, so `gc` can find leftovers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

EPHEMERAL = "fleet:ephemeral"
RUN_ID = "fleet:run-id"
CREATED_AT = "fleet:created-at"
BASE_STACK = "fleet:base-stack"


def stack_tags(run_id: str, base_stack: str, created: datetime) -> dict[str, str]:
    return {
        EPHEMERAL: "true",
        RUN_ID: run_id,
        CREATED_AT: created.astimezone(UTC).isoformat(timespec="seconds"),
        BASE_STACK: base_stack,
    }


def created_at(tags: Mapping[str, str]) -> datetime | None:
    """When the stack was created, from its tag; None if the tag is missing or unreadable."""
    value = tags.get(CREATED_AT)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
