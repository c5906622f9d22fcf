"""Fixtures: the committed stacks run once per module, and a runner for any stack."""

from __future__ import annotations

import os

import pytest

from fleet.tools.offline import mock, schemas
from tests.helpers import RunStack, stack_run


def pytest_configure() -> None:
    """A relative FLEET_SCHEMAS_DIR names a folder from where the tests start: made absolute once,
    so the tests that run a command from another folder read the same schemas."""
    configured = os.environ.get(schemas.SCHEMAS_ENV)
    if configured:
        os.environ[schemas.SCHEMAS_ENV] = str(schemas.schemas_dir())


@pytest.fixture
def run_stack() -> RunStack:
    return stack_run


@pytest.fixture(scope="module")
def staging() -> mock.Recording:
    return stack_run("staging")


@pytest.fixture(scope="module")
def prod_eu() -> mock.Recording:
    return stack_run("prod-eu")


@pytest.fixture
def older_flux_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accept Flux 2.5 and 2.6 too, so checks that guard versions older than 2.7 can be reached.

    They are unreachable while 2.7 is the oldest supported line and stay for a line list that
    grows back (an LTS line, an enterprise distribution).
    """
    from fleet.program import conventions  # noqa: PLC0415

    monkeypatch.setattr(conventions, "SUPPORTED_FLUX_MINORS", (5, 6, 7, 8, 9))
