"""A stand-in `pulumi` on PATH that records each call: argv, working folder, environment, stdin.

It proves which calls the tools make, with which environment and from where, and that secrets
travel on stdin or in the environment, never in argv; not that the real CLI succeeds.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import ROOT

KUBECONFIG = """
apiVersion: v1
kind: Config
contexts:
  - name: staging
    context: {cluster: staging, user: staging}
  - name: prod-eu
    context: {cluster: prod-eu, user: prod-eu}
"""
PLATFORM_TOKEN = "github_pat_" + "p" * 82
APPS_TOKEN = "github_pat_" + "a" * 82

# `config set` writes the stack file as the CLI does (a secret as an opaque `secure:` value), so
# the next step of a first run sees what the real CLI would have left behind; `preview --json`
# prints a digest with no change, which `fleet preview` summarises.
_SCRIPT = """#!{python}
import json, os, sys
args = sys.argv[1:]
stdin = "" if sys.stdin is None or sys.stdin.isatty() or "--secret" not in args else sys.stdin.read()
with open({record!r}, "a") as out:
    out.write(json.dumps({{"argv": args, "cwd": os.getcwd(), "env": dict(os.environ),
                          "stdin": stdin}}) + "\\n")
if args[:2] == ["config", "set"]:
    import yaml
    rest = [a for a in args[2:] if a not in ("--secret", "--plaintext")]
    stack = rest[rest.index("--stack") + 1]
    values = [a for i, a in enumerate(rest) if a != "--stack" and rest[i - 1] != "--stack"]
    # The real CLI refuses a plain value it scores as a secret under a key named like one
    # (pkg/cmd/pulumi/config/config.go, `looksLikeSecret`); the fake refuses every such value.
    import re
    named_like_one = re.search("(?i)passwd|pass|password|pwd|secret|token", values[0])
    if named_like_one and "--secret" not in args and "--plaintext" not in args:
        print(f"error: config value for '{{values[0]}}' looks like a secret", file=sys.stderr)
        sys.exit(255)
    path = f"Pulumi.{{stack}}.yaml"
    document = yaml.safe_load(open(path)) or {{}}
    key = "d1-fleet:" + values[0]
    secret = "--secret" in args
    document.setdefault("config", {{}})[key] = {{"secure": "v1:fake"}} if secret else values[1]
    yaml.safe_dump(document, open(path, "w"), sort_keys=False)
if args[:1] == ["preview"] and "--json" in args:
    # A digest with nothing to change, in the engine's shape (pkg/display/json.go).
    stack = args[args.index("--stack") + 1]
    urn = f"urn:pulumi:{{stack}}::d1-fleet::pulumi:pulumi:Stack::d1-fleet-{{stack}}"
    print(json.dumps({{"steps": [{{"op": "same", "urn": urn}}], "changeSummary": {{"same": 1}}}}))
"""


@dataclass(frozen=True)
class Call:
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    stdin: str


@dataclass(frozen=True)
class FakeCli:
    """The fake's folder (put first on PATH) and its record."""

    bin_dir: Path
    record: Path

    def calls(self) -> list[Call]:
        if not self.record.is_file():
            return []
        rows: list[dict[str, Any]] = [
            json.loads(line) for line in self.record.read_text().splitlines()
        ]
        return [Call(r["argv"], Path(r["cwd"]), r["env"], r["stdin"]) for r in rows]


def install(tmp_path: Path) -> FakeCli:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    record = tmp_path / "pulumi-calls.jsonl"
    fake = bin_dir / "pulumi"
    fake.write_text(_SCRIPT.format(python=sys.executable, record=str(record)))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return FakeCli(bin_dir, record)


def user_env(tmp_path: Path, cli: FakeCli, **extra: str) -> dict[str, str]:
    """A new user's environment: the fake CLI, a kubeconfig with the stacks' contexts, a home
    where `pulumi login` chose Pulumi Cloud, a passphrase; tokens only when given in `extra`."""
    home = tmp_path / "home"
    (home / ".pulumi").mkdir(parents=True, exist_ok=True)
    (home / ".pulumi" / "credentials.json").write_text(
        json.dumps({"current": "https://api.pulumi.com", "accessTokens": {}})
    )
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    return {
        "PATH": f"{cli.bin_dir}:{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home),
        "KUBECONFIG": str(kubeconfig),
        "PULUMI_CONFIG_PASSPHRASE": "correct horse battery staple",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def token_env() -> dict[str, str]:
    return {
        "FLEET_PLATFORM_TOKEN": PLATFORM_TOKEN,
        "FLEET_PLATFORM_TOKEN_EXPIRES": "2099-01-31",
        "FLEET_APPS_TOKEN": APPS_TOKEN,
        "FLEET_APPS_TOKEN_EXPIRES": "2099-01-31",
        "FLEET_APPS_PUSH_TOKEN": "github_pat_" + "w" * 82,
        "FLEET_APPS_PUSH_TOKEN_EXPIRES": "2099-01-31",
    }


def checkout(tmp_path: Path) -> Path:
    """A copy of the checkout's project files, as a fresh clone has them (state folder included),
    with the policy pack's environment in place and files older than the shared .venv, so `make`
    reuses it instead of building another."""
    project = tmp_path / "checkout"
    project.mkdir()
    names = ["Makefile", "Pulumi.yaml", "__main__.py", "pyproject.toml", "requirements.txt"]
    names += ["requirements-dev.txt", *(p.name for p in ROOT.glob("Pulumi.*.yaml"))]
    for name in names:
        if name.startswith("Pulumi.eph-"):
            continue
        shutil.copy(ROOT / name, project / name)
    (project / ".pulumi-state").mkdir()
    (project / ".pulumi-state" / ".gitkeep").touch()
    (project / "policy" / "venv" / "bin").mkdir(parents=True)
    shutil.copy(ROOT / "policy" / "requirements.txt", project / "policy" / "requirements.txt")
    for path in project.rglob("*"):
        if path.is_file():
            os.utime(path, (0, 0))
    (project / "policy" / "venv" / "bin" / "python").touch()
    (project / "policy" / "venv" / ".installed").touch()
    return project


def make(project: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`make` in `project` with this checkout's .venv (already built by `make test`)."""
    venv = ROOT / ".venv"
    return subprocess.run(
        ["make", "-C", str(project), *args, f"VENV={venv}", f"BIN={venv / 'bin'}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
