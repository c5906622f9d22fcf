"""docs/commands.md: every `fleet` command's `--help`, as the command prints it.

`python -m tests.commands_doc` rewrites the page; tests/test_docs.py fails when it is stale, so
the reference cannot drift from the options the commands take.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from unittest.mock import patch

from fleet import cli
from tests.helpers import ROOT

PAGE = ROOT / "docs" / "commands.md"
WIDTH = "100"
HEAD = """# Command reference

What `fleet <command> --help` prints for each command (`python -m fleet` is the same command
without the console script; the README's [Commands](../README.md#commands) table says what each
is for). `python -m tests.commands_doc` regenerates this page and a test keeps it current.
"""


def _helps(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str]]:
    """(prog, help) of every subcommand under `parser`, nested groups included, in table order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield sub.prog, sub.format_help()
                yield from _helps(sub)


def render() -> str:
    # argparse wraps help to the terminal's width: a fixed one makes the page reproducible.
    with patch.dict(os.environ, {"COLUMNS": WIDTH}):
        sections = [
            f"## {prog}\n\n```text\n{text.rstrip()}\n```\n" for prog, text in _helps(cli.parser())
        ]
    return HEAD + "\n" + "\n".join(sections)


if __name__ == "__main__":
    PAGE.write_text(render())
