"""Offline render: the manifests and other resources one stack declares, as files for review.

The real program runs for one stack's config under Pulumi's mock runtime (`fleet.tools.offline.mock`), so a
render needs no Pulumi CLI, no cluster and no credentials. It shows the desired state only; it is
not `pulumi preview` and says nothing about what a cluster or GitHub currently holds.

Secrets never reach the disk: every value the program marked secret (and every value of a Secret's
`data` and `stringData`) is written as `SECRET_PLACEHOLDER`, keys kept. Tokens the stack file does
not hold in plain text (they are stack secrets) are replaced by obviously fake, format-valid
placeholders so the program can run; the summary lists them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Final

from pulumi.runtime import rpc

from fleet.engine import types as t
from fleet.program import conventions as c
from fleet.program.config import keys, private_key, sources
from fleet.program.config.errors import problems_in
from fleet.tools.offline import cli_config, mock
from fleet.tools.offline.manifests import ObjectRef, dump

SECRET_PLACEHOLDER: Final = "<secret: set in Pulumi config>"
UNKNOWN_PLACEHOLDER: Final = "<unknown until pulumi up>"
MANIFESTS_DIR: Final = "kubernetes"
# A hub stack's objects on each spoke go under kubernetes/spokes/<spoke>/.
SPOKES_DIR: Final = "spokes"
SUMMARY_FILE: Final = "summary.yaml"
NOTE: Final = (
    "Desired state of this stack, rendered offline under Pulumi's mock runtime. "
    "Not a pulumi preview: nothing was compared with a cluster or GitHub."
)

# Placeholder tokens expire beyond the longest warning window (366 days) so they never warn.
PLACEHOLDER_TOKEN_DAYS: Final = 400
PLACEHOLDER_FACTOR: Final = 2**1024 + 1
_SECRET_DATA_FIELDS: Final = ("data", "stringData")


class RenderError(Exception):
    """The stack cannot be rendered (missing stack file, invalid config, unsafe output folder).

    `problems` lists each configuration problem on its own, for tools that merge them with theirs.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems) or (message,)


@dataclass(frozen=True)
class RenderedObject:
    """One Kubernetes object: `manifest` is safe to write; `plain` holds real values, memory only."""

    ref: ObjectRef
    resource: str  # Pulumi type and logical name
    protect: bool
    manifest: dict[str, Any]
    plain: dict[str, Any] = field(repr=False)
    secrets: frozenset[str] = field(repr=False, default=frozenset())
    # The cluster the object lands on: its provider's cluster identifier (a hub's spokes differ).
    cluster: str = ""
    # Under `kubernetes/`: "" for the stack's own cluster, `spokes/<name>/` for a spoke's.
    folder: str = ""

    @property
    def path(self) -> str:
        return f"{MANIFESTS_DIR}/{self.folder}{self.ref.filename}"


@dataclass(frozen=True)
class HelmRelease:
    """A Helm release the stack installs; `plain_values` holds real values, memory only."""

    resource: str
    protect: bool
    name: str
    chart: str
    version: str
    namespace: str
    values: dict[str, Any]
    plain_values: dict[str, Any] = field(repr=False)
    secrets: frozenset[str] = field(repr=False, default=frozenset())


@dataclass(frozen=True)
class Render:
    """Everything one stack declares, ready to write or compare."""

    stack: str
    objects: tuple[RenderedObject, ...]
    releases: tuple[HelmRelease, ...]
    summary: dict[str, Any]

    def files(self) -> dict[str, str]:
        """Relative path -> file content, in a stable order."""
        return dict(self._files)

    @cached_property
    def _files(self) -> dict[str, str]:
        # Serialised once: the leak check and the writer read the same text.
        files = {o.path: dump(o.manifest) for o in self.objects}
        files[SUMMARY_FILE] = dump(self.summary)
        return dict(sorted(files.items()))


