"""The upstream schemas the conformance and CLI-rules checks read, pinned by commit and sha256.

The files are data from other projects (Flux CRDs, the flux-operator chart's values schema, the
Pulumi CLI's project schema), so they are never committed here. They come from one place:
`$FLEET_SCHEMAS_DIR` when it is set (CI points it at a shared copy), otherwise a cache folder in
the checkout that is filled from the pinned upstream commits on first use. Every fetched file must match
the sha256 recorded below, so a moved tag or a tampered download fails instead of testing against
something else.
"""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

SCHEMAS_ENV: Final = "FLEET_SCHEMAS_DIR"
CACHE_DIR: Final = Path(__file__).resolve().parents[3] / ".schemas"
RAW: Final = "https://raw.githubusercontent.com"
_BASES: Final = "config/crd/bases"


@dataclass(frozen=True)
class Pin:
    """One upstream file: where it comes from, where it goes, and its content hash."""

    repository: str
    ref: str
    source: str
    target: str
    sha256: str

    @property
    def url(self) -> str:
        return f"{RAW}/{self.repository}/{self.ref}/{self.source}"


def _crd(repository: str, ref: str, name: str, sha256: str) -> Pin:
    return Pin(repository, ref, f"{_BASES}/{name}.yaml", f"crds/{name}.yaml", sha256)


# (repository, commit): the commits the Flux releases' CRDs were taken from, as listed with their
# release tags in crds/SOURCES.txt of the shared schemas; a tag's own files differ in annotations.
SOURCE_CONTROLLER: Final = ("fluxcd/source-controller", "39b711b111fa906c3db0a424e252a5d12e48646d")
KUSTOMIZE_CONTROLLER: Final = (
    "fluxcd/kustomize-controller",
    "186fb3b29138ce82ff61ba1a9370b96a3dd598fe",
)
HELM_CONTROLLER: Final = ("fluxcd/helm-controller", "0f61a8607a62be64638f2f912d9487e653960a6e")
NOTIFICATION_CONTROLLER: Final = (
    "fluxcd/notification-controller",
    "2e46958a67f3af0e3e755a4fcaf7397d5803725e",
)
IMAGE_REFLECTOR_CONTROLLER: Final = (
    "fluxcd/image-reflector-controller",
    "debe2aaa3a98ad3ca69e178638402a5a0feec4a6",
)
IMAGE_AUTOMATION_CONTROLLER: Final = (
    "fluxcd/image-automation-controller",
    "d36e2ea07a3973a0e8ace7678d933a89b76f9dda",
)
FLUX_OPERATOR: Final = (
    "controlplaneio-fluxcd/flux-operator",
    "17c6aeaddd8dacd5fbd4dd9e1bfe23a0a59df1fb",
)
# The Flux Operator commit whose embedded manifests (`config/data/flux/v<X.Y.Z>/`) are what it
# installs for each Flux release; conformance checks a stack against its line's CRDs from these.
FLUX_LINES_SOURCE: Final = (
    "controlplaneio-fluxcd/flux-operator",
    "b3b36020aca1f8d2172c76949c0bcb6bbf688dde",
)
FLUX_LINES_RELEASE: Final = "v0.58.1"
CHARTS: Final = ("controlplaneio-fluxcd/charts", "fc87d3b3f55bc28becb11126dadcde2bedf648a0")
# The release each pinned commit belongs to (Flux 2.N ships source-controller v1.N).
RELEASES: Final = {
    SOURCE_CONTROLLER[0]: "v1.9.0",
    KUSTOMIZE_CONTROLLER[0]: "v1.9.0",
    HELM_CONTROLLER[0]: "v1.6.0",
    NOTIFICATION_CONTROLLER[0]: "v1.9.0",
    IMAGE_REFLECTOR_CONTROLLER[0]: "v1.2.0",
    IMAGE_AUTOMATION_CONTROLLER[0]: "v1.2.0",
    FLUX_OPERATOR[0]: "v0.58.1",
}
PULUMI: Final = ("pulumi/pulumi", "v3.259.0")


