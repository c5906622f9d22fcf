"""Build the real-engine tier's binaries from published Go modules, into a cache outside the checkout.

Each binary is built from a wrapper module under ``go/`` (a go.mod that requires the published module,
and for the Kubernetes provider a short main of the project's own) with the ordinary Go client. The
output folder is keyed by the wrappers' files and ``go version``, so a second run reuses both the Go
caches and the binaries, and a change of pins builds into a new folder.

Usage: ``python tests/real_engine/build.py`` (``make real-engine-bins``); it prints what it built, the
versions, the time each took, and the ``export FLEET_REAL_ENGINE_BIN=...`` line the tier reads.
``--bin-dir`` prints only the folder the current pins build into.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

WRAPPERS = Path(__file__).resolve().parent / "go"

# The provider module is untagged; the proxy serves this pseudo-version, the commit of the v4.25.0 tag.
K8S_PROVIDER_RELEASE = "4.25.0"
K8S_PROVIDER_MODULE = "github.com/pulumi/pulumi-kubernetes/provider/v4"


@dataclass(frozen=True)
class Binary:
    """One binary: the wrapper it is built in, its main package and how its version is stamped."""

    name: str
    wrapper: str
    package: str
    version_module: str


BINARIES = (
    Binary(
        "pulumi",
        "cli",
        "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi",
        "github.com/pulumi/pulumi/pkg/v3",
    ),
    Binary("pulumi-resource-kubernetes", "k8sprovider", ".", K8S_PROVIDER_MODULE),
    Binary("kube-apiserver", "kube", "k8s.io/kubernetes/cmd/kube-apiserver", "k8s.io/kubernetes"),
    Binary(
        "kube-controller-manager",
        "kube",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        "k8s.io/kubernetes",
    ),
    Binary("kube-scheduler", "kube", "k8s.io/kubernetes/cmd/kube-scheduler", "k8s.io/kubernetes"),
    Binary("etcd", "kube", "go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/server/v3"),
    Binary("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok", "sigs.k8s.io/kwok"),
)


def go_env() -> dict[str, str]:
    """The build environment: the machine's Go only, static binaries, no VCS stamping."""
    env = dict(os.environ)
    env.update(GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-trimpath -buildvcs=false")
    return env


def go(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["go", *args], check=False, cwd=cwd, env=go_env(), capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"go {' '.join(args)} in {cwd} failed:\n{result.stderr}")
    return result.stdout.strip()


def cache_key() -> str:
    """Hash of every wrapper file and the Go version: a changed pin builds into a fresh folder."""
    digest = hashlib.sha256(go("version", cwd=WRAPPERS).encode())
    for path in sorted(WRAPPERS.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(WRAPPERS)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def bin_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "d1-fleet" / "real-engine" / cache_key() / "bin"


def module_version(binary: Binary) -> str:
    cwd = WRAPPERS / binary.wrapper
    if binary.version_module == K8S_PROVIDER_MODULE:
        return f"v{K8S_PROVIDER_RELEASE}"
    return go("list", "-m", "-f", "{{.Version}}", binary.version_module, cwd=cwd)


def module_dir(wrapper: str, module: str) -> str:
    cwd = WRAPPERS / wrapper
    go("mod", "download", module, cwd=cwd)
    return go("list", "-m", "-f", "{{.Dir}}", module, cwd=cwd)


def ldflags(binary: Binary, version: str) -> str:
    """Version stamps the tools read at run time.

    kube-apiserver must report its real version: pulumi-kubernetes waits minutes for a
    ServiceAccount token Secret on servers it takes for older than 1.24, and Helm checks kubeVersion.
    """
    flags = ["-s", "-w"]
    if binary.name == "pulumi":
        flags.append(f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={version}")
    elif binary.name == "pulumi-resource-kubernetes":
        data = module_dir("k8sprovider", K8S_PROVIDER_MODULE) + "/cmd/pulumi-resource-kubernetes"
        flags.append(f"-X {K8S_PROVIDER_MODULE}/pkg/version.Version={K8S_PROVIDER_RELEASE}")
        flags.append(f"-X main.dataDir={data}")
    elif binary.wrapper == "kube" and binary.name != "etcd":
        major, minor = version.lstrip("v").split(".")[:2]
        stamp = "k8s.io/component-base/version"
        flags += [
            f"-X {stamp}.gitVersion={version}",
            f"-X {stamp}.gitMajor={major}",
            f"-X {stamp}.gitMinor={minor}",
            f"-X {stamp}.gitTreeState=clean",
            f"-X {stamp}.buildDate=1970-01-01T00:00:00Z",
            f"-X k8s.io/client-go/pkg/version.gitVersion={version}",
        ]
    return " ".join(flags)


def build(binary: Binary, out: Path) -> tuple[str, float, bool]:
    version = module_version(binary)
    target = out / binary.name
    if target.exists():
        return version, 0.0, True
    started = time.monotonic()
    partial = out / f".{binary.name}.partial"
    go(
        "build",
        "-ldflags",
        ldflags(binary, version),
        "-o",
        str(partial),
        binary.package,
        cwd=WRAPPERS / binary.wrapper,
    )
    partial.replace(target)
    return version, time.monotonic() - started, False


def main() -> None:
    if sys.argv[1:] == ["--bin-dir"]:
        print(bin_dir())
        return
    if shutil.which("go") is None:
        sys.exit(
            "go is not on PATH: the real-engine tier is built with the machine's Go (1.26 or newer)"
        )
    out = bin_dir()
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {"binaries": {}}
    binaries: dict[str, object] = {}
    for binary in BINARIES:
        version, seconds, reused = build(binary, out)
        binaries[binary.name] = {"version": version, "seconds": round(seconds, 1), "reused": reused}
        how = "reused" if reused else f"built in {seconds:.0f} s"
        print(f"{binary.name:28} {version:14} {how}", flush=True)
    manifest["binaries"] = binaries
    # kwok's stage files are read in place from its module folder, never copied.
    manifest["kwokStages"] = module_dir("kwok", "sigs.k8s.io/kwok") + "/kustomize/stage"
    manifest["goVersion"] = go("env", "GOVERSION", cwd=WRAPPERS)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"export FLEET_REAL_ENGINE_BIN={out}")


if __name__ == "__main__":
    main()
