"""The real Pulumi engine for the tier: the built CLI and Kubernetes provider, a ``file://`` backend.

The Python language host is not served by the Go proxy here, so the program runs the way the
Automation API runs inline programs: the SDK serves ``__main__.py`` from this process and starts the
CLI with ``--client`` (pulumi/automation/_stack.py), which needs no language host. Everything after
the program (the engine's plan, the provider's calls to the API server, the state) is the real one.
CLI commands that do not run the program (``stack export``, ``stack history``, ``config``) run the
binary directly, as the ``fleet`` tools do.
"""

from __future__ import annotations

import os
import runpy
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from fleet.engine import state as engine_state
from fleet.engine.cli import PulumiCli
from tests.helpers import EXPORTED_TOKENS
from tests.real_engine.control_plane import CONTEXT, ControlPlane

ROOT = Path(__file__).resolve().parents[2]
PROGRAM_FILES = ("Pulumi.yaml", "__main__.py")
STACK_FILES = ("Pulumi.staging.yaml", "Pulumi.prod-eu.yaml")
PASSPHRASE = "real-engine-tier"
LANGUAGE_HOST = "pulumi-language-python"
# Tokens the program reads from the environment (never in a stack file), far from expiry.
TOKENS = dict(EXPORTED_TOKENS)


@dataclass
class Engine:
    """One backend and one project copy; ``stack`` gives an Automation API stack of the program."""

    bin: Path
    project: Path
    home: Path
    state: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "PULUMI_HOME": str(self.home),
            "PULUMI_BACKEND_URL": f"file://{self.state}",
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "1",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_DISABLE_REGISTRY_RESOLVE": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "HOME": str(self.home),
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}",
        }

    @classmethod
    def create(
        cls, bin_dir: Path, folder: Path, stack_files: tuple[str, ...] = STACK_FILES
    ) -> Engine:
        """A copy of the project with `stack_files` (the hub example is a project of its own)."""
        project = folder / "project"
        project.mkdir(parents=True)
        for name in (*PROGRAM_FILES, *stack_files):
            shutil.copy(ROOT / name, project / name)
        engine = cls(bin_dir, project, folder / "home", folder / "state")
        engine.home.mkdir()
        engine.state.mkdir()
        return engine

    def write_stack(
        self, stack: str, overrides: Mapping[str, Any], source: Path | None = None
    ) -> None:
        """`Pulumi.<stack>.yaml`: the committed stack file (or `source`) with `overrides`."""
        source = source or ROOT / f"Pulumi.{stack}.yaml"  # the committed file, not an earlier write
        doc = yaml.safe_load(source.read_text())
        config = doc.setdefault("config", {})
        target = self.project / f"Pulumi.{stack}.yaml"
        # What the CLI wrote since (the passphrase salt, encrypted values) stays.
        written = yaml.safe_load(target.read_text()) if target.exists() else {}
        if written.get("encryptionsalt"):
            doc["encryptionsalt"] = written["encryptionsalt"]
        for key, value in (written.get("config") or {}).items():
            if isinstance(value, dict) and "secure" in value:
                config[key] = value
        for key, value in overrides.items():
            if value is None:
                config.pop(f"d1-fleet:{key}", None)
            else:
                config[f"d1-fleet:{key}"] = value
        target.write_text(yaml.safe_dump(doc, sort_keys=False))

    def program(self) -> Callable[[], None]:
        main = self.project / "__main__.py"

        def run() -> None:
            runpy.run_path(str(main), run_name="__main__")

        return run

    def stack(self, name: str) -> auto.Stack:
        options = auto.LocalWorkspaceOptions(
            work_dir=str(self.project),
            pulumi_command=auto.PulumiCommand(root=str(self.bin.parent), skip_version_check=True),
            env_vars=self.env,
        )
        return auto.create_or_select_stack(
            name, project_name="d1-fleet", program=self.program(), opts=options
        )

    @property
    def pulumi(self) -> PulumiCli:
        """The project's engine adapter, on the built binary instead of PATH's."""
        return PulumiCli.at(self.bin / "pulumi", {**os.environ, **self.env}, cwd=self.project)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = self.pulumi.call(*args, "--non-interactive")
        if check and result.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
            )
        return result

    def fleet(
        self, *args: str, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The README's `fleet` command (python -m fleet) on the project copy, the tier's CLI first
        on PATH; `env` adds to the engine's environment (the tokens, when a command needs them)."""
        return subprocess.run(
            [sys.executable, "-m", "fleet", *args, "--project-dir", str(self.project)],
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )

    def export(self, stack: str) -> dict[str, Any]:
        state = engine_state.export(self.pulumi, stack)
        assert state is not None, f"the backend has no stack {stack}"
        return dict(state)


@contextmanager
def inside(project: Path, env: Mapping[str, str]) -> Iterator[None]:
    """Run the inline program as the CLI would: from the project folder, with the tokens exported.

    The program reads the fleet's other stack files from its working directory and its tokens from
    the process environment, which for an inline program is this one.
    """
    previous = Path.cwd()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    os.chdir(project)
    try:
        yield
    finally:
        os.chdir(previous)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def tier_config(cluster: ControlPlane, chart: Path) -> dict[str, Any]:
    """What the tier changes in a committed stack file: where the cluster and the chart are."""
    return {
        "kubeconfig": str(cluster.kubeconfig),
        "kubeContext": CONTEXT,
        "operatorChart": str(chart),
        "fluxReadyTimeoutSeconds": 60,
    }


def language_host_missing(bin_dir: Path, needs: str) -> str | None:
    """Why a scenario cannot run without the Python language host, or None when the bin has one.

    The Go module proxy does not serve it (403 on its module), and the real CLI then refuses what
    `needs` names, in the words quoted by each scenario.
    """
    if (bin_dir / LANGUAGE_HOST).is_file():
        return None
    return f"{needs} needs the Python language host ({LANGUAGE_HOST}), which the Go module proxy does not serve"