def _flux_line(release: str, manifest: str, sha256: str) -> Pin:
    """One controller's manifest (its CRDs among its other objects) of one Flux release."""
    return Pin(
        *FLUX_LINES_SOURCE,
        f"config/data/flux/v{release}/{manifest}.yaml",
        f"flux/{release}/{manifest}.yaml",
        sha256,
    )


PINS: Final = (
    _crd(
        *SOURCE_CONTROLLER,
        "source.toolkit.fluxcd.io_buckets",
        "7be598fad94f7b81d99c196a649f55c70edf5b4ab9de32c13e8eda31c14f46ef",
    ),
    _crd(
        *SOURCE_CONTROLLER,
        "source.toolkit.fluxcd.io_externalartifacts",
        "f4939240c967e4da1208c7203cd8edd0cd1ff62cabc9a767e7293dedd2f50b91",
    ),
    _crd(
        *SOURCE_CONTROLLER,
        "source.toolkit.fluxcd.io_gitrepositories",
        "bd0c08183287b2eea0d885751fc686bc4b2b583e919de6bd57859170b8d1727f",
    ),
    _crd(
        *SOURCE_CONTROLLER,
        "source.toolkit.fluxcd.io_helmcharts",
        "3e319fc2b5c4aeaf8fa3ca161c253037e2f78177b986a0df3e85ba4853615b05",
    ),
    _crd(
        *SOURCE_CONTROLLER,
        "source.toolkit.fluxcd.io_helmrepositories",
        "0f3c34df4a25c88c7ad7825ada26d696aa53d92ec2c0ca540e1f9a05db247fa9",
    ),
    _crd(
        *SOURCE_CONTROLLER,
        "source.toolkit.fluxcd.io_ocirepositories",
        "80c7c6e5c8de0764cc83acd4de5c74bea8e51186085304d22cecc5f2eb35500e",
    ),
    _crd(
        *KUSTOMIZE_CONTROLLER,
        "kustomize.toolkit.fluxcd.io_kustomizations",
        "da23ca0e6b4c80d3d26a91583137491e147ef4ef1e2208aece0d0af4ef851974",
    ),
    _crd(
        *HELM_CONTROLLER,
        "helm.toolkit.fluxcd.io_helmreleases",
        "aa8638ac68465ceac1f93a617baf5be833c589c51fd78a7384a4a274c252becc",
    ),
    _crd(
        *NOTIFICATION_CONTROLLER,
        "notification.toolkit.fluxcd.io_alerts",
        "2b8f79249b39881bd23c49868f114c44c6e632dfcda451da576adfa16c64226f",
    ),
    _crd(
        *NOTIFICATION_CONTROLLER,
        "notification.toolkit.fluxcd.io_providers",
        "1e971c7cb3c0970fe23186d5033edb06b3217ae41a6a4246c2064257c37ff82b",
    ),
    _crd(
        *NOTIFICATION_CONTROLLER,
        "notification.toolkit.fluxcd.io_receivers",
        "4c8be1ad7789b78f0727557d01e5f33eef9447a1f4aa9b830a3c1cc8a1508a9b",
    ),
    _crd(
        *IMAGE_REFLECTOR_CONTROLLER,
        "image.toolkit.fluxcd.io_imagepolicies",
        "c8a06754164ed9511de8d47053299569971b2abd12b045cdf98d34b83131e696",
    ),
    _crd(
        *IMAGE_REFLECTOR_CONTROLLER,
        "image.toolkit.fluxcd.io_imagerepositories",
        "4080d0452bc1ddfe3d2faf8b2266049b6d6dd2bfead8dde458abd873d639f93c",
    ),
    _crd(
        *IMAGE_AUTOMATION_CONTROLLER,
        "image.toolkit.fluxcd.io_imageupdateautomations",
        "77edcea569b61c81dc576f179fb05c9e5ecc11a63563a17119d9a3c829cce770",
    ),
    _crd(
        *FLUX_OPERATOR,
        "fluxcd.controlplane.io_fluxinstances",
        "78ffbb200f5c61e4556693a65fbd111628f8bcdfd7c11bfb528a4a1abe9cd883",
    ),
    _crd(
        *FLUX_OPERATOR,
        "fluxcd.controlplane.io_fluxreports",
        "6ccaf1ac3fe9082ee0cecb8ae539b0a6888b089adb3f0fcfb28e869c6907b8f4",
    ),
    _crd(
        *FLUX_OPERATOR,
        "fluxcd.controlplane.io_resourcesetinputproviders",
        "9cd970ee6af9b22338b588727028a69b18a8954aef4704922d7b82445430fd4b",
    ),
    _crd(
        *FLUX_OPERATOR,
        "fluxcd.controlplane.io_resourcesets",
        "96b45000a6c6dcb17b18d227c46270dcb4e2e66cea5a31de6c8ff3238b38d3a1",
    ),
    Pin(
        *CHARTS,
        "charts/flux-operator/values.schema.json",
        "charts/flux-operator/values.schema.json",
        "98d23ed6d29782069d584ba27e8cc88363e176e6319bd6a93891d977de981780",
    ),
    _flux_line(
        "2.7.5",
        "helm-controller",
        "dd481f3985266ab8458bf8809bbbdb2865d54dd736e1dda73cef7f0bd05733ce",
    ),
    _flux_line(
        "2.7.5",
        "image-automation-controller",
        "b21fea66bbbfa6e3222103d0fbb68737a5925e371789e0254f824d1fbdadd11a",
    ),
    _flux_line(
        "2.7.5",
        "image-reflector-controller",
        "5629b1e46fd6f6ecc2002ed31a0536500f35936c7f64344fbd289ec3f8079d3e",
    ),
    _flux_line(
        "2.7.5",
        "kustomize-controller",
        "fdcf2bfc40220122643bd762e59dbcc1a17375b1e89181a2a19900b9284321c2",
    ),
    _flux_line(
        "2.7.5",
        "notification-controller",
        "3a04e883b7f3dbb0f536f23572509d1f2b0dd77695092244a2ba12c72fe4f6e1",
    ),
    _flux_line(
        "2.7.5",
        "source-controller",
        "12f7ece3a701f753b40405ad7392171dd98e22883cd55e3026b68721829c670b",
    ),
    _flux_line(
        "2.7.5",
        "source-watcher",
        "b55444c50ffefa58a2a5d90702ef70e5a33c273e4cc6fc0e493ca83dd74df9b5",
    ),
    _flux_line(
        "2.8.8",
        "helm-controller",
        "8a82342d17d31caa012e889b0693b8bce36e6fb799df0b2538ef085c6d5d17bb",
    ),
    _flux_line(
        "2.8.8",
        "image-automation-controller",
        "233a96e21884fcd5b8352f0a02bd6e33746bcfcc1faf5a91d406bec9bc34bf09",
    ),
    _flux_line(
        "2.8.8",
        "image-reflector-controller",
        "b18385a812320f505ade43d291d5df399c21670fa6f07d7427d150c7a1fa3308",
    ),
    _flux_line(
        "2.8.8",
        "kustomize-controller",
        "00b002cbef631d8f41e072701696010c564383ffba3303814d41793ec13d4560",
    ),
    _flux_line(
        "2.8.8",
        "notification-controller",
        "2a6e1ebc4cdabb1099481b57f2b9dfd70021f70480d761a0f9d5634eb58bbe9e",
    ),
    _flux_line(
        "2.8.8",
        "source-controller",
        "766fd22a095390e7a08eefa4adb57b72fbd5c651a30dcd4f7e5496760bf52914",
    ),
    _flux_line(
        "2.8.8",
        "source-watcher",
        "f5b1983d6d3493152cc3eaba4a39c9ff0f6aefe8bf1b64de74f5865d3dc83cee",
    ),
    _flux_line(
        "2.9.4",
        "helm-controller",
        "24a16e85d6aa0ac63dbbc760d6a4687335adb745f739cabf59201ef6de37d783",
    ),
    _flux_line(
        "2.9.4",
        "image-automation-controller",
        "55238ef83e3f08f5d9dc22de3e328d162b818cb8a177055de622e89419062253",
    ),
    _flux_line(
        "2.9.4",
        "image-reflector-controller",
        "70abc9bea28d407bf233b560a99411ef60c1606ee0802299f0ac079fa74846f0",
    ),
    _flux_line(
        "2.9.4",
        "kustomize-controller",
        "95923c60de8effd39b3ba72de77feedd013194b058bfbf88faf129868746bc90",
    ),
    _flux_line(
        "2.9.4",
        "notification-controller",
        "da0cb6ae90fc528b51499e3a73889fe770731409cf1dc73f6420479dc235b4f0",
    ),
    _flux_line(
        "2.9.4",
        "source-controller",
        "945a3454f79dd33c069c6dc4f99ab2872fe6b1c66dfeb1aed672141213da321d",
    ),
    _flux_line(
        "2.9.4",
        "source-watcher",
        "d44f992b10ccce7203f063bc62c7a50868ebec5e24d22a0f903df2cc8348da8f",
    ),
    Pin(
        *PULUMI,
        "sdk/go/common/workspace/project.json",
        "pulumi/project.json",
        "55b50752803a9b595675fa3119e710f91e907821deef1674e9e25e7b5ebc5daf",
    ),
)

