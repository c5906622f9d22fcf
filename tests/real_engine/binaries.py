"""Whether a folder holds the tier's binaries, each answering for itself."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.real_engine.build import BINARIES


def missing(bin_dir: Path) -> list[str]:
    """The binaries (and the build manifest) `bin_dir` lacks or that do not answer."""
    lacking = []
    for binary in BINARIES:
        path = bin_dir / binary.name
        flag = "version" if binary.name == "pulumi" else "--version"
        if binary.name == "pulumi-resource-kubernetes":
            ok = path.is_file() and os.access(path, os.X_OK)
        else:
            ok = (
                path.is_file()
                and subprocess.run([str(path), flag], capture_output=True, check=False).returncode
                == 0
            )
        if not ok:
            lacking.append(binary.name)
    if not (bin_dir / "manifest.json").is_file():
        lacking.append("manifest.json")
    return lacking
