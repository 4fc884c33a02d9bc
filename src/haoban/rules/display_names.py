"""Which fact paths a rule set reads, and the display-name reads among them (pure).

Rules compare places by division code, never by a registry's display string
(`郑州` and `郑州市` are one city). A path is the declared fact
(`household.city`) or a field read inside it (`estate.properties[].city`,
through a macro's iteration variable). The `cel` package exposes only the
top-level variables of a program, so field reads are found with the same kind
of token scan `specialise` uses, outside string literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from haoban.rules.engine import AMOUNT_STEP, var_name
from haoban.rules.schemas import RuleSetDoc

# Registry display strings: free text that differs by spelling between registries, never a key.
DISPLAY_NAMES: frozenset[str] = frozenset(
    {
        "city",
        "district",
        "address",
        "name",
        "relation_label",
        "kind_label",
        "employer",
        "bank_name",
        "spouse_name",
    }
)

_STRING = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")
_INDEX = re.compile(r"""\[\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\]""")
_IDENT = r"[A-Za-z_]\w*"
_CHAIN = re.compile(rf"(?<![\w.])({_IDENT}(?:\s*\.\s*{_IDENT})*)|\)((?:\s*\.\s*{_IDENT})+)")
_MACRO = re.compile(
    rf"((?<![\w.]){_IDENT}(?:\s*\.\s*{_IDENT})*|\))\s*\.\s*(?:all|exists|exists_one|map|filter)\s*\(\s*({_IDENT})\s*,"
)


def _plain(expr: str) -> str:
    """`p["city"]` as `p.city`, then every other string literal emptied."""
    expr = _INDEX.sub(lambda m: "." + re.sub(r"\W", "_", m.group(1)[1:-1]), expr)
    return _STRING.sub('""', expr)


def _segments(chain: str) -> list[str]:
    return [s.strip() for s in chain.split(".") if s.strip()]


def expression_paths(expr: str, facts: Sequence[str]) -> list[str]:
    """Every path `expr` reads, given the facts its rule declares."""
    text = _plain(expr)
    by_var = {var_name(f): f for f in facts}
    bound: dict[str, str] = {}

    def resolve(parts: list[str]) -> str:
        root, rest = parts[0], parts[1:]
        base = by_var.get(root) or bound.get(root) or root
        return ".".join([base, *rest])

    for m in _MACRO.finditer(text):
        target = m.group(1)
        bound[m.group(2)] = ("(...)" if target == ")" else resolve(_segments(target))) + "[]"
    paths = list(facts)
    for m in _CHAIN.finditer(text):
        is_call = text[m.end() :].lstrip().startswith("(")
        if m.group(1) is not None:
            parts = _segments(m.group(1))
            if is_call:
                parts = parts[:-1]
            if len(parts) > 1:
                paths.append(resolve(parts))
        else:
            parts = _segments(m.group(2))
            if is_call:
                parts = parts[:-1]
            if parts:
                paths.append(".".join(["(...)", *parts]))
    return list(dict.fromkeys(paths))


def display_name_reads(doc: RuleSetDoc) -> list[str]:
    """`rule id: path` for every path of `doc` that ends in a display-name field."""
    checks: list[tuple[str, str, Sequence[str]]] = [(r.id, r.expr, r.facts) for r in doc.rules]
    if doc.amount is not None:
        checks.append((AMOUNT_STEP, doc.amount.expr, doc.amount.facts))
    return [
        f"{check_id}: {path}"
        for check_id, expr, facts in checks
        for path in expression_paths(expr, facts)
        if path.rsplit(".", 1)[-1].removesuffix("[]") in DISPLAY_NAMES
    ]


def _covers(doc: RuleSetDoc, on: date) -> bool:
    return doc.effective_from <= on and (doc.effective_to is None or on <= doc.effective_to)


def deciding(docs: Iterable[RuleSetDoc], *, since: date) -> list[RuleSetDoc]:
    """The documents that decide on some day from `since` on; the rest only replay old decisions.

    Mirrors `repository.rule_set_in_effect`: of the versions covering a day,
    the latest start wins, then the highest version.
    """
    all_docs = list(docs)
    live: list[RuleSetDoc] = []
    for doc in all_docs:
        rivals = [o for o in all_docs if o.service_code == doc.service_code and o is not doc]
        days = {max(doc.effective_from, since)}
        days |= {o.effective_from for o in rivals}
        days |= {o.effective_to + timedelta(days=1) for o in rivals if o.effective_to is not None}
        for day in sorted(d for d in days if d >= since and _covers(doc, d)):
            covering = [o for o in (doc, *rivals) if _covers(o, day)]
            if max(covering, key=lambda o: (o.effective_from, o.version)) is doc:
                live.append(doc)
                break
    return live