Opener = Callable[[str], bytes]


class SchemasUnavailableError(FileNotFoundError):
    """The schemas are neither in `$FLEET_SCHEMAS_DIR` nor fetchable: checks cannot run."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flux_minor() -> int:
    """The Flux minor line the pinned CRDs describe (Flux 2.N ships source-controller v1.N)."""
    return int(RELEASES[SOURCE_CONTROLLER[0]].removeprefix("v").split(".")[1])


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        data: bytes = response.read()
    return data


def stale(root: Path) -> list[Pin]:
    """Pins whose file is missing from `root` or differs from the recorded hash."""
    return [
        p for p in PINS if not (root / p.target).is_file() or sha256(root / p.target) != p.sha256
    ]


def fetch(root: Path, download: Opener = _download) -> list[Pin]:
    """Fill `root` with every pinned file it lacks; returns the pins it fetched.

    Raises `SchemasUnavailableError` naming every file that could not be fetched or did not match
    its hash; a mismatching download is never written.
    """
    problems: list[str] = []
    fetched: list[Pin] = []
    missing = stale(root)
    for index, pin in enumerate(missing):
        try:
            data = download(pin.url)
        except urllib.error.HTTPError as error:
            problems.append(f"{pin.url}: HTTP {error.code}")
            continue
        except (urllib.error.URLError, OSError) as error:
            # No network: every other file would fail the same way, after its own timeout.
            problems.append(f"{pin.url}: {getattr(error, 'reason', error)}")
            problems.extend(f"{p.url}: not tried" for p in missing[index + 1 :])
            break
        digest = hashlib.sha256(data).hexdigest()
        if digest != pin.sha256:
            problems.append(f"{pin.url}: sha256 {digest}, expected {pin.sha256}")
            continue
        target = root / pin.target
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        fetched.append(pin)
    if problems:
        raise SchemasUnavailableError(
            f"cannot get the pinned upstream schemas into {root}:\n"
            + "\n".join(f"  - {p}" for p in problems)
            + f"\nConnect to the internet and run the command (or the tests) again, or set ${SCHEMAS_ENV} to a folder "
            "holding the same files (crds/*.yaml, flux/<X.Y.Z>/*.yaml, "
            "charts/flux-operator/values.schema.json, pulumi/project.json; docs/conformance.md "
            "lists their commits)."
        )
    return fetched


def schemas_dir(download: Opener = _download) -> Path:
    """`$FLEET_SCHEMAS_DIR` when set (a relative path from the current folder, made absolute so a
    command run from elsewhere reads the same files), otherwise the cache folder, fetched and
    verified on first use."""
    configured = os.environ.get(SCHEMAS_ENV)
    if configured:
        return Path(configured).expanduser().resolve()
    fetch(CACHE_DIR, download)
    return CACHE_DIR


def main(argv: list[str] | None = None) -> int:
    """`python -m fleet.tools.offline.schemas [dir]`: fetch and verify the pinned files into `dir`."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else CACHE_DIR
    try:
        fetched = fetch(root)
    except SchemasUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{root}: {len(PINS)} pinned files present ({len(fetched)} fetched), hashes verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
