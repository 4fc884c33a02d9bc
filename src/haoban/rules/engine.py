"""Evaluate a rule set over a facts snapshot (pure).

Rules are CEL expressions, compiled once per rule-set document. A fact named
`housing_fund.status` is the CEL variable `housing_fund_status`; parameters
are variables under their own names; `today` is the ISO date of the decision.
Variables without an underscore (other than `today`) are iteration variables
of macros such as `list.all(w, ...)`. For speed, each day's parameters and
date are compiled into the programs as constants (see `specialise`).
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import cel
import msgspec

from haoban.rules.schemas import Decision, Fact, OnMissing, Outcome, ParamValue, Rule, RuleSetDoc, TraceStep
from haoban.rules.specialise import CEL_ERRORS, Day, build_day, combine

AMOUNT_STEP = "amount"


class RuleSetInvalid(ValueError):
    """A rule-set document that cannot be compiled; the message names the rule."""


def var_name(fact: str) -> str:
    return fact.replace(".", "_")


def canonical_json(doc: RuleSetDoc) -> bytes:
    return msgspec.json.encode(doc, order="sorted")


def document_sha256(doc: RuleSetDoc) -> str:
    return hashlib.sha256(canonical_json(doc)).hexdigest()


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    """One rule, or the amount formula, ready to run."""

    id: str
    expr: str
    program: Any  # cel.Program
    facts: tuple[tuple[str, str], ...]  # (fact name, CEL variable)
    params: tuple[str, ...]
    reason: str
    message_zh: str
    message_en: str
    on_missing: OnMissing
    partial_ok: bool
    input_keys: tuple[tuple[str, str], ...]  # (trace key, variable): the facts by name, then the parameters


@dataclass(frozen=True)
class CompiledRuleSet:
    doc: RuleSetDoc
    sha256: str
    checks: tuple[CompiledCheck, ...]
    amount: CompiledCheck | None
    fact_vars: tuple[tuple[str, str], ...]  # every fact any check reads
    combined: Any  # cel.Program: every check (and the amount) as one list, for when no fact is missing
    _param_starts: dict[str, tuple[list[date], list[ParamValue]]] = field(repr=False)
    _days: dict[date, Day] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return self.doc.version

    @property
    def service_code(self) -> str:
        return self.doc.service_code

    def in_effect(self, on: date) -> bool:
        return self.doc.effective_from <= on and (self.doc.effective_to is None or on <= self.doc.effective_to)

    def params_on(self, on: date) -> dict[str, int | str]:
        """Each parameter's value in effect on `on` (the latest start not after it)."""
        values: dict[str, int | str] = {}
        for name, (starts, entries) in self._param_starts.items():
            i = bisect.bisect_right(starts, on) - 1
            if i < 0:
                raise RuleSetInvalid(f"{self.version}: parameter {name} has no value on {on.isoformat()}")
            values[name] = entries[i].value
        return values

    def day(self, on: date) -> Day:
        """The programs for decisions made on `on`, compiled with that day's constants (cached)."""
        hit = self._days.get(on)
        if hit is not None:
            return hit
        params = self.params_on(on)
        everything = (*self.checks, *([self.amount] if self.amount else []))
        general = Day(
            params=params,
            context_extra={**params, "today": on.isoformat()},
            programs=tuple(c.program for c in self.checks),
            amount=self.amount.program if self.amount else None,
            combined=self.combined,
        )
        day = build_day([c.expr for c in everything], self.amount is not None, params, on.isoformat(), general)
        if len(self._days) >= 16:
            self._days.clear()
        self._days[on] = day
        return day


def _compile_check(
    *,
    id: str,
    expr: str,
    facts: list[str],
    params: set[str],
    reason: str,
    message_zh: str,
    message_en: str,
    on_missing: OnMissing,
    partial_ok: bool,
) -> CompiledCheck:
    try:
        program = cel.compile(expr)
    except CEL_ERRORS as exc:
        raise RuleSetInvalid(f"rule {id}: {exc}") from None
    fact_vars = {var_name(f): f for f in facts}
    used = set(program.variables())
    if unused := sorted(f for v, f in fact_vars.items() if v not in used):
        raise RuleSetInvalid(f"rule {id}: declares facts it does not use: {', '.join(unused)}")
    if undeclared := sorted(v for v in used if "_" in v and v not in fact_vars and v not in params):
        raise RuleSetInvalid(f"rule {id}: uses undeclared facts or parameters: {', '.join(undeclared)}")
    fact_pairs = tuple((f, var_name(f)) for f in facts)
    used_params = tuple(sorted(used & params))
    return CompiledCheck(
        id=id,
        expr=expr,
        program=program,
        facts=fact_pairs,
        params=used_params,
        input_keys=(*fact_pairs, *((p, p) for p in used_params)),
        reason=reason,
        message_zh=message_zh,
        message_en=message_en,
        on_missing=on_missing,
        partial_ok=partial_ok,
    )


