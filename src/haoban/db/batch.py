"""One SQL statement built from CTEs that several repositories contribute.

A hot path that writes to several slices' tables (an application, its payout,
the ledger) would otherwise pay one round trip per write plus BEGIN and
COMMIT. Each repository adds its own CTEs to a `Batch` (its SQL stays in that
repository); the statement runs once and is atomic on its own. A condition
that must stop everything (a debit the balance can't cover) calls
`refuse(code)`, which raises SQLSTATE HB001 with the code as its message
(migration 0013), so no part of the statement is written.
"""

from __future__ import annotations

from typing import Any

import asyncpg

REFUSED = "HB001"


class Batch:
    def __init__(self) -> None:
        self._ctes: list[str] = []
        self.args: list[Any] = []

    def arg(self, value: Any, cast: str) -> str:
        """A placeholder for `value`, cast to the SQL type `cast`."""
        self.args.append(value)
        return f"${len(self.args)}::{cast}"

    def cte(self, name: str, sql: str) -> str:
        self._ctes.append(f"{name} AS ({sql})")
        return name

    def require(self, name: str, source: str, code: str) -> str:
        """CTE `name` with one row when `source` has a row; otherwise the whole statement is refused with `code`."""
        return self.cte(
            name,
            f"SELECT CASE WHEN EXISTS (SELECT 1 FROM {source}) THEN true"  # noqa: S608 (CTE names are code)
            f" ELSE refuse({self.arg(code, 'text')}) END AS go",
        )

    def statement(self, final: str) -> str:
        return "WITH " + ", ".join(self._ctes) + " " + final

    async def fetchrow(self, conn: asyncpg.Connection, final: str) -> asyncpg.Record | None:
        return await conn.fetchrow(self.statement(final), *self.args)


def refused(exc: BaseException) -> str | None:
    """The code a `refuse` call raised, or None for any other error."""
    if isinstance(exc, asyncpg.PostgresError) and getattr(exc, "sqlstate", None) == REFUSED:
        return str(getattr(exc, "message", "")) or "refused"
    return None
