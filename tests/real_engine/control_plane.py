"""A Kubernetes control plane on loopback: etcd, kube-apiserver, kube-controller-manager, kube-scheduler
and kwok, each a real binary built by ``build.py``, on random free ports under one temporary folder.

kwok stands in for the kubelet (pods go Ready without containers); nothing else is simulated here.
Every process is stopped by ``stop`` (also on a failed start), so nothing is left running.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from tests.real_engine.kube import Kube

CONTEXT = "real-engine"
NODE = "kwok-0"
# kwok's own stage files, read in place from its module folder (the build records where).
KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/general/pod-create.yaml",
    "pod/general/pod-init-container-running.yaml",
    "pod/general/pod-init-container-completed.yaml",
    "pod/general/pod-ready.yaml",
    "pod/general/pod-complete.yaml",
    "pod/general/pod-delete.yaml",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> None:
    """A CA, the API server's serving certificate and the service-account signing key pair."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=real-engine-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=folder)  # fmt: skip
    (folder / "san.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes.default.svc\n"
    )
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
            "-keyout", "serving.key", "-out", "serving.csr", cwd=folder)  # fmt: skip
    openssl("x509", "-req", "-in", "serving.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "serving.crt", cwd=folder)  # fmt: skip
    openssl("genrsa", "-out", "sa.key", "2048", cwd=folder)
    openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=folder)


def kubeconfig(server: str, ca: Path, token: str, context: str = CONTEXT) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": context, "cluster": {"server": server, "certificate-authority": str(ca)}}
        ],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }


@dataclass
class ControlPlane:
    """One running control plane; ``start`` returns it ready (readyz, a Node, the default account)."""

    bin: Path
    folder: Path
    kwok_stages: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)
    api_port: int = 0
    token: str = ""
    # Without pods: no scheduler, no kwok and no Node (a spoke whose only job is to hold accounts).
    pods: bool = True
    context: str = CONTEXT

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def kubeconfig(self) -> Path:
        return self.folder / "admin.kubeconfig"

    @property
    def ca(self) -> Path:
        return self.folder / "ca.crt"

    def kube(self) -> Kube:
        return Kube(self.server, self.ca, self.token)

    def spawn(self, name: str, args: Sequence[str]) -> None:
        log = (self.folder / f"{name}.log").open("wb")
        self.logs.append(log)
        self.names.append(name)
        self.processes.append(
            subprocess.Popen([str(self.bin / name), *args], stdout=log, stderr=subprocess.STDOUT)
        )

    def start(self) -> ControlPlane:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        d = self.folder
        make_certificates(d)
        self.token = secrets.token_hex(16)
        (d / "tokens.csv").write_text(f"{self.token},admin,admin,system:masters\n")
        etcd, peer, self.api_port = free_port(), free_port(), free_port()
        self.spawn("etcd", [
            "--name", "re", "--data-dir", str(d / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{etcd}",
            "--advertise-client-urls", f"http://127.0.0.1:{etcd}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
            "--initial-cluster", f"re=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync", "--log-level", "warn",
        ])  # fmt: skip
        self.spawn("kube-apiserver", [
            f"--etcd-servers=http://127.0.0.1:{etcd}", "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1", f"--secure-port={self.api_port}",
            f"--tls-cert-file={d / 'serving.crt'}", f"--tls-private-key-file={d / 'serving.key'}",
            f"--client-ca-file={d / 'ca.crt'}", f"--token-auth-file={d / 'tokens.csv'}",
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            "--service-cluster-ip-range=10.0.0.0/24",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-account-key-file={d / 'sa.pub'}",
            f"--service-account-signing-key-file={d / 'sa.key'}", "--profiling=false",
        ])  # fmt: skip
        self.kubeconfig.write_text(
            json.dumps(kubeconfig(self.server, self.ca, self.token, self.context))
        )
        self.wait_ready()
        common = [
            f"--kubeconfig={self.kubeconfig}",
            f"--authentication-kubeconfig={self.kubeconfig}",
            f"--authorization-kubeconfig={self.kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ]
        self.spawn("kube-controller-manager", [
            *common, f"--secure-port={free_port()}", "--use-service-account-credentials=false",
            f"--service-account-private-key-file={d / 'sa.key'}", f"--root-ca-file={d / 'ca.crt'}",
        ])  # fmt: skip
        if self.pods:
            self._start_pods(common)
        # The token controller of kube-controller-manager creates each namespace's default account.
        self.wait(
            lambda: self.kube().get("/api/v1/namespaces/default/serviceaccounts/default"), "KCM"
        )

    def _start_pods(self, common: list[str]) -> None:
        self.spawn("kube-scheduler", [*common, f"--secure-port={free_port()}"])
        stages = [arg for stage in KWOK_STAGES for arg in ("-c", str(self.kwok_stages / stage))]
        self.spawn("kwok", [
            f"--kubeconfig={self.kubeconfig}", "--manage-all-nodes=true", "--node-ip=127.0.0.1",
            "--cidr=10.244.0.0/16", "--node-lease-duration-seconds=40", *stages,
        ])  # fmt: skip
        self.kube().create("/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": NODE,
                "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {"kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                           "kubernetes.io/hostname": NODE, "type": "kwok"},
            },
        })  # fmt: skip

    def wait_ready(self, timeout: float = 90) -> None:
        context = ssl.create_default_context(cafile=str(self.ca))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                with urllib.request.urlopen(
                    f"{self.server}/readyz", context=context, timeout=2
                ) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise TimeoutError(f"kube-apiserver not ready after {timeout} s; logs in {self.folder}")

    def wait(self, probe: Callable[[], object], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            if probe():
                return
            time.sleep(0.5)
        raise TimeoutError(f"{what} not ready after {timeout} s; logs in {self.folder}")

    def check_alive(self) -> None:
        for name, process in zip(self.names, self.processes, strict=True):
            if process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {process.returncode}; logs in {self.folder}"
                )

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()
        self.processes.clear()
        self.names.clear()


def versions(bin_dir: Path) -> dict[str, str]:
    """What each built binary says it is, for the tier's report."""
    out = {}
    for name, flag in (
        ("kube-apiserver", "--version"),
        ("etcd", "--version"),
        ("pulumi", "version"),
    ):
        result = subprocess.run(
            [str(bin_dir / name), flag],
            capture_output=True,
            text=True,
            check=False,
            env=dict(os.environ),
        )
        out[name] = (
            result.stdout.strip().splitlines()[0] if result.stdout else result.stderr.strip()
        )
    return out
