"""Demo data, loaded through the sandbox use cases."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import msgspec

from haoban.runtime import Runtime
from haoban.sandbox import service
from haoban.sandbox.schemas import TestCitizenCreate


class DemoAccount(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    citizen_id: UUID


DEMO_ACCOUNTS = (
    DemoAccount(label="张三 (Zhang San), renter", citizen_id=UUID("7d0b6a52-3c1e-4f0a-9b8e-000000000001")),
    DemoAccount(label="李四 (Li Si), retiree", citizen_id=UUID("7d0b6a52-3c1e-4f0a-9b8e-000000000002")),
)


async def load_demo(conn: asyncpg.Connection, runtime: Runtime) -> list[DemoAccount]:
    for account in DEMO_ACCOUNTS:
        await service.create_test_citizen(conn, runtime, TestCitizenCreate(citizen_id=account.citizen_id))
    return list(DEMO_ACCOUNTS)
