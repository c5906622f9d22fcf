"""The import graph of `fleet/`: no circle, and no arrow back up the flow of values.

Every `import` and `from ... import` of every module is read from its source (at module level,
inside functions and under `TYPE_CHECKING` alike), so a lazy import cannot hide an arrow.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.helpers import ROOT

FLEET = ROOT / "fleet"
# The configuration package, in the order values flow: a module imports only from lower rows.
CONFIG_LAYERS = (
    ("errors", "private_key", "expiry", "sources", "kube_access"),
    ("formats",),
    ("entries", "chart_source"),
    ("model",),
    ("keys",),
    ("rules.base",),
    (
        "rules.cluster",
        "rules.controllers",
        "rules.github",
        "rules.github_app",
        "rules.receivers",
        "rules.spokes",
        "rules.switches",
        "rules.sync",
        "rules.tenants",
        "rules.threat_model",
        "rules.tokens",
    ),
    ("rules",),
    ("parse",),
    ("fleet",),
    ("load",),
)
GITHUB_ACCESS_LAYERS = (("plan",), ("team",), ("app",))
# The program modules that receive `Settings` whole, for their type only: the top component and
# the providers it is given. Every other component receives values.
SETTINGS_READERS = frozenset(
    {"fleet.program.cluster", "fleet.program.cluster_args", "fleet.program.providers"}
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: frozenset[str]) -> Iterator[str]:
    """The `fleet` modules `path` imports (a `from package import module` names the module)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{path}: relative import; the graph reads absolute ones"
            base = node.module or ""
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if full in modules else base


@functools.cache
def graph() -> Mapping[str, frozenset[str]]:
    paths = sorted(FLEET.rglob("*.py"))
    modules = frozenset(_module_name(p) for p in paths)
    return {
        _module_name(p): frozenset(_imports(p, modules)) & modules - {_module_name(p)}
        for p in paths
    }


def find_circle(edges: Mapping[str, frozenset[str]]) -> list[str] | None:
    done: set[str] = set()
    for root in sorted(edges):
        stack = [(root, iter(sorted(edges[root])))]
        path = [root]
        while stack:
            node, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                path.pop()
                done.add(node)
            elif dep in path:
                return [*path[path.index(dep) :], dep]
            elif dep not in done:
                stack.append((dep, iter(sorted(edges.get(dep, ())))))
                path.append(dep)
    return None


def test_layers_the_graph_sees_every_module_and_lazy_imports() -> None:
    edges = graph()
    assert "fleet.program.config.load" in edges
    # cluster.py imports the GitHub components inside functions (only the owner stack loads them).
    assert "fleet.program.github_access.team" in edges["fleet.program.cluster"]
    assert "fleet.program.config.model" in edges["fleet.program.config.parse"]


def test_layers_find_circle_finds_a_planted_circle() -> None:
    planted = {**graph(), "fleet.program.config.formats": frozenset({"fleet.program.config.load"})}
    assert find_circle(planted) is not None


def test_layers_fleet_has_no_import_circle() -> None:
    assert find_circle(graph()) is None


def test_layers_the_program_never_imports_the_tools() -> None:
    arrows = [
        (module, dep)
        for module, deps in graph().items()
        if module.startswith("fleet.program")
        for dep in deps
        if dep.startswith("fleet.tools")
    ]
    assert arrows == []


@pytest.mark.parametrize(
    ("package", "layers"),
    [
        ("fleet.program.config", CONFIG_LAYERS),
        ("fleet.program.github_access", GITHUB_ACCESS_LAYERS),
    ],
)
def test_layers_each_package_imports_only_down_its_flow(
    package: str, layers: tuple[tuple[str, ...], ...]
) -> None:
    row = {f"{package}.{name}": index for index, names in enumerate(layers) for name in names}
    members = {m for m in graph() if m.startswith(f"{package}.")}
    assert members == set(row), "every module of the package has a row"
    back = [
        (module, dep)
        for module in members
        for dep in graph()[module]
        if dep in row and row[dep] >= row[module]
    ]
    assert back == []


