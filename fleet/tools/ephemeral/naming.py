"""Names of ephemeral stacks: unique per CI run, valid as Pulumi stack and DNS-1123 cluster names.

A stack is `<prefix>-<run id>-<index>`. The run id comes from the CI run (GitHub's run id and
attempt), so concurrent runs never share a name, and the same name doubles as the cluster name.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

DEFAULT_PREFIX = "eph"
MAX_RUN_ID = 40  # keeps <prefix>-<run id>-<index> within a 63-character DNS label

_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,9}$")
_AGE = re.compile(r"^(\d+)([smhd])$")
_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def sanitize_run_id(raw: str) -> str:
    """Lower-case `raw` and keep only DNS-1123 characters; raises ValueError if nothing is left."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-")[:MAX_RUN_ID].strip("-")
    if not cleaned:
        raise ValueError(f"run id {raw!r} has no letters or digits")
    return cleaned


def resolve_run_id(
    explicit: str | None,
    env: Mapping[str, str],
    *,
    generate: bool,
    now: Callable[[], datetime],
    token: Callable[[], str] = lambda: secrets.token_hex(3),
) -> str:
    """The run id from the option, FLEET_RUN_ID or GitHub's run, else a fresh one if `generate`."""
    if explicit:
        return sanitize_run_id(explicit)
    if env.get("FLEET_RUN_ID"):
        return sanitize_run_id(env["FLEET_RUN_ID"])
    if env.get("GITHUB_RUN_ID"):
        return sanitize_run_id(f"{env['GITHUB_RUN_ID']}-{env.get('GITHUB_RUN_ATTEMPT', '1')}")
    if generate:
        return sanitize_run_id(f"{now():%Y%m%d%H%M%S}-{token()}")
    raise ValueError("no run id: pass --run-id, or set FLEET_RUN_ID (GITHUB_RUN_ID in Actions)")


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ValueError(f"prefix {prefix!r}: use 1-10 lower-case letters and digits, letter first")
    return prefix


def stack_name(prefix: str, run_id: str, index: int) -> str:
    return f"{prefix}-{run_id}-{index}"


def bare(name: str) -> str:
    """The stack name without the `org/project/` part some backends list."""
    return name.rsplit("/", 1)[-1]


def run_index(name: str, prefix: str, run_id: str) -> int | None:
    """The stack's index if `name` belongs to `run_id`, else None.

    Matching the whole name (not a prefix) keeps run `12` from claiming the stacks of run `12-2`.
    """
    found = re.fullmatch(rf"{re.escape(prefix)}-{re.escape(run_id)}-(\d+)", bare(name))
    return int(found.group(1)) if found else None


def is_ephemeral(name: str, prefix: str) -> bool:
    return re.fullmatch(rf"{re.escape(prefix)}-[a-z0-9-]+-\d+", bare(name)) is not None


def parse_age(text: str) -> timedelta:
    """`90m`, `6h`, `2d` or `3600s` as a timedelta."""
    found = _AGE.match(text.strip())
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"age {text!r}: use a positive number and a unit s, m, h or d (e.g. 6h)")
    return timedelta(**{_AGE_UNITS[found.group(2)]: int(found.group(1))})
