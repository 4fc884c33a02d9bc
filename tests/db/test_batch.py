"""The statement builder hands out typed handles and builds SQL only from constants, checked names and placeholders."""

from __future__ import annotations

import asyncpg
import pytest

from haoban.db.batch import Batch, refused
from haoban.db.sql import COMMA, Sql, Template, UnsafeSql, identifier, join

_VALUES = Template("SELECT {a} AS a, {b} AS b")
_PICK = Template("SELECT {src.a} FROM {src}")
_SUM = Template("SELECT {src.a} + {src.b} AS total FROM {src}")


def test_a_handle_names_its_cte_and_its_columns() -> None:
    b = Batch()
    src = b.cte("src", b.sql(_VALUES, a=b.arg(1, "int"), b=b.arg(2, "int")), ("a", "b"))
    assert (src.name, src.columns) == ("src", ("a", "b"))
    assert src.has("a", "b")
    assert not src.has("c")
    assert b.sql(_PICK, src=src).text == "SELECT src.a FROM src"


def test_a_repeated_name_is_refused() -> None:
    b = Batch()
    b.cte("steps", Sql("SELECT 1 AS n"), ("n",))
    with pytest.raises(UnsafeSql, match="already"):
        b.cte("steps", Sql("SELECT 2 AS n"), ("n",))


@pytest.mark.parametrize("name", ["Steps", "steps; DROP TABLE applications", "1steps", "st-eps", "", "a b"])
def test_a_bad_identifier_is_refused(name: str) -> None:
    with pytest.raises(UnsafeSql):
        Batch().cte(name, Sql("SELECT 1"))
    with pytest.raises(UnsafeSql):
        identifier(name, (name,))


def test_an_identifier_outside_the_allowed_tuple_is_refused() -> None:
    allowed = ("applications", "payouts")
    assert identifier("payouts", allowed).name == "payouts"
    with pytest.raises(UnsafeSql):
        identifier("citizens", allowed)


def test_a_column_the_handle_does_not_have_is_refused() -> None:
    b = Batch()
    src = b.cte("src", Sql("SELECT 1 AS a"), ("a",))
    with pytest.raises(UnsafeSql, match="no column b"):
        b.sql(_SUM, src=src)


def test_a_column_slot_takes_only_a_handle() -> None:
    b = Batch()
    with pytest.raises(UnsafeSql):
        b.sql(_PICK, src=Sql("src"))


def test_slots_must_be_filled_exactly() -> None:
    b = Batch()
    with pytest.raises(UnsafeSql, match="unfilled"):
        b.sql(_VALUES, a=b.arg(1, "int"))
    with pytest.raises(UnsafeSql, match="no such"):
        b.sql(_VALUES, a=b.arg(1, "int"), b=b.arg(2, "int"), c=b.arg(3, "int"))


def test_a_plain_string_is_not_a_slot_value() -> None:
    with pytest.raises(UnsafeSql):
        _VALUES.render(a="1; DROP TABLE x", b=Sql("2"))  # type: ignore[arg-type]


def test_handles_and_placeholders_of_another_statement_are_refused() -> None:
    first, second = Batch(), Batch()
    src = first.cte("src", Sql("SELECT 1 AS a"), ("a",))
    second.cte("src", Sql("SELECT 1 AS a"), ("a",))
    with pytest.raises(UnsafeSql, match="not part of this statement"):
        second.sql(_PICK, src=src)
    with pytest.raises(UnsafeSql, match="another statement"):
        second.sql(_VALUES, a=first.arg(1, "int"), b=second.arg(2, "int"))


def test_a_cast_outside_the_closed_set_is_refused() -> None:
    with pytest.raises(UnsafeSql):
        Batch().arg(1, "int); DROP TABLE x; --")


def test_a_template_with_a_bad_slot_fails_when_it_is_made() -> None:
    with pytest.raises(UnsafeSql):
        Template("SELECT {Bad}")
    with pytest.raises(UnsafeSql):
        Template("SELECT {a!r}")
    assert Template("SELECT '{{amount}}'").render().text == "SELECT '{amount}'"


def test_placeholders_join_with_a_constant_separator() -> None:
    b = Batch()
    assert join(COMMA, [b.arg(1, "int"), b.arg("x", "text")]).text == "$1::int, $2::text"


async def test_the_statement_runs_with_its_handles(db: asyncpg.Connection) -> None:
    b = Batch()
    src = b.cte("src", b.sql(_VALUES, a=b.arg(2, "int"), b=b.arg(3, "int")), ("a", "b"))
    row = await b.fetchrow(db, b.sql(_SUM, src=src))
    assert row is not None
    assert row["total"] == 5


async def test_require_refuses_the_whole_statement(db: asyncpg.Connection) -> None:
    b = Batch()
    empty = b.cte("empty", Sql("SELECT 1 AS a WHERE false"), ("a",))
    guard = b.require("guard", empty, "nothing_there")
    assert guard.columns == ("go",)
    with pytest.raises(asyncpg.PostgresError) as caught:
        async with db.transaction():
            await b.fetchrow(db, b.sql(Template("SELECT go FROM {guard}"), guard=guard))
    assert refused(caught.value) == "nothing_there"
