"""Import rules, in the spirit of Polar's architecture lint: each fails on a forbidden import.

1. No import cycle among haoban's modules, function-level and TYPE_CHECKING imports included (grimp).
2. Only the composition root builds the runtime or touches its private parts.
3. Only settings loading, at the entry points, reads the environment.

Each checker is a plain function over plain inputs, and each is also fed a
made-up graph or module that breaks its rule, so a checker that can no longer
fail is noticed.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

import haoban
from haoban.runtime import Runtime

SRC = Path(haoban.__file__).parent

ROOT_MODULES = frozenset(
    {
        "haoban.app",  # create_app: the HTTP app
        "haoban.asgi",  # the ASGI servers' entry: settings from the environment, then create_app
        "haoban.cli",  # the `haoban` command
        "haoban.serve",  # `haoban serve` (loads the demo data with a runtime of its own)
        "haoban.root",  # the runtime builder and the outbox handler table, shared by the app and the worker
        "haoban.outbox.main",  # `haoban worker` and `haoban payouts reconcile`
    }
)
"""The composition root: the only modules that build the runtime and see its private parts."""

RUNTIME_BUILDERS = {"haoban.root": None, "haoban.runtime": {"build_runtime"}}
"""Imports only the root may make: all of `haoban.root`, and `haoban.runtime`'s builder."""

RUNTIME_PRIVATE = frozenset(f.name for f in dataclasses.fields(Runtime) if f.name.startswith("_"))

ENV_READERS = {
    "haoban.cli": "the `haoban` command: hands os.environ to load_settings",
    "haoban.asgi": "the ASGI entry: hands os.environ to load_settings",
    "haoban.serve": "hands the configuration to uvicorn's worker processes through the environment",
    "haoban.staff.cli": "`haoban staff`: reads a secret from the variable the operator names",
    "haoban.identity.face.evaluate_cli": "the face evaluation command: hands os.environ to load_face_settings",
    "haoban.db.migrations": "HAOBAN_MIGRATIONS_DIR: where `haoban migrate` finds the packaged SQL files",
}
"""Entry points allowed to read the environment, and why; everything else is handed `Settings`."""


def source_modules() -> dict[str, str]:
    """Every module of src/haoban by dotted name, with its source."""
    out: dict[str, str] = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path.read_text(encoding="utf-8")
    return out


# --- 1. no import cycle ----------------------------------------------------------------------------------------


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One import cycle as a path that starts and ends on the same module, or None (a depth-first walk)."""
    edges = {module: sorted(set(imported)) for module, imported in graph.items()}
    done: set[str] = set()
    for start in sorted(edges):
        if start in done:
            continue
        path, on_path = [start], {start}
        stack = [iter(edges[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                on_path.discard(path[-1])
                done.add(path.pop())
            elif nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in done:
                path.append(nxt)
                on_path.add(nxt)
                stack.append(iter(edges.get(nxt, ())))
    return None


def with_package_inits(graph: Mapping[str, Iterable[str]], top: str = "haoban") -> dict[str, set[str]]:
    """`graph` plus the packages an import runs first: importing `a.b.c` runs `a.b`'s `__init__`.

    Only the imported module's ancestors outside the importer's own packages count (those are
    already running), and never the top package itself.
    """
    out: dict[str, set[str]] = {}
    for module, imported in graph.items():
        own = _ancestors(module) | {module}
        edges = set(imported)
        for target in imported:
            edges.update(a for a in _ancestors(target) if a not in own and a != top)
        out[module] = edges
    return out


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:n]) for n in range(1, len(parts))}


def haoban_graph() -> dict[str, set[str]]:
    graph = grimp.build_graph("haoban", include_external_packages=False)
    plain = {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}
    return with_package_inits(plain)


def test_there_is_no_import_cycle() -> None:
    cycle = find_cycle(haoban_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_check_finds_a_made_up_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c", "d"}, "c": {"a"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) is None
    assert find_cycle({"a": {"a"}}) == ["a", "a"]


def test_a_cycle_through_a_package_init_is_found() -> None:
    # x.m imports y.p.q, which runs y.p's __init__ first; that imports y.p.r, which imports x.m.
    graph = {"t.x.m": {"t.y.p.q"}, "t.y.p": {"t.y.p.r"}, "t.y.p.q": set(), "t.y.p.r": {"t.x.m"}}
    assert find_cycle(graph) is None
    assert find_cycle(with_package_inits(graph, top="t")) == ["t.x.m", "t.y.p", "t.y.p.r", "t.x.m"]
    # A package's own modules importing their siblings is no cycle: the package is already running.
    assert find_cycle(with_package_inits({"t.y.p": {"t.y.p.q"}, "t.y.p.q": {"t.y.p.r"}}, top="t")) is None


# --- 2. only the root builds the runtime -----------------------------------------------------------------------


def runtime_internals_used(modules: Mapping[str, str], roots: frozenset[str]) -> list[str]:
    """`module:line what` for every import of the runtime's builder and every use of its private parts outside
    the root (`self._x` inside a class is that class's own business)."""
    found: list[str] = []
    for module, source in sorted(modules.items()):
        if module in roots or module == "haoban.runtime":
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module in RUNTIME_BUILDERS:
                only = RUNTIME_BUILDERS[node.module]
                for alias in node.names:
                    if only is None or alias.name in only or alias.name.startswith("_"):
                        found.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "haoban.root":
                        found.append(f"{module}:{node.lineno} imports haoban.root")
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in RUNTIME_PRIVATE
                and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
            ):
                found.append(f"{module}:{node.lineno} uses the runtime's {node.attr}")
    return found


