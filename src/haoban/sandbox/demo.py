"""Demo data, loaded through the sandbox use cases.

`haoban serve --demo` runs `load_demo` at every start, so everything here is an
idempotent upsert. The source records go through `haoban.exchange.ingest.service`, the
same checks and writes as the sandbox routes and department ingestion.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from uuid import UUID

import asyncpg
import msgspec

from haoban.exchange.consent import service as exchange
from haoban.exchange.consent.schemas import ConsentCreate, Purpose
from haoban.exchange.ingest import service as ingest
from haoban.exchange.ingest.schemas import (
    BankCardIn,
    HouseholdIn,
    HousingFundIn,
    IdentityIn,
    MarriageIn,
    MemberIn,
    PropertyIn,
    SocialSecurityIn,
    SourceRecord,
)
from haoban.exchange.sources.items import SOURCES
from haoban.exchange.sources.records import SourceName
from haoban.identity.schemas import AppClientCreate
from haoban.kit.idnumber import make
from haoban.oauth.clients import create_client
from haoban.oauth.scopes import INGEST_SCOPES
from haoban.runtime import Runtime
from haoban.sandbox import service
from haoban.sandbox.identity import register_app_client
from haoban.sandbox.schemas import TestCitizenCreate
from haoban.sandbox.service import SANDBOX_ACTOR
from haoban.staff.service import create_staff, has_account


class DemoAccount(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    citizen_id: UUID
    id_number: str


ZHANG_SAN = make("410105", date(1990, 12, 9), "002")
LI_SI = make("410105", date(1960, 3, 15), "004")
WANG_WU = make("410105", date(1958, 7, 1), "011")  # 李四's husband: no account, no photo

DEMO_ACCOUNTS = (
    DemoAccount(
        label="张三 (Zhang San), renter",
        citizen_id=UUID("7d0b6a52-3c1e-4f0a-9b8e-000000000001"),
        id_number=ZHANG_SAN,
    ),
    DemoAccount(
        label="李四 (Li Si), retiree",
        citizen_id=UUID("7d0b6a52-3c1e-4f0a-9b8e-000000000002"),
        id_number=LI_SI,
    ),
)

_ZHANG_ADDRESS = "河南省郑州市金水区花园路 66 号"
_LI_ADDRESS = "河南省郑州市金水区经三路 12 号院 3 号楼 501"


def demo_photo(name: str) -> bytes:
    """A demo ID photo shipped in the package (see photos/README.md)."""
    return resources.files("haoban.sandbox").joinpath("photos", name).read_bytes()


def demo_records() -> list[tuple[SourceName, SourceRecord]]:
    """张三 rents in 郑州: a normal fund account, no property (rent withdrawal is paid).
    李四 is retired: a normal fund account (retirement pays the whole balance), a
    household with her husband, and a flat they own in 郑州 (rent is refused)."""
    return [
        (
            "identity",
            IdentityIn(
                id_number=ZHANG_SAN,
                name="张三",
                sex="F",
                birth_date=date(1990, 12, 9),
                address=_ZHANG_ADDRESS,
                photo=demo_photo("grace_hopper.jpg"),
            ),
        ),
        (
            "identity",
            IdentityIn(
                id_number=LI_SI,
                name="李四",
                sex="F",
                birth_date=date(1960, 3, 15),
                address=_LI_ADDRESS,
                photo=demo_photo("astronaut.jpg"),
            ),
        ),
        (
            "household",
            HouseholdIn(
                household_no="410105000101",
                city="郑州",
                address=_ZHANG_ADDRESS,
                members=[
                    MemberIn(id_number=ZHANG_SAN, name="张三", relation="户主", registered_since=date(2016, 9, 1))
                ],
            ),
        ),
        (
            "household",
            HouseholdIn(
                household_no="410105000202",
                city="郑州",
                address=_LI_ADDRESS,
                members=[
                    MemberIn(id_number=LI_SI, name="李四", relation="户主", registered_since=date(1985, 6, 1)),
                    MemberIn(id_number=WANG_WU, name="王五", relation="配偶", registered_since=date(1985, 6, 1)),
                ],
            ),
        ),
        (
            "housing_fund",
            HousingFundIn(
                id_number=ZHANG_SAN,
                account_no="ZZ2019000123",
                status="normal",
                balance_fen=3_865_000,
                monthly_deposit_fen=120_000,
                contribution_months=36,
                bank_card=BankCardIn(bank_name="中国建设银行", card_no="6217000000000000123"),
                employer="郑州某科技有限公司",
                city="郑州市",  # the fund centre's city: 410100
                withdrawals=[],
            ),
        ),
        (
            "housing_fund",
            HousingFundIn(
                id_number=LI_SI,
                account_no="ZZ1995004567",
                status="normal",
                balance_fen=12_580_000,
                monthly_deposit_fen=0,
                contribution_months=300,
                bank_card=BankCardIn(bank_name="中国工商银行", card_no="6222000000000004567"),
                employer=None,
                city="郑州市",
                withdrawals=[],
            ),
        ),
        (
            "estate",
            PropertyIn(
                certificate_no="豫(2008)郑州市不动产权第0001234号",
                owner_id_numbers=[LI_SI, WANG_WU],
                city="郑州市",  # as the real-estate registry writes it; its division code is 410105
                district="金水区",
                address=_LI_ADDRESS,
                area_m2=96.5,
                mortgaged=False,
                seized=False,
            ),
        ),
        ("marriage", MarriageIn(id_number=ZHANG_SAN, status="unmarried")),
        (
            "marriage",
            MarriageIn(
                id_number=LI_SI,
                status="married",
                spouse_id_number=WANG_WU,
                spouse_name="王五",
                registered_on=date(1984, 10, 1),
            ),
        ),
        ("social_security", SocialSecurityIn(id_number=ZHANG_SAN, city="郑州", contribution_months=36)),
        ("social_security", SocialSecurityIn(id_number=LI_SI, city="郑州", contribution_months=360)),
    ]


async def load_demo_sources(conn: asyncpg.Connection, runtime: Runtime) -> None:
    """Upsert the demo citizens' records in every source (idempotent)."""
    now = runtime.clock.now()
    for source, record in demo_records():
        await ingest.put(conn, source, record, by="sandbox", actor=SANDBOX_ACTOR, now=now)


