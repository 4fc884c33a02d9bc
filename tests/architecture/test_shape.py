"""One shape per slice: routes are HTTP only, and every slice with routes has a service.

A slice package here is any package under `haoban` with a `routes` module (`haoban.staff`,
`haoban.exchange.consent`, ...). For each one:

1. its routes import no repository module (`repository` or `*_repository`, of this slice or
   another), at module level or inside a function: a route calls the service, and the
   service calls the repository (docs/architecture.md);
2. it has a `service` module or package, where its use cases live (a package when it is
   split by use case, as `identity/service/` is).

The packages under `haoban.simulators` are exempt from both: they are test doubles of
external systems (the bank, the fund centre), whose routes stand in for that system's own
HTTP API over its own tables; they have no use cases of ours to put in a service.

The checkers are plain functions over a grimp graph, and each is also run on a small
synthetic package that breaks both rules, so a checker that stopped seeing imports fails.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import grimp
import pytest

TEST_DOUBLES = "haoban.simulators"

NO_SERVICE = {
    "haoban.docs": "serves the offline Swagger UI and the OpenAPI file; no use case",
    "haoban.health": "liveness and readiness probes; no use case",
    "haoban.observability": "the /metrics scrape of the process's own counters; no use case",
    "haoban.exchange.sources": "the source adapters; its routes read through haoban.exchange.consent's service",
    "haoban.oauth": "not yet: its use cases are one module per endpoint (authorize, token, par, revoke, ...)",
}
"""Packages with routes but no `service`, and why; the test fails when an entry is stale."""


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def is_repository(module: str) -> bool:
    name = module.rsplit(".", 1)[-1]
    return name == "repository" or name.endswith("_repository")


def slice_packages(graph: grimp.ImportGraph, exempt: str) -> list[str]:
    """Every package that has a `routes` module, outside the `exempt` package."""
    found = {m.rpartition(".")[0] for m in graph.modules if m.rpartition(".")[2] == "routes"}
    return sorted(p for p in found if p and not _within(p, exempt))


def routes_repository_imports(graph: grimp.ImportGraph, exempt: str) -> list[str]:
    """Every import of a repository module by a slice's routes, as `importer:line -> imported`."""
    found: list[str] = []
    for package in slice_packages(graph, exempt):
        routes = f"{package}.routes"
        for imported in sorted(graph.find_modules_directly_imported_by(routes)):
            if not is_repository(imported):
                continue
            for detail in graph.get_import_details(importer=routes, imported=imported):
                found.append(f"{routes}:{detail['line_number']} -> {imported}")
    return sorted(found)


def packages_without_service(graph: grimp.ImportGraph, exempt: str) -> list[str]:
    """The slice packages with routes but neither a `service.py` nor a `service/` package."""
    return [p for p in slice_packages(graph, exempt) if f"{p}.service" not in graph.modules]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("haoban", cache_dir=None)


def test_routes_import_no_repository(graph: grimp.ImportGraph) -> None:
    violations = routes_repository_imports(graph, TEST_DOUBLES)
    assert not violations, "routes are HTTP only; go through the slice's service:\n" + "\n".join(violations)


def test_every_slice_with_routes_has_a_service(graph: grimp.ImportGraph) -> None:
    missing = [p for p in packages_without_service(graph, TEST_DOUBLES) if p not in NO_SERVICE]
    assert not missing, "put the slice's use cases in service.py (or a service/ package): " + ", ".join(missing)


def test_the_exemptions_are_not_stale(graph: grimp.ImportGraph) -> None:
    assert sorted(NO_SERVICE) == [p for p in packages_without_service(graph, TEST_DOUBLES) if p in NO_SERVICE]


def test_the_rules_see_the_slices_and_the_test_doubles(graph: grimp.ImportGraph) -> None:
    slices = slice_packages(graph, TEST_DOUBLES)
    assert {"haoban.applications", "haoban.identity", "haoban.staff", "haoban.exchange.consent"} <= set(slices)
    assert not any(_within(p, TEST_DOUBLES) for p in slices)
    assert slice_packages(graph, exempt="") != slices, "the simulators have routes, so the exemption matters"


_SYNTHETIC = {
    "__init__.py": "",
    "shop/__init__.py": "",
    "shop/repository.py": "ROWS: list[int] = []\n",
    "shop/orders_repository.py": "ORDERS: list[int] = []\n",
    "shop/repository_notes.py": "NOTE = 'not a repository: the name only starts like one'\n",
    "shop/service.py": "from shopcheck.shop import repository as repo\n",
    "shop/routes.py": """
        from shopcheck.shop import repository, repository_notes, service
    """,
    "till/__init__.py": "",
    "till/service/__init__.py": "from shopcheck.till.service.sales import SALES\n",
    "till/service/sales.py": "SALES = 1\n",
    "till/routes.py": """
        from shopcheck.till import service


        def late() -> object:
            from shopcheck.shop import orders_repository

            return orders_repository
    """,
    "desk/__init__.py": "",
    "desk/routes.py": "from shopcheck.shop import service\n",
    "nested/__init__.py": "",
    "nested/inner/__init__.py": "",
    "nested/inner/service.py": "",
    "nested/inner/routes.py": "from shopcheck.nested.inner import service\n",
    "doubles/__init__.py": "",
    "doubles/bank/__init__.py": "",
    "doubles/bank/repository.py": "",
    "doubles/bank/routes.py": "from shopcheck.doubles.bank import repository\n",
}


@pytest.fixture
def synthetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> grimp.ImportGraph:
    for name, text in _SYNTHETIC.items():
        path = tmp_path / "shopcheck" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    monkeypatch.syspath_prepend(str(tmp_path))
    return grimp.build_graph("shopcheck", cache_dir=None)


def test_the_checkers_find_synthetic_violations(synthetic: grimp.ImportGraph) -> None:
    exempt = "shopcheck.doubles"
    assert slice_packages(synthetic, exempt) == [
        "shopcheck.desk",
        "shopcheck.nested.inner",
        "shopcheck.shop",
        "shopcheck.till",
    ]
    assert routes_repository_imports(synthetic, exempt) == [
        "shopcheck.shop.routes:1 -> shopcheck.shop.repository",  # its own slice's repository counts too
        "shopcheck.till.routes:5 -> shopcheck.shop.orders_repository",  # so does a function-level import
    ]
    assert packages_without_service(synthetic, exempt) == ["shopcheck.desk"]  # a service/ package counts
    assert "shopcheck.doubles.bank" in slice_packages(synthetic, exempt="")  # exempt only by the prefix
