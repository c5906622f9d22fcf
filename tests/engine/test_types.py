"""Resource type tokens are spelt once, in `fleet.engine.types`, for every tool and reader."""

from __future__ import annotations

import ast
import re

from tests.helpers import ROOT

TOKEN = re.compile(r"^(kubernetes|github|pulumi|fleet|random):[\w./-]*:[A-Z]\w*$")


def test_types_no_tool_spells_a_type_token_of_its_own() -> None:
    spelt = [
        f"{path.relative_to(ROOT)}: {node.value}"
        for package in ("tools", "engine")
        for path in sorted((ROOT / "fleet" / package).rglob("*.py"))
        if path != ROOT / "fleet" / "engine" / "types.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if TOKEN.match(node.value)
    ]
    assert spelt == []
