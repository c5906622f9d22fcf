"""Compare two renders file by file, so a reviewer sees exactly how two environments differ.

Objects are matched by file name (kind, namespace, name); an object only one side declares is listed
as added or removed and shown whole. This compares desired states; it is not a preview of changes
to a cluster.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    """How render `b` differs from render `a`."""

    a: str
    b: str
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    changed: tuple[str, ...]
    text: str

    @property
    def same(self) -> bool:
        return not (self.only_a or self.only_b or self.changed)


def compare(
    a: Mapping[str, str], b: Mapping[str, str], *, a_label: str, b_label: str
) -> Comparison:
    """A unified diff of two renders' files (relative path -> content), with a header listing
    the files only one side has and those that changed."""
    only_a = tuple(sorted(set(a) - set(b)))
    only_b = tuple(sorted(set(b) - set(a)))
    changed = tuple(sorted(p for p in set(a) & set(b) if a[p] != b[p]))
    header = [f"--- {a_label}", f"+++ {b_label}"]
    header += [f"only in {a_label}: {p}" for p in only_a]
    header += [f"only in {b_label}: {p}" for p in only_b]
    header += [f"changed: {p}" for p in changed]
    if not (only_a or only_b or changed):
        header.append("no differences")
    body: list[str] = []
    for path in sorted(set(only_a) | set(only_b) | set(changed)):
        body.extend(
            difflib.unified_diff(
                a.get(path, "").splitlines(),
                b.get(path, "").splitlines(),
                fromfile=f"{a_label}/{path}" if path in a else "/dev/null",
                tofile=f"{b_label}/{path}" if path in b else "/dev/null",
                lineterm="",
            )
        )
    text = "\n".join([*header, "", *body]) + "\n" if body else "\n".join(header) + "\n"
    return Comparison(a_label, b_label, only_a, only_b, changed, text)