def test_layers_configuration_never_imports_a_component_that_declares_resources() -> None:
    declaring = {
        module
        for module in graph()
        if module.startswith("fleet.program") and "pulumi.ComponentResource" in _source(module)
    }
    config = [m for m in graph() if m.startswith("fleet.program.config")]
    # model carries the platform's value type (PlatformComponent), declared beside the component.
    allowed = {("fleet.program.config.model", "fleet.program.platform")}
    arrows = [
        (m, dep)
        for m in config
        for dep in graph()[m]
        if dep in declaring and (m, dep) not in allowed
    ]
    assert arrows == []


def test_layers_components_receive_values_not_the_configuration() -> None:
    readers = {
        module
        for module, deps in graph().items()
        if module.startswith("fleet.program")
        and not module.startswith("fleet.program.config")
        and any(dep.startswith("fleet.program.config") for dep in deps)
    }
    assert readers == SETTINGS_READERS
    for module in readers:
        assert {d for d in graph()[module] if d.startswith("fleet.program.config")} == {
            "fleet.program.config.model"
        }, module


def _source(module: str) -> str:
    path = ROOT.joinpath(*module.split("."))
    return (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text()


def test_layers_the_engine_never_imports_the_tools() -> None:
    arrows = [
        (module, dep)
        for module, deps in graph().items()
        if module.startswith("fleet.engine")
        for dep in deps
        if not dep.startswith(("fleet.engine", "fleet.program.conventions"))
    ]
    assert arrows == []


def test_layers_only_the_engine_looks_for_the_pulumi_cli() -> None:
    finders = [
        module
        for module in graph()
        if not module.startswith("fleet.engine") and 'which("pulumi"' in _source(module)
    ]
    assert finders == []


# The rooms of `fleet/`, bottom floor first: a room imports only from rooms on lower floors, so
# the tools' folders by job never import each other's helpers sideways or upwards. `__main__`
# entry points belong to the command line.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("fleet", "fleet.program"),
    ("fleet.engine",),
    ("fleet.tools.offline",),
    ("fleet.tools.views", "fleet.tools.ephemeral"),
    ("fleet.tools.operations",),
    ("fleet.cli",),
)
MAX_LINES = 500


def room(module: str) -> str:
    if module.endswith(".__main__"):
        return "fleet.cli"
    parts = module.split(".")
    if parts[:2] == ["fleet", "tools"] and len(parts) > 2:
        return ".".join(parts[:3])
    if parts[:2] in (["fleet", "program"], ["fleet", "engine"], ["fleet", "cli"]):
        return ".".join(parts[:2])
    return "fleet"


def test_layers_every_room_has_a_floor_and_there_are_at_most_six() -> None:
    floor = {name: index for index, names in enumerate(FLOORS) for name in names}
    assert {room(m) for m in graph()} == set(floor)
    assert len(FLOORS) <= 6


def test_layers_rooms_import_only_from_lower_floors() -> None:
    floor = {name: index for index, names in enumerate(FLOORS) for name in names}
    arrows = sorted(
        {
            (module, dep)
            for module, deps in graph().items()
            for dep in deps
            if room(dep) != room(module) and floor[room(dep)] >= floor[room(module)]
        }
    )
    assert arrows == []


def test_layers_no_module_is_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in FLEET.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _option_declarations(option: str) -> list[str]:
    """Modules that declare `option` with `add_argument` (a parser option, not a CLI argument)."""
    found = []
    for module in graph():
        for node in ast.walk(ast.parse(_source(module))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"
                and any(isinstance(a, ast.Constant) and a.value == option for a in node.args)
            ):
                found.append(module)
    return found


@pytest.mark.parametrize("option", ["--project-dir", "--stack", "-s"])
def test_layers_shared_options_are_declared_once(option: str) -> None:
    assert set(_option_declarations(option)) == {"fleet.cli.options"}


@pytest.mark.parametrize(
    ("needle", "reader"),
    [
        ('"stack", "export"', "fleet.engine.state"),
        ('"stack",\n        "history"', None),
        ('"history", "--json"', "fleet.engine.history"),
        ('"changeSummary"', "fleet.engine.preview"),
    ],
)
def test_layers_each_engine_format_is_read_in_one_module(needle: str, reader: str | None) -> None:
    readers = {m for m in graph() if needle in _source(m)}
    assert readers == ({reader} if reader else set())
