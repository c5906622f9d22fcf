"""Thread-safe progress output: every line of a stack's progress carries the stack's name."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Console:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def info(self, text: str) -> None:
        self._write(self.out, text)

    def error(self, text: str) -> None:
        self._write(self.err, f"error: {text}")

    def stream(self, stack: str) -> Callable[[str], None]:
        """An `on_output` callback that prefixes each line with `[stack]`."""

        def emit(line: str) -> None:
            self._write(self.out, f"[{stack}] {line}")

        return emit

    def _write(self, stream: TextIO, text: str) -> None:
        with self._lock:
            stream.write(text + "\n")
            stream.flush()
