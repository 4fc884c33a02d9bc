"""Programs specialised for one day (pure): parameters and `today` as literals.

Parameters and the date are the same for every decision of a day, so they are
written into the expressions as constants instead of being converted into
the CEL context for each decision, which is most of a decision's cost. The
rewrite only touches whole identifiers outside string literals and not after
a `.` (field names stay), and the result is checked: when an expression does
not compile, or still reads a constant as a variable, the day uses the
general programs with the constants in the context, with the same results.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cel

CEL_ERRORS = (RuntimeError, TypeError, ValueError, LookupError)

# A string literal (kept as is) or a bare identifier that is not a field name.
_TOKEN = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?<![\w.])([A-Za-z_]\w*)(?!\w)""")


@dataclass(frozen=True, slots=True)
class Day:
    params: dict[str, int | str]
    context_extra: dict[str, Any]  # constants the programs still read as variables (the general case)
    programs: tuple[Any, ...]  # one cel.Program per rule
    amount: Any  # cel.Program | None
    combined: Any  # cel.Program: every rule and the amount as one list


def _literal(value: int | str) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(int(value))


def inline(expr: str, constants: dict[str, int | str]) -> str:
    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        return _literal(constants[name]) if name is not None and name in constants else match.group(0)

    return _TOKEN.sub(swap, expr)


def combine(exprs: Sequence[str]) -> Any:
    return cel.compile("[" + ", ".join(f"({e})" for e in exprs) + "]")


def build_day(exprs: Sequence[str], has_amount: bool, params: dict[str, int | str], today: str, general: Day) -> Day:
    """The specialised programs for a day, or `general` if any expression resists."""
    constants: dict[str, int | str] = {**params, "today": today}
    try:
        inlined = [inline(e, constants) for e in exprs]
        programs = [cel.compile(e) for e in inlined]
        combined = combine(inlined)
    except CEL_ERRORS:
        return general
    if any(set(p.variables()) & constants.keys() for p in (*programs, combined)):
        return general
    rules = tuple(programs[:-1]) if has_amount else tuple(programs)
    return Day(
        params=params,
        context_extra={},
        programs=rules,
        amount=programs[-1] if has_amount else None,
        combined=combined,
    )
