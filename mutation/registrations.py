"""Registering decorators written as calls, so mutmut mutates the functions they register.

mutmut 3 leaves every decorated function alone (its trampoline cannot sit under a decorator), and
the configuration's cross-key checks are all registered with `@RULES.reads(...)`. In the scratch
copy only, each such check becomes a plain function followed by the same registration as a call,
in the same order: `RULES.reads` returns the function unchanged, so behaviour is identical.
"""

from __future__ import annotations

import ast
from typing import Final

# Decorators that register a function and return it unchanged.
REGISTERING: Final = ("RULES.reads",)


def _registering(decorator: ast.expr) -> bool:
    return isinstance(decorator, ast.Call) and ast.unparse(decorator.func) in REGISTERING


def as_calls(source: str) -> str:
    """`source` with every function decorated only by registering decorators rewritten as a
    plain definition followed by `name = <decorator>(name)`; other code unchanged."""
    lines = source.splitlines(keepends=True)
    found = [
        node
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef)
        and node.decorator_list
        and all(_registering(d) for d in node.decorator_list)
    ]
    for node in reversed(found):  # bottom up: earlier line numbers stay valid
        first = node.decorator_list[0].lineno - 1  # the line of the first `@`
        calls = [ast.get_source_segment(source, d) for d in node.decorator_list]
        applied = node.name
        for call in reversed(calls):  # the decorator nearest the function applies first
            applied = f"{call}({applied})"
        end = node.end_lineno or node.lineno
        body = lines[node.lineno - 1 : end]
        lines[first:end] = [*body, f"{node.name} = {applied}\n"]
    return "".join(lines)
