"""Production modules never import the simulators: only the sandbox slice and the composition root do.

The simulators (`haoban.simulators`) stand in for the bank, the source registries, the fund
centre, the mini-program platforms and the phone. The sandbox slice (`haoban.sandbox`, the
testers' routes) drives them, and the composition root picks them, by settings and in
sandbox mode only, instead of the real adapters. Every other module is production code.
"""

from __future__ import annotations

import grimp
import pytest

SIMULATORS = "haoban.simulators"
SANDBOX = "haoban.sandbox"
# The composition root and the adapter choosers it calls: each picks a simulator only when
# `settings.sandbox` is on (haoban.outbox.main is the root of `haoban worker`).
COMPOSITION_ROOT = frozenset(
    {
        "haoban.app",
        "haoban.outbox.main",
        "haoban.payouts.wiring",
        "haoban.fundcentre.wiring",
        "haoban.miniprogram.wiring",
    }
)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def simulator_imports(graph: grimp.ImportGraph) -> list[str]:
    """Every import of a simulator by a production module, as `importer -> imported (line n)`."""
    found: list[str] = []
    for imported in sorted(module for module in graph.modules if _within(module, SIMULATORS)):
        for importer in sorted(graph.find_modules_that_directly_import(imported)):
            if _within(importer, SIMULATORS) or _within(importer, SANDBOX) or importer in COMPOSITION_ROOT:
                continue
            lines = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
            found.append(f"{importer} -> {imported} (line {', '.join(map(str, lines))})")
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    # No cache: a cache directory would land in the checkout.
    return grimp.build_graph("haoban", cache_dir=None)


def test_production_modules_do_not_import_the_simulators(graph: grimp.ImportGraph) -> None:
    assert simulator_imports(graph) == []


def test_the_rule_names_real_modules(graph: grimp.ImportGraph) -> None:
    """A renamed root or an emptied package would make the rule pass without checking anything."""
    assert graph.find_descendants(SIMULATORS), "the simulators package holds the simulators"
    assert graph.modules >= COMPOSITION_ROOT
    assert SANDBOX in graph.modules


def test_no_simulator_is_left_in_a_production_package(graph: grimp.ImportGraph) -> None:
    misplaced = [
        module
        for module in sorted(graph.modules)
        if ("simulator" in module.rsplit(".", 1)[-1] or "sandbox" in module.rsplit(".", 1)[-1])
        and not (_within(module, SIMULATORS) or _within(module, SANDBOX))
    ]
    assert misplaced == []


def test_the_check_fails_on_a_synthetic_violation() -> None:
    synthetic = grimp.ImportGraph()
    adapter = "haoban.simulators.bank.adapter"
    for module in ("haoban", "haoban.app", "haoban.ledger.service", "haoban.simulators.bank.routes", adapter):
        synthetic.add_module(module)
    synthetic.add_import(importer="haoban.app", imported=adapter, line_number=3, line_contents="")
    synthetic.add_import(importer="haoban.simulators.bank.routes", imported=adapter, line_number=4, line_contents="")
    assert simulator_imports(synthetic) == []

    synthetic.add_import(importer="haoban.ledger.service", imported=adapter, line_number=7, line_contents="")
    assert simulator_imports(synthetic) == [f"haoban.ledger.service -> {adapter} (line 7)"]