def test_only_the_root_builds_the_runtime_or_touches_its_private_parts() -> None:
    assert runtime_internals_used(source_modules(), ROOT_MODULES) == []


def test_the_root_check_finds_a_slice_that_builds_or_pokes_the_runtime() -> None:
    slice_module = (
        "from haoban.runtime import Runtime, build_runtime\n"
        "from haoban.root import outbox_handlers\n"
        "def wire(runtime: Runtime, pool: object) -> None:\n"
        "    runtime._pool = pool\n"
    )
    own_class = "class Bank:\n    def __init__(self, pool: object) -> None:\n        self._pool = pool\n"
    found = runtime_internals_used(
        {"haoban.payouts.service": slice_module, "haoban.payouts.sandbox_bank": own_class, "haoban.app": slice_module},
        frozenset({"haoban.app"}),
    )
    assert found == [
        "haoban.payouts.service:1 imports haoban.runtime.build_runtime",
        "haoban.payouts.service:2 imports haoban.root.outbox_handlers",
        "haoban.payouts.service:4 uses the runtime's _pool",
    ]


# --- 3. only settings loading reads the environment ------------------------------------------------------------


def environment_reads(modules: Mapping[str, str], allowed: Iterable[str]) -> list[str]:
    """`module:line` of every `os.environ`, `os.getenv`/`putenv`/`unsetenv` and `from os import environ` outside
    `allowed`."""
    found: list[str] = []
    names = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
    for module, source in sorted(modules.items()):
        if module in set(allowed):
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Attribute) and node.attr in names:
                if isinstance(node.value, ast.Name) and node.value.id == "os":
                    found.append(f"{module}:{node.lineno} os.{node.attr}")
            elif isinstance(node, ast.ImportFrom) and node.module == "os":
                found += [f"{module}:{node.lineno} from os import {a.name}" for a in node.names if a.name in names]
    return found


def test_only_settings_loading_reads_the_environment() -> None:
    assert environment_reads(source_modules(), ENV_READERS) == []


def test_every_allowed_reader_exists() -> None:
    assert set(ENV_READERS) | ROOT_MODULES <= set(source_modules())


@pytest.mark.parametrize(
    "source",
    [
        "import os\nURL = os.environ['DATABASE_URL']\n",
        "import os\ndef url() -> str | None:\n    return os.getenv('DATABASE_URL')\n",
        "from os import environ\n",
    ],
)
def test_the_environment_check_finds_a_made_up_read(source: str) -> None:
    modules = {"haoban.payouts.service": source, "haoban.cli": source}
    found = environment_reads(modules, {"haoban.cli"})
    assert len(found) == 1
    assert found[0].startswith("haoban.payouts.service:")
