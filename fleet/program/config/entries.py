"""The formats of list entries that carry a structure of their own: kustomize patches and spokes.

Each entry is one config string (a JSON patch, or `name: key=value, ...`), checked here against
what kustomize and the hub's spoke plan accept, with the predicates `formats` holds.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Final
from urllib.parse import urlsplit

import yaml
from pydantic import AfterValidator, BeforeValidator

from fleet.program import conventions as c
from fleet.program import spoke_plan
from fleet.program.config.formats import dns_label_ok, iso_date, registry_host_ok

PATCH_TARGET_KEYS: Final = (
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
)


# Target fields kustomize matches as regular expressions, anchored, with Go's RE2 syntax
# (kubernetes-sigs/kustomize api/types/selector.go, NewSelectorRegex).
PATCH_REGEX_KEYS: Final = ("group", "version", "kind", "name", "namespace")


# Perl constructs Python's `re` accepts but RE2 refuses: lookaround, backreferences, atomic
# groups, conditionals.
_NOT_RE2: Final = re.compile(r"\(\?(?:[=!]|<[=!]|>|\(|P=)|\\[1-9]")


_PATCH_ALLOWED: Final = (
    "allowed: a string holding a YAML or JSON mapping with a string 'patch' and an optional "
    "'target' with keys " + ", ".join(PATCH_TARGET_KEYS)
)


def _patch_text(value: Any) -> Any:
    """A mapping written straight into the list is refused in words: the CLI wants strings."""
    if isinstance(value, dict):
        raise ValueError(
            "a bare mapping, but fluxPatches is a list of strings (Pulumi.yaml declares it so, "
            "and the Pulumi CLI refuses anything else): write the mapping as a block string "
            "after '- |'; " + _PATCH_ALLOWED
        )
    return value


def _patch_entry(value: str) -> str:
    allowed = _PATCH_ALLOWED
    try:
        entry = yaml.safe_load(value)
    except yaml.YAMLError:
        raise ValueError(allowed) from None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("patch"), str)
        or set(entry) - {"patch", "target"}
    ):
        raise ValueError(allowed)
    target = entry.get("target", {})
    if not isinstance(target, dict) or set(target) - set(PATCH_TARGET_KEYS):
        raise ValueError(allowed)
    if not all(isinstance(v, str) for v in target.values()):
        raise ValueError(allowed)
    # What Flux's kustomize would refuse inside the cluster, refused here first.
    for key in PATCH_REGEX_KEYS:
        if key in target and (reason := _regex_problem(target[key])):
            raise ValueError(
                f"target {key} {target[key]!r} is not a regular expression kustomize can use "
                f"({reason}); allowed: an RE2 expression, e.g. 'flux-.*' or a plain name"
            )
    if reason := _patch_body_problem(entry["patch"]):
        raise ValueError(
            f"its 'patch' text is not a patch kustomize can apply ({reason}); allowed: a "
            "strategic merge patch (a YAML mapping) or a JSON 6902 patch (a YAML list of "
            "operations)"
        )
    return value


def _regex_problem(pattern: str) -> str | None:
    """Why RE2 would not compile `pattern`, or None."""
    if _NOT_RE2.search(pattern):
        return "lookaround, backreferences and atomic groups are not RE2"
    try:
        re.compile(pattern)
    except re.error as error:
        return str(error)
    return None


def _patch_body_problem(text: str) -> str | None:
    """Why the inner patch is neither a strategic merge patch nor a JSON 6902 list, or None."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        return f"it does not parse as YAML{where}"
    if not documents:
        return "it is empty"
    if not all(isinstance(d, dict | list) for d in documents):
        return "it is a plain value, not a mapping or a list"
    return None


_SPOKE_FIELDS: Final = ("server", "environment", "rotated", "context", "kubeconfig", "chain")


_SPOKE_ALLOWED: Final = (
    "allowed: '<name>: server=https://<host>[:port], environment=staging|production, "
    "rotated=YYYY-MM-DD, context=<kube context> and/or kubeconfig=<path>[, chain=<steps joined by "
    "'>' in the order " + ">".join(spoke_plan.CHAIN) + ">]' with <name> a DNS-1123 label"
)


def split_spoke(entry: str) -> spoke_plan.Spoke:
    """'name: key=value, ...' -> the spoke; ValueError saying what is allowed."""
    name, sep, rest = entry.partition(":")
    name = name.strip()
    if not sep or not dns_label_ok(name):
        raise ValueError(_SPOKE_ALLOWED)
    fields: dict[str, str] = {}
    for part in (p.strip() for p in rest.split(",")):
        key, eq, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or key not in _SPOKE_FIELDS or key in fields or not value:
            raise ValueError(f"{key or part!r} in spoke {name}: {_SPOKE_ALLOWED}")
        fields[key] = value
    missing = [k for k in ("server", "environment", "rotated") if k not in fields]
    if missing or not ("context" in fields or "kubeconfig" in fields):
        raise ValueError(
            f"spoke {name} needs {', '.join(missing) or 'context or kubeconfig'}; {_SPOKE_ALLOWED}"
        )
    host = _https_host(fields["server"])
    if host is None:
        raise ValueError(f"spoke {name}: server must be https://<host>[:port]; {_SPOKE_ALLOWED}")
    if fields["environment"] not in tuple(c.Environment):
        raise ValueError(f"spoke {name}: environment allowed: staging or production")
    rotated = iso_date(fields["rotated"])
    steps = tuple(s.strip() for s in fields.get("chain", ">".join(spoke_plan.CHAIN)).split(">"))
    order = [str(step) for step in spoke_plan.CHAIN]
    if (
        any(s not in order for s in steps)
        or len(set(steps)) != len(steps)
        or [order.index(s) for s in steps] != sorted(order.index(s) for s in steps)
    ):
        raise ValueError(
            f"spoke {name}: chain allowed: steps from {'>'.join(order)}, each once, in that order"
        )
    return spoke_plan.Spoke(
        name=name,
        server=fields["server"].rstrip("/"),
        rotated=rotated,
        production=fields["environment"] == c.Environment.PRODUCTION,
        context=fields.get("context"),
        kubeconfig=fields.get("kubeconfig"),
        chain=tuple(spoke_plan.Step(s) for s in steps),
    )


def _https_host(url: str) -> str | None:
    """The host[:port] of an https:// URL with nothing after it, else None."""
    if not url.startswith("https://"):
        return None
    host = url.removeprefix("https://").rstrip("/")
    return host if registry_host_ok(host) else None


def api_server(url: str) -> tuple[str, int]:
    """The host and port a spoke's `server` names: its spellings of one API server (a host in
    capitals, a trailing `/`, the default port written out or not) compare equal."""
    parts = urlsplit(url)
    return ((parts.hostname or "").lower(), parts.port or 443)


def _spoke_entry(value: str) -> str:
    split_spoke(value)
    return value


PatchEntry = Annotated[str, BeforeValidator(_patch_text), AfterValidator(_patch_entry)]


# d1's patches as config entries, so the default is a value Pulumi.yaml can declare.
D1_PATCH_ENTRIES: Final[tuple[str, ...]] = tuple(json.dumps(patch) for patch in c.D1_PATCHES)


SpokeEntry = Annotated[str, AfterValidator(_spoke_entry)]
