"""Rule evaluation speed: decisions per second on one core, as a ratio to plain Python.

    uv run python bench/run_rules.py [--seconds 2] [--rounds 5] [--cpu 0]

The rent rule set (`hpf.withdraw.rent@2026.1`) decides a pool of varied fact
snapshots (balances, withdrawal histories, properties, sealed accounts, a
missing source). The baseline is a plain Python function that makes the same
checks and builds the same Decision, trace included; the run first checks that
both agree on every snapshot. The two alternate in rounds on one pinned core,
so background load hits both alike; the best round of each is reported.
Exits 1 when they disagree.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import msgspec

import harness
from haoban.rules.engine import CompiledRuleSet, evaluate
from haoban.rules.registry import compiled, load_files
from haoban.rules.schemas import Decision, Fact, TraceStep

RESULTS_DIR = Path(__file__).resolve().parent / "results"
VERSION = "hpf.withdraw.rent@2026.1"
TODAY = date(2026, 11, 28)
TARGET_PER_S = 50_000


def snapshots(n: int) -> list[dict[str, Fact]]:
    """Varied, mostly eligible citizens; every tenth case fails or misses something."""
    out: list[dict[str, Fact]] = []
    for i in range(n):
        history = [
            {"withdrawn_on": (TODAY - timedelta(days=200 + i % 400)).isoformat(), "kind": "rent", "amount_fen": 1}
        ]
        values: dict[str, Any] = {
            "housing_fund.status": "sealed" if i % 50 == 7 else "normal",
            "housing_fund.contribution_months": 2 + i % 60,
            "housing_fund.loan_outstanding_fen": 100 if i % 40 == 3 else 0,
            "housing_fund.withdrawals": history if i % 2 else [],
            "estate.properties": [{"city": "郑州" if i % 30 == 1 else "上海", "mortgaged": False}]
            if i % 10 == 1
            else [],
            "haoban.withdrawals": [],
            "ledger.balance_fen": 50_000 + (i * 7919) % 5_000_000,
        }
        facts = {name: Fact(value=v, source=name.partition(".")[0], trust_level="A") for name, v in values.items()}
        if i % 25 == 5:
            facts["estate.properties"] = Fact(value=None, source="estate", missing="unavailable: timeout")
        out.append(facts)
    return out


def baseline(rule_set: CompiledRuleSet) -> Callable[[dict[str, Fact]], Decision]:
    """The rent rules as plain Python: the same checks, the same Decision."""
    doc = rule_set.doc
    p = rule_set.params_on(TODAY)
    city, months, retained, cap = p["city"], p["min_contribution_months"], p["retained_min_fen"], p["annual_cap_fen"]
    cutoff = (TODAY - timedelta(days=int(p["withdrawal_interval_days"]))).isoformat()
    rules = {r.id: r for r in doc.rules}
    amount_doc = doc.amount
    if amount_doc is None:
        raise SystemExit(f"{doc.version} has no amount")

    def step(rule_id: str, inputs: dict[str, Any], passed: bool | None) -> TraceStep:
        r = rules[rule_id] if rule_id != "amount" else amount_doc
        return TraceStep(
            rule_id=rule_id,
            inputs=inputs,
            passed=passed,
            message_zh=r.message_zh,
            message_en=r.message_en,
            reason=None if passed else r.reason,
        )

    def decide(facts: dict[str, Fact]) -> Decision:
        v = {name: f.value for name, f in facts.items()}
        status, props, history = v["housing_fund.status"], v["estate.properties"], v["housing_fund.withdrawals"]
        checks: list[tuple[str, dict[str, Any], bool | None]] = [
            ("account_not_sealed", {"housing_fund.status": status}, status != "sealed"),
            ("account_not_closed", {"housing_fund.status": status}, status != "closed"),
            (
                "contribution_months",
                {
                    "housing_fund.contribution_months": v["housing_fund.contribution_months"],
                    "min_contribution_months": months,
                },
                v["housing_fund.contribution_months"] >= months,
            ),
            (
                "no_property_in_city",
                {"estate.properties": props, "city": city},
                None if props is None else all(x["city"] != city for x in props),
            ),
            (
                "no_fund_loan",
                {"housing_fund.loan_outstanding_fen": v["housing_fund.loan_outstanding_fen"]},
                v["housing_fund.loan_outstanding_fen"] == 0,
            ),
            (
                "once_per_period",
                {
                    "housing_fund.withdrawals": history,
                    "haoban.withdrawals": v["haoban.withdrawals"],
                    "withdrawal_interval_days": p["withdrawal_interval_days"],
                },
                all(w["kind"] != "rent" or w["withdrawn_on"] <= cutoff for w in history + v["haoban.withdrawals"]),
            ),
        ]
        trace = [step(rule_id, inputs, passed) for rule_id, inputs, passed in checks]
        failed = [rules[rule_id].reason for rule_id, _, passed in checks if passed is False]
        if failed:
            return Decision(
                outcome="reject", rule_set_version=doc.version, amount_fen=None, reasons=failed, trace=trace
            )
        if any(passed is None for _, _, passed in checks):
            return Decision(
                outcome="review",
                rule_set_version=doc.version,
                amount_fen=None,
                reasons=["missing:estate.properties"],
                trace=trace,
            )
        balance = v["ledger.balance_fen"]
        amount = min(balance - retained, cap)  # type: ignore[operator]
        inputs = {"ledger.balance_fen": balance, "annual_cap_fen": cap, "retained_min_fen": retained}
        inputs["amount_fen"] = amount
        if amount <= 0:
            trace.append(step("amount", inputs, False))
            return Decision(
                outcome="reject",
                rule_set_version=doc.version,
                amount_fen=None,
                reasons=[amount_doc.reason],
                trace=trace,
            )
        trace.append(step("amount", inputs, True))
        return Decision(outcome="approve", rule_set_version=doc.version, amount_fen=amount, reasons=[], trace=trace)

    return decide


def measure(decide: Callable[[dict[str, Fact]], Decision], pool: list[dict[str, Fact]], seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for facts in pool:
            decide(facts)
        done += len(pool)
    return done / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per round and contender")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--snapshots", type=int, default=2000)
    parser.add_argument("--cpu", type=int, default=0, help="pin to this core (Linux)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="where the JSON result goes")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})

    rule_set = {d.version: compiled(d) for d in load_files()}[VERSION]
    pool = snapshots(args.snapshots)
    plain = baseline(rule_set)

    def engine(facts: dict[str, Fact]) -> Decision:
        return evaluate(rule_set, facts, today=TODAY)

    outcomes: dict[str, int] = {}
    for facts in pool:
        ours, theirs = engine(facts), plain(facts)
        if msgspec.json.encode(ours) != msgspec.json.encode(theirs):
            print(f"engine and baseline disagree:\n{ours}\n{theirs}", file=sys.stderr)
            return 1
        outcomes[ours.outcome] = outcomes.get(ours.outcome, 0) + 1

    rates: dict[str, list[float]] = {"engine": [], "baseline": []}
    for _ in range(args.rounds):
        rates["engine"].append(measure(engine, pool, args.seconds))
        rates["baseline"].append(measure(plain, pool, args.seconds))
    best = {name: max(values) for name, values in rates.items()}
    ratio = best["engine"] / best["baseline"]
    machine = {
        "python": platform.python_version(),
        "cel": version("common-expression-language"),
        "cpu": platform.processor() or platform.machine(),
        "pinned_core": args.cpu,
        "load_average": os.getloadavg(),
    }
    print(f"rule evaluation, {VERSION}, {len(pool)} snapshots {outcomes}, best of {args.rounds} rounds\n")
    print("| contender | decisions/s | ratio to baseline |")
    print("|---|---:|---:|")
    print(f"| CEL engine (`evaluate`) | {best['engine']:,.0f} | {ratio:.2f} |")
    print(f"| plain Python, same checks and Decision | {best['baseline']:,.0f} | 1.00 |")
    verdict = "meets" if best["engine"] >= TARGET_PER_S else "misses"
    print(f"\nengine {verdict} the target of {TARGET_PER_S:,} decisions/s on one core")
    harness.write_results(
        args.out,
        "rules",
        {"machine": machine, "rule_set": VERSION, "outcomes": outcomes, "rounds": rates, "best": best, "ratio": ratio},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