def mask(value: Any, *, secret: bool = False) -> Any:
    """`value` with every secret leaf replaced by the placeholder (mapping keys are kept)."""
    inner, wrapped = mock.unwrap_secret(value)
    secret = secret or wrapped
    if isinstance(inner, Mapping):
        return {k: mask(v, secret=secret) for k, v in inner.items()}
    if isinstance(inner, list | tuple):
        return [mask(v, secret=secret) for v in inner]
    if secret:
        return SECRET_PLACEHOLDER
    return UNKNOWN_PLACEHOLDER if inner == rpc.UNKNOWN else inner


def plain(value: Any) -> Any:
    """`value` with every secret marker removed, for validation in memory."""
    inner, _ = mock.unwrap_secret(value)
    if isinstance(inner, Mapping):
        return {k: plain(v) for k, v in inner.items()}
    if isinstance(inner, list | tuple):
        return [plain(v) for v in inner]
    return inner


def secret_values(value: Any, *, secret: bool = False) -> frozenset[str]:
    """The secret strings inside `value`, so messages quoting values can hide them."""
    inner, wrapped = mock.unwrap_secret(value)
    secret = secret or wrapped
    if isinstance(inner, Mapping):
        inner = list(inner.values())
    if isinstance(inner, list | tuple):
        return frozenset().union(*(secret_values(v, secret=secret) for v in inner))
    # Short values ("git") would garble messages and reveal nothing.
    return (
        frozenset({inner}) if secret and isinstance(inner, str) and len(inner) >= 8 else frozenset()
    )


def _manifest(inputs: Mapping[str, Any]) -> dict[str, Any]:
    manifest: dict[str, Any] = mask(inputs)
    # A Secret's payload is sensitive whatever the program marked; the keys stay for review.
    if manifest.get("kind") == "Secret" and manifest.get("apiVersion") == "v1":
        for key in _SECRET_DATA_FIELDS:
            if isinstance(manifest.get(key), Mapping):
                manifest[key] = {k: SECRET_PLACEHOLDER for k in manifest[key]}
    return manifest


def _is_object(registration: mock.Registration) -> bool:
    return (
        registration.custom
        and registration.type.startswith("kubernetes:")
        and registration.type != t.HELM_RELEASE
        and "apiVersion" in registration.inputs
        and "kind" in registration.inputs
    )


def _summarised(registration: mock.Registration) -> bool:
    """Non-Kubernetes resources worth a reviewer's eye (providers hold only connection details)."""
    return (
        registration.custom
        and not registration.type.startswith(t.PROVIDER_PREFIX)
        and not _is_object(registration)
        and registration.type != t.HELM_RELEASE
    )


def from_recording(
    recording: mock.Recording, *, stack: str, placeholders: Iterable[str] = ()
) -> Render:
    """Turn what the program registered into manifests and a summary."""
    objects: list[RenderedObject] = []
    releases: list[HelmRelease] = []
    others: list[dict[str, Any]] = []
    clusters = _provider_clusters(recording)
    own = str(plain(recording.outputs.get("clusterName", "")))
    for r in recording.resources:
        resource = f"{r.type}::{r.name}"
        if _is_object(r):
            manifest = _manifest(r.inputs)
            ref = ObjectRef.of(manifest, fallback_name=f"{r.name}-autonamed")
            cluster = clusters.get(r.provider.rsplit("::", 1)[0], own)
            objects.append(
                RenderedObject(
                    ref,
                    resource,
                    r.protect,
                    manifest,
                    plain(r.inputs),
                    secret_values(r.inputs),
                    cluster=cluster,
                    folder="" if cluster == own else f"{SPOKES_DIR}/{cluster}/",
                )
            )
        elif r.type == t.HELM_RELEASE:
            releases.append(
                HelmRelease(
                    resource=resource,
                    protect=r.protect,
                    name=str(plain(r.inputs.get("name", r.name))),
                    chart=str(plain(r.inputs.get("chart", ""))),
                    version=str(plain(r.inputs.get("version", ""))),
                    namespace=str(plain(r.inputs.get("namespace", ""))),
                    values=mask(r.inputs.get("values") or {}),
                    plain_values=plain(r.inputs.get("values") or {}),
                    secrets=secret_values(r.inputs.get("values") or {}),
                )
            )
        elif _summarised(r):
            others.append(
                {"type": r.type, "name": r.name, "protect": r.protect, "inputs": mask(r.inputs)}
            )
    objects.sort(key=lambda o: (o.folder, o.ref))
    _check_unique(objects)
    releases.sort(key=lambda h: (h.namespace, h.name))
    summary = {
        "stack": stack,
        "project": c.PROJECT,
        "note": NOTE,
        "placeholderConfig": sorted(placeholders),
        "kubernetes": [
            {
                "object": o.ref.id,
                "apiVersion": o.ref.api_version,
                "file": o.path.removeprefix(f"{MANIFESTS_DIR}/"),
                "resource": o.resource,
                "protect": o.protect,
                "cluster": o.cluster,
            }
            for o in objects
        ],
        "helmReleases": [
            {
                "name": h.name,
                "resource": h.resource,
                "protect": h.protect,
                "namespace": h.namespace,
                "chart": h.chart,
                "version": h.version,
                "values": h.values,
            }
            for h in releases
        ],
        "github": sorted(
            (o for o in others if o["type"].startswith("github:")),
            key=lambda o: (o["type"], o["name"]),
        ),
        "otherResources": sorted(
            (o for o in others if not o["type"].startswith("github:")),
            key=lambda o: (o["type"], o["name"]),
        ),
        "outputs": {
            k: SECRET_PLACEHOLDER if k in recording.secret_outputs else mask(v)
            for k, v in recording.outputs.items()
        },
        "warnings": list(recording.warnings),
    }
    return Render(stack, tuple(objects), tuple(releases), summary)


