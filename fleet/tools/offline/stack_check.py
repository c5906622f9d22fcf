"""The program's own configuration checks for one stack, offline, with the caller's environment.

`fleet up`/`preview` (before the CLI runs), `fleet render`, `fleet check` and the ephemeral-fleet
tool all ask this one question, answered by running the real program under the mock runtime
(`fleet.tools.offline.render.record_stack`): whatever the program refuses is refused here, every problem at
once, and whatever it warns about in `pulumi preview` is returned for the terminal.

Credentials come as the program would see them: the stack file's encrypted values (which only the
CLI can decrypt) are stood in for by format-valid placeholders, values from FLEET_*_TOKEN,
FLEET_GITHUB_APP_PRIVATE_KEY and their *_EXPIRES variables are checked as given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from fleet.program import conventions as c
from fleet.program.config import keys, model, sources
from fleet.program.config.errors import problems_in
from fleet.tools.offline import cli_config, mock, render


@dataclass(frozen=True)
class Findings:
    """What the program refuses (each naming its key) and what it warns about."""

    problems: tuple[str, ...]
    warnings: tuple[str, ...]


def environment_overrides(
    config: Mapping[str, str], secure: set[str], env: Mapping[str, str]
) -> dict[str, str]:
    """Full-key config the program would take from `env` (`sources.from_environment`): the
    credentials and expiry dates the stack file neither sets nor holds encrypted."""
    prefix = f"{c.PROJECT}:"
    raw = mock.project_values(config)
    raw.update(mock.project_values(dict.fromkeys(secure, "<encrypted>")))
    merged = sources.from_environment(raw, env)
    return {f"{prefix}{k}": str(v) for k, v in merged.items() if raw.get(k) != v}


def check(
    project_dir: Path,
    stack: str,
    env: Mapping[str, str],
    today: date | None = None,
) -> Findings:
    """Run the program for `stack` offline; its refusals and warnings (none when it is fine)."""
    config = mock.stack_config(project_dir, stack)
    secure = mock.secure_keys(project_dir, stack)
    overrides = environment_overrides(config, secure, env)
    try:
        recording, _, _ = render.record_stack(project_dir, stack, overrides, today)
    except render.RenderError as error:
        return Findings(error.problems, ())
    return Findings((), tuple(recording.warnings))


def value_problem(key: str, value: str) -> str | None:
    """Why the program refuses `value` for `key` (its field's format), None if it accepts it.

    The same validators the settings model applies, so a tool checking one value before storing
    or passing it says exactly what the program would.
    """
    field = model.Settings.model_fields[keys.field_name(key)]
    try:
        TypeAdapter[object](field.annotation).validate_python(value)  # type: ignore[arg-type]
    except ValidationError as error:
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
    return None


def check_config(
    project_dir: Path, stack: str, config: Mapping[str, Any], secret_keys: frozenset[str]
) -> Findings:
    """Run the program offline with `config` (full keys, values as a stack file holds them) after
    Pulumi.yaml's defaults, for a stack that has no file (the ephemeral copies)."""
    text = {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    project = cli_config.load_project(
        cli_config.load_yaml((project_dir / "Pulumi.yaml").read_text()) or {}
    )
    values = cli_config.apply_defaults(project, text)
    try:
        recording = mock.run_main(
            project_dir, config=values, stack_name=stack, secret_keys=tuple(sorted(secret_keys))
        )
    except mock.ProgramError as failed:
        return Findings(tuple(problems_in(str(failed.error))) or (str(failed.error),), ())
    return Findings((), tuple(recording.warnings))
