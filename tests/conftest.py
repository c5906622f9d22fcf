"""Shared fixtures: the project folder, valid secret config and runners for the mock runtime."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path

import pytest

from fleet.program.config import keys
from fleet.tools import offline

ROOT = Path(__file__).resolve().parent.parent

PLATFORM_TOKEN = "github_pat_" + "P" * 82
APPS_TOKEN = "github_pat_" + "A" * 82
ENTERPRISE_TOKEN = "ghp_" + "E" * 36
SECRET_KEYS = tuple(f"d1-fleet:{key}" for key in sorted(keys.SECRET_KEYS))

RunStack = Callable[..., offline.Recording]


def token_config(days_left: int = 120) -> dict[str, str]:
    """Secret config an operator sets with `pulumi config set --secret`, valid for `days_left`."""
    expires = (date.today() + timedelta(days=days_left)).isoformat()
    return {
        "d1-fleet:platformToken": PLATFORM_TOKEN,
        "d1-fleet:platformTokenExpires": expires,
        "d1-fleet:appsToken": APPS_TOKEN,
        "d1-fleet:appsTokenExpires": expires,
    }


def stack_run(
    stack_name: str,
    overrides: Mapping[str, str] | None = None,
    drop: tuple[str, ...] = (),
    project_dir: Path = ROOT,
    check_kube_access: bool = False,
) -> offline.Recording:
    """Run the real `__main__.py` with `Pulumi.<stack>.yaml`, valid tokens and `overrides`.

    The stack files name kube contexts this machine does not have, so the program's check that
    they exist is off unless `check_kube_access` asks for it.
    """
    config = {**offline.stack_config(project_dir, stack_name), **token_config()}
    config.update({f"d1-fleet:{k}" if ":" not in k else k: v for k, v in (overrides or {}).items()})
    for key in drop:
        config.pop(f"d1-fleet:{key}", None)
    return offline.run_main(
        project_dir,
        config=config,
        stack_name=stack_name,
        secret_keys=SECRET_KEYS,
        check_kube_access=check_kube_access,
    )


@pytest.fixture
def run_stack() -> RunStack:
    return stack_run


@pytest.fixture(scope="module")
def staging() -> offline.Recording:
    return stack_run("staging")


@pytest.fixture(scope="module")
def prod_eu() -> offline.Recording:
    return stack_run("prod-eu")


def run_component(build: Callable[[], object]) -> offline.Recording:
    """Declare one component under mocks and return its registrations."""
    return offline.run(build, config={}, stack_name="test")


@pytest.fixture
def older_flux_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accept Flux 2.5 and 2.6 too, so checks that guard versions older than 2.7 can be reached.

    They are unreachable while 2.7 is the oldest supported line and stay for a line list that
    grows back (an LTS line, an enterprise distribution).
    """
    from fleet.program import conventions  # noqa: PLC0415

    monkeypatch.setattr(conventions, "SUPPORTED_FLUX_MINORS", (5, 6, 7, 8, 9))