def _provider_clusters(recording: mock.Recording) -> dict[str, str]:
    """Kubernetes provider URN -> the cluster it reaches (its `clusterIdentifier`)."""
    return {
        r.urn: str(plain(r.inputs["clusterIdentifier"]))
        for r in recording.resources
        if r.type == t.KUBERNETES_PROVIDER and r.inputs.get("clusterIdentifier")
    }


def _check_unique(objects: list[RenderedObject]) -> None:
    seen: dict[str, RenderedObject] = {}
    for o in objects:
        if (other := seen.get(o.path)) is not None:
            raise RenderError(
                f"{o.resource} and {other.resource} both render to {o.path} "
                f"({o.ref.id}, {other.ref.id})"
            )
        seen[o.path] = o


def _stack_file(project_dir: Path, stack: str) -> Path:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = mock.known_stacks(project_dir)
        raise RenderError(
            f"no stack file {path}; stacks in {project_dir}: {', '.join(known) or 'none'}"
        )
    return path


def offline_config(
    project_dir: Path,
    stack: str,
    overrides: Mapping[str, str] | None = None,
    today: date | None = None,
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The stack's plain config plus placeholders for the tokens it keeps secret.

    Returns the config and the keys that received a placeholder. A placeholder is supplied for every
    required token and every token the stack file sets as a secret, with an expiry date when the
    stack file has none, so the program runs exactly as with real tokens.
    """
    _stack_file(project_dir, stack)  # fails with the known stacks when it is missing
    config = {**mock.stack_config(project_dir, stack), **(overrides or {})}
    secure = mock.secure_keys(project_dir, stack)
    expiry = ((today or date.today()) + timedelta(days=PLACEHOLDER_TOKEN_DAYS)).isoformat()
    known = keys.config_keys()
    needed = sources.required_credentials(mock.project_values(config))
    placeheld: list[str] = []
    for key in sorted(keys.SECRET_KEYS):
        full = f"{c.PROJECT}:{key}"
        if full in config or not (key in needed or full in secure):
            continue
        config[full] = _placeholder(key)
        placeheld.append(full)
        expires = f"{full}Expires"
        if f"{key}Expires" in known and not config.get(expires):
            config[expires] = expiry
            placeheld.append(expires)
    return config, tuple(placeheld)


def secret_config(
    project_dir: Path,
    stack: str,
    overrides: Mapping[str, str] | None,
    placeheld: Iterable[str],
) -> tuple[str, ...]:
    """The secret keys the program sees as secret config, as the CLI would mark them: encrypted
    in the stack file, placeholders, and the caller's overrides (which no stack file holds). A
    secret key written in plain text in the stack file stays plain, so the program refuses it
    with the same message as `pulumi preview`."""
    given = {*mock.secure_keys(project_dir, stack), *placeheld, *(overrides or {})}
    return tuple(
        full for key in sorted(keys.SECRET_KEYS) if (full := f"{c.PROJECT}:{key}") in given
    )


def _placeholder(key: str) -> str:
    """A value in the format settings accept for `key`; plainly not a real credential."""
    if key in ("githubAppPrivateKey", "githubAppsPrivateKey"):
        # The shape of an RSA key (the program checks it) from two numbers that are no primes;
        # one per App, since the program refuses the two Apps one key.
        step = 4 if key == "githubAppsPrivateKey" else 0
        return private_key.shaped(PLACEHOLDER_FACTOR + step, PLACEHOLDER_FACTOR + step + 2)
    return f"github_pat_OFFLINE_RENDER_PLACEHOLDER_{key}"


def record_stack(
    project_dir: Path,
    stack: str,
    overrides: Mapping[str, str] | None = None,
    today: date | None = None,
) -> tuple[mock.Recording, dict[str, str], tuple[str, ...]]:
    """Run the project's `__main__.py` for `stack` offline, placeholders for its secrets.

    Returns what it declared, the config it ran with and the keys that got a placeholder.
    """
    config, placeheld = offline_config(project_dir, stack, overrides, today)
    # What `pulumi preview` would refuse before running the program, refused here too; a secret
    # in plain text is the program's own refusal (`plain_text_secrets`), reported as it words it.
    refused = cli_config.stack_problems(project_dir, stack, frozenset())
    secret_keys = secret_config(project_dir, stack, overrides, placeheld)
    try:
        recording = mock.run_main(
            project_dir, config=config, stack_name=stack, secret_keys=secret_keys
        )
    except mock.ProgramError as failed:
        problems = problems_in(str(failed.error))
        if not refused:
            raise RenderError(f"stack {stack}: {failed.error}", problems) from None
    else:
        problems = []
    if refused:
        # The program's problems too, so a type error the CLI refuses hides none of the others;
        # a problem naming a key the CLI refuses (that key's, or one that follows from its value)
        # is not reported again.
        named = set(re.findall(rf"'{c.PROJECT}:(\w+)'", "\n".join(refused)))
        others = [p for p in problems if not any(key in p for key in named)]
        also = "\nand the program refuses:\n" + "\n".join(f"  - {p}" for p in others)
        raise RenderError(
            f"stack {stack}: the Pulumi CLI would refuse it:\n"
            + "\n".join(f"  - {problem}" for problem in refused)
            + (also if others else ""),
            [*refused, *others],
        )
    return recording, config, placeheld


def render_stack(
    project_dir: Path,
    stack: str,
    overrides: Mapping[str, str] | None = None,
    today: date | None = None,
) -> Render:
    """Run the project's `__main__.py` for `stack` offline and render what it declares."""
    recording, config, placeheld = record_stack(project_dir, stack, overrides, today)
    render = from_recording(recording, stack=stack, placeholders=placeheld)
    secret_keys = [f"{c.PROJECT}:{k}" for k in sorted(keys.SECRET_KEYS)]
    refuse_leaks(render, [config[k] for k in secret_keys if config.get(k)])
    return render


def refuse_leaks(render: Render, secrets: list[str]) -> None:
    """Last line of defence: no secret config value may appear in any rendered file."""
    for path, text in render.files().items():
        if any(secret in text for secret in secrets):
            raise RenderError(f"refusing to render: a secret config value would appear in {path}")


def write(render: Render, out: Path) -> list[Path]:
    """Write `render` under `out`, replacing an earlier render there; returns the files written.

    Refuses a non-empty folder that does not hold a render, so a typo in `--out` cannot wipe files.
    """
    if out.exists() and any(out.iterdir()) and not (out / SUMMARY_FILE).is_file():
        raise RenderError(f"{out} is not empty and holds no earlier render; choose another --out")
    shutil.rmtree(out / MANIFESTS_DIR, ignore_errors=True)
    (out / SUMMARY_FILE).unlink(missing_ok=True)
    written: list[Path] = []
    for relative, text in render.files().items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written