DEMO_TERMS = "demo-2026-11"


async def _ensure_self_view_consent(conn: asyncpg.Connection, runtime: Runtime, citizen_id: UUID) -> None:
    """The demo citizens have agreed to see their own data, once."""
    consents = await exchange.list_consents(conn, runtime, citizen_id)
    if any(c.purpose.kind == "self_view" and c.status == "active" for c in consents):
        return
    await exchange.grant_consent(
        conn,
        runtime,
        citizen_id,
        ConsentCreate(purpose=Purpose(kind="self_view"), items=[f"{s}.*" for s in SOURCES], terms_version=DEMO_TERMS),
    )


DEMO_APP = AppClientCreate(client_id="haoban-app", name="好办 App (demo)", attestation="optional")


DEMO_MINIPROGRAM_REDIRECT = "https://miniprogram.example/callback"
DEMO_DEPARTMENT_SECRET = "demo-department-secret"  # noqa: S105 (pinned demo secret, sandbox mode only)


async def load_demo_oauth_clients(conn: asyncpg.Connection, runtime: Runtime) -> None:
    """A public mini-program and a confidential department system, pinned (docs/oauth.md)."""
    key, now = runtime.settings.security.token_hmac_key, runtime.clock.now()
    await create_client(
        conn,
        client_id="demo-miniprogram",
        client_type="public",
        display_name="好办小程序 (demo)",
        purpose="Show your housing fund balance and applications in the mini-program",
        redirect_uris=[DEMO_MINIPROGRAM_REDIRECT],
        scopes=["openid", "profile", "identity.verified", "hpf.read", "applications.read", "applications.write"],
        secret=None,
        hmac_key=key,
        now=now,
        actor=SANDBOX_ACTOR,
    )
    await create_client(
        conn,
        client_id="demo-department",
        client_type="confidential",
        display_name="住房公积金中心 (demo)",
        purpose="Department system: checks tokens and calls Haoban machine-to-machine",
        redirect_uris=[],
        scopes=["openid", "identity.verified", "hpf.read", "applications.read", *INGEST_SCOPES],
        secret=DEMO_DEPARTMENT_SECRET,
        hmac_key=key,
        now=now,
        actor=SANDBOX_ACTOR,
    )


DEMO_STAFF_USERNAME = "demo-reviewer"
DEMO_STAFF_PASSWORD = "haoban-demo-2026"  # noqa: S105 (pinned demo secret, sandbox mode only)


async def load_demo_staff(conn: asyncpg.Connection, runtime: Runtime) -> None:
    """A reviewer for the manual lane in both demo departments (README), created once."""
    if await has_account(conn, DEMO_STAFF_USERNAME):
        return
    await create_staff(
        conn,
        username=DEMO_STAFF_USERNAME,
        display_name="审核员 (demo)",
        password=DEMO_STAFF_PASSWORD,
        departments=["housing_security", "hpf"],
        roles=["reviewer"],
        citizen_id=None,
        id_number_hmac=None,
        actor=SANDBOX_ACTOR,
        now=runtime.clock.now(),
    )


async def load_demo(conn: asyncpg.Connection, runtime: Runtime) -> list[DemoAccount]:
    await register_app_client(conn, runtime, DEMO_APP)
    await load_demo_oauth_clients(conn, runtime)
    await load_demo_staff(conn, runtime)
    for account in DEMO_ACCOUNTS:
        await service.create_test_citizen(
            conn, runtime, TestCitizenCreate(citizen_id=account.citizen_id, id_number=account.id_number)
        )
        await _ensure_self_view_consent(conn, runtime, account.citizen_id)
    await load_demo_sources(conn, runtime)
    return list(DEMO_ACCOUNTS)
