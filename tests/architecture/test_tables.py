"""Table ownership: each table is written by one slice, and read by others only where listed here.

The SQL text is every string constant in src/haoban (repositories hold it all; see
test_shape.py). A table's owner is the slice whose SQL writes it (INSERT, UPDATE, DELETE).
The checks are plain functions, also fed made-up SQL that breaks them, so a regex that
stopped matching would be noticed.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import haoban

SRC = Path(haoban.__file__).parent

_WRITE = re.compile(
    r"\b(?:INSERT\s+INTO|(?<!DO\s)(?<!FOR\s)UPDATE|DELETE\s+FROM)\s+([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)", re.I
)
_READ = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)?)", re.I)
_NOT_TABLES = frozenset({"set", "only", "lateral", "unnest", "jsonb_to_recordset", "jsonb_array_elements"})

SHARED_WRITERS = {
    "shared.hpf_accounts": {"exchange", "simulators"},
    "shared.hpf_withdrawals": {"exchange", "simulators"},
}
"""The front-end `shared` schema holds what the registries publish: department pushes land there
through exchange's ingestion, and the fund-centre simulator books there as the real centre would.
It is the registries' data, not a slice's."""

CROSS_READS = {
    ("tokens", "citizens"): "every authenticated request checks the account is active in the same query",
    ("oauth", "consents"): "an approval's consents, joined to see which are still live",
}
"""(reader slice, table) for each read of another slice's table, with why one query is worth it."""


def slice_of(path: Path, root: Path = SRC) -> str:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else path.stem


def sql_texts(root: Path = SRC) -> Iterable[tuple[str, str]]:
    """(slice, string constant) for every string constant in the package."""
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield slice_of(path, root), node.value


def tables(pattern: re.Pattern[str], texts: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Table -> the slices whose SQL names it in `pattern`'s position."""
    found: dict[str, set[str]] = defaultdict(set)
    for slice_name, text in texts:
        for table in pattern.findall(text):
            if table.lower() not in _NOT_TABLES:
                found[table].add(slice_name)
    return found


def shared_writes(writes: Mapping[str, set[str]], allowed: Mapping[str, set[str]]) -> list[str]:
    return [
        f"{table}: written by {', '.join(sorted(slices))}"
        for table, slices in sorted(writes.items())
        if len(slices) > 1 and allowed.get(table) != slices
    ]


def foreign_reads(
    writes: Mapping[str, set[str]], reads: Mapping[str, set[str]], allowed: Mapping[tuple[str, str], str]
) -> list[str]:
    out = []
    for table, readers in sorted(reads.items()):
        owners = writes.get(table)
        if not owners or table.startswith("shared."):
            continue
        for reader in sorted(readers - owners):
            if (reader, table) not in allowed:
                out.append(f"{reader} reads {table} (owned by {', '.join(sorted(owners))})")
    return out


def test_no_slice_writes_another_slices_tables() -> None:
    writes = tables(_WRITE, sql_texts())
    assert len(writes) > 20, "the write pattern found almost no tables"
    problems = shared_writes(writes, SHARED_WRITERS)
    assert not problems, "write through the owning slice's service:\n" + "\n".join(problems)


def test_reads_of_another_slices_tables_are_the_listed_ones() -> None:
    texts = list(sql_texts())
    problems = foreign_reads(tables(_WRITE, texts), tables(_READ, texts), CROSS_READS)
    assert not problems, "read through the owning slice's service, or list the read with why:\n" + "\n".join(problems)


def test_the_checks_catch_made_up_sql() -> None:
    texts = [
        ("alpha", "INSERT INTO things (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET n = 1"),
        ("alpha", "SELECT id FROM things FOR UPDATE"),
        ("beta", "UPDATE things SET n = 2 WHERE id = $1"),
        ("beta", "SELECT t.id FROM others o JOIN things t ON t.id = o.id"),
        ("beta", "DELETE FROM others"),
    ]
    writes = tables(_WRITE, texts)
    assert writes == {"things": {"alpha", "beta"}, "others": {"beta"}}
    assert shared_writes(writes, {}) == ["things: written by alpha, beta"]
    assert shared_writes(writes, {"things": {"alpha", "beta"}}) == []
    reads = tables(_READ, texts)
    assert foreign_reads({"things": {"alpha"}, "others": {"beta"}}, reads, {}) == ["beta reads things (owned by alpha)"]
    assert foreign_reads({"things": {"alpha"}, "others": {"beta"}}, reads, {("beta", "things"): "why"}) == []
