"""The import rule between slices: a slice's repository modules are private to it.

A slice is a top-level package (or module) under `haoban`: applications, audit, citizens, staff, ...
Its public surface is `service.py` (with `schemas.py` and `ports.py`); `repository.py` and any
`*_repository.py` are its SQL, and no module of another slice imports them, at module level or
inside a function. The checker is tried on a synthetic package too, so a rule that silently
stopped seeing imports would fail here rather than pass.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import grimp
import pytest


def slice_of(module: str) -> str:
    """`haoban.staff.service.lane` -> `staff`; a top-level module such as `haoban.housekeeping` is its own slice."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def is_repository(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return name == "repository" or name.endswith("_repository")


def cross_slice_repository_imports(package: str) -> list[str]:
    """Every import of one slice's repository module by a module of another slice, as `importer:line -> imported`."""
    graph = grimp.build_graph(package, cache_dir=None)
    found = []
    for imported in sorted(m for m in graph.modules if is_repository(m)):
        for importer in sorted(graph.find_modules_that_directly_import(imported)):
            if slice_of(importer) == slice_of(imported):
                continue
            for detail in graph.get_import_details(importer=importer, imported=imported):
                found.append(f"{importer}:{detail['line_number']} -> {imported} ({detail['line_contents']})")
    return found


def test_no_slice_imports_another_slices_repository() -> None:
    violations = cross_slice_repository_imports("haoban")
    assert not violations, "go through the owning slice's service instead:\n" + "\n".join(violations)


_SYNTHETIC = {
    "__init__.py": "",
    "alpha/__init__.py": "",
    "alpha/repository.py": "def rows() -> list[int]:\n    return []\n",
    "alpha/lane_repository.py": "QUEUE = 1\n",
    "alpha/service.py": """
        from slicecheck.alpha import repository as repo
        from slicecheck.alpha.lane_repository import QUEUE
    """,
    "beta/__init__.py": "",
    "beta/service.py": """
        from slicecheck.alpha import service as alpha


        def late() -> object:
            from slicecheck.alpha import repository

            return repository
    """,
    "beta/routes.py": "from slicecheck.alpha.lane_repository import QUEUE\n",
    "chores.py": "import slicecheck.alpha.repository\n",
}


@pytest.fixture
def synthetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, text in _SYNTHETIC.items():
        path = tmp_path / "slicecheck" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    return "slicecheck"


def test_the_checker_finds_a_synthetic_violation(synthetic: str) -> None:
    found = cross_slice_repository_imports(synthetic)
    assert [f.split(" (")[0] for f in found] == [
        "slicecheck.beta.routes:1 -> slicecheck.alpha.lane_repository",
        "slicecheck.beta.service:5 -> slicecheck.alpha.repository",  # a function-level import counts too
        "slicecheck.chores:1 -> slicecheck.alpha.repository",
    ]