def _from_rule(rule: Rule, params: set[str]) -> CompiledCheck:
    return _compile_check(
        id=rule.id,
        expr=rule.expr,
        facts=rule.facts,
        params=params,
        reason=rule.reason,
        message_zh=rule.message_zh,
        message_en=rule.message_en,
        on_missing=rule.on_missing,
        partial_ok=rule.partial_ok,
    )


def compile_rule_set(doc: RuleSetDoc) -> CompiledRuleSet:
    """Compile every expression once; refuse a document with a mistake, by rule id."""
    params = set(doc.parameters)
    ids = [r.id for r in doc.rules]
    if len(set(ids)) != len(ids) or AMOUNT_STEP in ids:
        raise RuleSetInvalid(f"{doc.version}: rule ids must be unique and not {AMOUNT_STEP!r}")
    if doc.on_pass.outcome == "approve" and doc.amount is None:
        raise RuleSetInvalid(f"{doc.version}: an approving rule set needs an amount")
    checks = tuple(_from_rule(r, params) for r in doc.rules)
    amount = None
    if doc.amount is not None:
        a = doc.amount
        amount = _compile_check(
            id=AMOUNT_STEP,
            expr=a.expr,
            facts=a.facts,
            params=params,
            reason=a.reason,
            message_zh=a.message_zh,
            message_en=a.message_en,
            on_missing=a.on_missing,
            partial_ok=False,
        )
    fact_vars = {fv for c in (*checks, *([amount] if amount else [])) for fv in c.facts}
    if clash := sorted(v for _, v in fact_vars if v in params or v == "today"):
        raise RuleSetInvalid(f"{doc.version}: parameter names clash with facts: {', '.join(clash)}")
    starts: dict[str, tuple[list[date], list[ParamValue]]] = {}
    for name, entries in doc.parameters.items():
        ordered = sorted(entries, key=lambda e: e.effective_from)
        if not ordered or ordered[0].effective_from > doc.effective_from:
            raise RuleSetInvalid(f"{doc.version}: parameter {name} has no value on {doc.effective_from}")
        starts[name] = ([e.effective_from for e in ordered], ordered)
    everything = (*checks, *([amount] if amount else []))
    return CompiledRuleSet(
        doc=doc,
        combined=combine([c.expr for c in everything]),
        sha256=document_sha256(doc),
        checks=checks,
        amount=amount,
        fact_vars=tuple(sorted(fact_vars)),
        _param_starts=starts,
    )


def _inputs(check: CompiledCheck, env: Mapping[str, Any]) -> dict[str, Any]:
    return {key: env[var] for key, var in check.input_keys}


def _run(program: Any, context: Any) -> Any:
    try:
        return program.execute(context)
    except CEL_ERRORS:
        return None


def _step(check: CompiledCheck, inputs: dict[str, Any], passed: bool | None) -> TraceStep:
    return TraceStep(
        rule_id=check.id,
        inputs=inputs,
        passed=passed,
        message_zh=check.message_zh,
        message_en=check.message_en,
        reason=None if passed else check.reason,
    )


@dataclass(slots=True)
class _Run:
    """One evaluation in progress."""

    day: Day
    values: dict[str, Any]  # CEL variable -> fact value
    env: dict[str, Any]  # values and parameters, for the trace
    context: Any  # cel.Context
    results: list[Any] | None  # every check at once, when no fact is missing
    trace: list[TraceStep] = field(default_factory=list)

    def missing(self, check: CompiledCheck) -> list[str]:
        return [name for name, var in check.facts if self.values[var] is None]


