"""Every reason our code writes into a `FieldError` has a zh and an en sentence in the catalogue.

The checker reads the source, not a running app: it finds each literal reason
(`FieldError(reason="...")`, an f-string with its placeholders filled in, an
UPPER_CASE constant, an argument of a helper that passes its parameter on as the
reason, and what a `*problem` function returns) and asks `reasons.lookup`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import haoban
from haoban.kit.reasons import lookup

SRC = Path(haoban.__file__).parent
SAMPLE = "1"
"""What an f-string's placeholder stands for when its text is looked up."""


class Literal(NamedTuple):
    where: str
    line: int
    text: str


def _text(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(v.value) if isinstance(v, ast.Constant) else SAMPLE for v in node.values)
    return None


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _constants(trees: dict[str, ast.Module]) -> dict[str, list[str]]:
    """Module-level `UPPER = "text"` assignments, by name."""
    out: dict[str, list[str]] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.Assign) and (text := _text(node.value)) is not None:
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.isupper():
                        out.setdefault(target.id, []).append(text)
    return out


def _field_errors(tree: ast.AST) -> list[ast.Call]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and _name(n.func) == "FieldError"]


def _reason(call: ast.Call) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == "reason"), None)


def _helpers(trees: dict[str, ast.Module]) -> dict[str, tuple[int, str]]:
    """Functions that pass one of their parameters on as a FieldError's reason: name -> (index, parameter)."""
    out: dict[str, tuple[int, str]] = {}
    for tree in trees.values():
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            params = [a.arg for a in fn.args.args]
            for call in _field_errors(fn):
                reason = _reason(call)
                if isinstance(reason, ast.Name) and reason.id in params:
                    out[fn.name] = (params.index(reason.id), reason.id)
    return out


def _returned(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    """What a function returns, with a tuple's members taken one by one."""
    out: list[ast.expr] = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Return) and node.value is not None:
            out.extend(node.value.elts if isinstance(node.value, ast.Tuple) else [node.value])
    return out


def reason_literals(sources: dict[str, str]) -> list[Literal]:
    """Every literal reason in `sources` (file name -> Python source)."""
    trees = {where: ast.parse(text) for where, text in sources.items()}
    constants = _constants(trees)
    helpers = _helpers(trees)
    out: list[Literal] = []

    def add(where: str, node: ast.expr | None) -> None:
        if node is None:
            return
        if (text := _text(node)) is not None:
            out.append(Literal(where, node.lineno, text))
        for value in constants.get(_name(node), []) if _name(node).isupper() else []:
            out.append(Literal(where, node.lineno, value))

    for where, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("problem"):
                for value in _returned(node):
                    add(where, value)
            if not isinstance(node, ast.Call):
                continue
            if _name(node.func) == "FieldError":
                add(where, _reason(node))
            elif (helper := helpers.get(_name(node.func))) is not None:
                index, param = helper
                add(where, node.args[index] if index < len(node.args) else None)
                add(where, next((k.value for k in node.keywords if k.arg == param), None))
    return out


def unknown_reasons(sources: dict[str, str]) -> list[Literal]:
    """The literal reasons in `sources` the catalogue has no zh and en sentence for."""
    out = []
    for found in reason_literals(sources):
        pair = lookup(found.text)
        if pair is None or not all(pair):
            out.append(found)
    return out


def _our_sources() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text(encoding="utf-8") for p in sorted(SRC.rglob("*.py"))}


def test_every_literal_reason_in_the_source_has_both_sentences() -> None:
    missing = unknown_reasons(_our_sources())
    assert not missing, "\n".join(f"{m.where}:{m.line}: {m.text!r}" for m in missing)


def test_the_checker_reads_enough_of_the_source() -> None:
    texts = {found.text for found in reason_literals(_our_sources())}
    assert "is listed twice" in texts  # FieldError(reason="...")
    assert "unknown service 1" in texts  # an f-string
    assert "is not a GB/T 2260 division code" in texts  # a constant
    assert "The string contains a NUL character" in texts  # a helper's argument
    assert "check digit does not match" in texts  # what a *problem function returns


SNIPPET = """
from haoban.kit.errors import FieldError

SOMETHING_ODD = "is odd in a way nobody wrote down"


def _invalid(field, reason):
    return FieldError(field=field, reason=reason)


def photo_problem(photo):
    if not photo:
        return "has no pixels we recognise at all"
    return None


def check(value, n):
    yield FieldError(field="a", reason="is listed twice")
    yield FieldError(field="b", reason="zebra stripes are not allowed here")
    yield FieldError(field="c", reason=f"must be a multiple of {n} zebras")
    yield FieldError(field="d", reason=SOMETHING_ODD)
    yield _invalid("e", "wears a hat it should not")
    yield _invalid("f", reason="wears a second hat")
"""


def test_an_unknown_literal_reason_is_reported() -> None:
    missing = unknown_reasons({"snippet.py": SNIPPET})
    assert [m.text for m in missing] == [
        "has no pixels we recognise at all",
        "zebra stripes are not allowed here",
        "must be a multiple of 1 zebras",
        "is odd in a way nobody wrote down",
        "wears a hat it should not",
        "wears a second hat",
    ]
    assert {m.line for m in missing} >= {19, 20, 21}