def _check_rules(run: _Run, checks: tuple[CompiledCheck, ...]) -> tuple[list[str], list[str], set[OnMissing]]:
    failed: list[str] = []
    unknown: list[str] = []
    pending: set[OnMissing] = set()
    for i, check in enumerate(checks):
        inputs = _inputs(check, run.env)
        if run.results is not None:
            missing: list[str] = []
            result = run.results[i]
        else:
            missing = run.missing(check)
            result = _run(run.day.programs[i], run.context) if (not missing or check.partial_ok) else None
        if result is True:
            run.trace.append(_step(check, inputs, True))
        elif result is False and not missing:
            run.trace.append(_step(check, inputs, False))
            failed.append(check.reason)
        else:  # missing facts, or an expression that could not run on these values
            run.trace.append(_step(check, inputs, None))
            unknown.extend([f"missing:{n}" for n in missing] or [f"unevaluable:{check.id}"])
            pending.add(check.on_missing)
    return failed, unknown, pending


def _decision(run: _Run, rule_set: CompiledRuleSet, outcome: Outcome, reasons: list[str]) -> Decision:
    return Decision(
        outcome=outcome,
        rule_set_version=rule_set.version,
        amount_fen=None,
        reasons=list(dict.fromkeys(reasons)),
        trace=run.trace,
    )


def _amount(run: _Run, rule_set: CompiledRuleSet, check: CompiledCheck) -> int | Decision:
    """The amount, or the decision when it is unknown or not positive."""
    inputs = _inputs(check, run.env)
    missing = run.missing(check)
    if run.results is not None:
        result = run.results[-1]
    elif not missing:
        result = _run(run.day.amount, run.context)
    else:
        result = None
    if not isinstance(result, int) or isinstance(result, bool):
        run.trace.append(_step(check, inputs, None))
        reasons = [f"missing:{n}" for n in missing] or [f"unevaluable:{check.id}"]
        return _decision(run, rule_set, check.on_missing, reasons)
    inputs["amount_fen"] = result
    if result <= 0:
        run.trace.append(_step(check, inputs, False))
        return _decision(run, rule_set, "reject", [check.reason])
    run.trace.append(_step(check, inputs, True))
    return result


def evaluate(rule_set: CompiledRuleSet, facts: Mapping[str, Fact], *, today: date) -> Decision:
    """The decision for `facts` on `today`: deterministic for the same facts, day and document.

    A rule that fails on known facts rejects. A rule whose facts are missing
    gives its `on_missing` outcome (never a reject); `need_materials` wins over
    `review`, since the citizen can act on it. All rules passing gives the
    rule set's pass outcome with the amount.
    """
    day = rule_set.day(today)
    values: dict[str, Any] = {}
    for name, var in rule_set.fact_vars:
        fact = facts.get(name)
        values[var] = None if fact is None else fact.value
    context = cel.Context({**values, **day.context_extra} if day.context_extra else values)
    # One call for the whole rule set when every fact is known; any error
    # falls back to one call per check, which gives the same results.
    results = _run(day.combined, context) if None not in values.values() else None
    run = _Run(day=day, values=values, env={**values, **day.params}, context=context, results=results)
    failed, unknown, pending = _check_rules(run, rule_set.checks)
    if failed:
        return _decision(run, rule_set, "reject", failed)
    if pending:
        return _decision(run, rule_set, "need_materials" if "need_materials" in pending else "review", unknown)
    amount_fen: int | None = None
    if rule_set.amount is not None:
        amount = _amount(run, rule_set, rule_set.amount)
        if isinstance(amount, Decision):
            return amount
        amount_fen = amount
    on_pass = rule_set.doc.on_pass
    return Decision(
        outcome=on_pass.outcome,
        rule_set_version=rule_set.version,
        amount_fen=amount_fen,
        reasons=[],
        trace=run.trace,
        close_account=on_pass.close_account,
    )


def amount_only(rule_set: CompiledRuleSet, facts: Mapping[str, Fact], *, today: date) -> int | None:
    """The amount formula alone, for a reviewer's approval of a decision the rules left to a person.

    None when the rule set has no amount, a fact it needs is missing, or the result is not positive.
    """
    check = rule_set.amount
    if check is None:
        return None
    values: dict[str, Any] = {}
    for name, var in rule_set.fact_vars:
        fact = facts.get(name)
        values[var] = None if fact is None else fact.value
    if any(values[var] is None for _name, var in check.facts):
        return None
    day = rule_set.day(today)
    result = _run(day.amount, cel.Context({**values, **day.context_extra} if day.context_extra else values))
    return result if isinstance(result, int) and not isinstance(result, bool) and result > 0 else None
