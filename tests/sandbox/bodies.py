"""Valid bodies for the source-record routes (sandbox and ingestion); tests override fields."""

from __future__ import annotations

import base64
import io
from datetime import date
from typing import Any

import asyncpg
from PIL import Image

from haoban.db.sql import Template, identifier
from haoban.kit import idnumber


def person(seq: int, born: date = date(1990, 5, 17)) -> str:
    return idnumber.make("410105", born, f"{seq:03d}")


def wrong_check_digit(id_number: str) -> str:
    """The same number with a check digit that does not match."""
    last = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + last


def image(fmt: str = "PNG", size: tuple[int, int] = (16, 16), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, format=fmt)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def identity(id_number: str, **over: Any) -> dict[str, Any]:
    born = idnumber.birth_date(id_number)
    assert born is not None
    return {
        "id_number": id_number,
        "name": "张三",
        "sex": idnumber.sex(id_number),
        "birth_date": born.isoformat(),
        "address": "河南省郑州市金水区花园路 66 号",
        "photo": b64(image("JPEG")),
        **over,
    }


def fund(id_number: str, account_no: str = "ZZ0001", **over: Any) -> dict[str, Any]:
    return {
        "id_number": id_number,
        "account_no": account_no,
        "status": "normal",
        "balance_fen": 3_865_000,
        "monthly_deposit_fen": 120_000,
        "contribution_months": 36,
        "bank_card": {"bank_name": "中国建设银行", "card_no": "6217000000000000123"},
        **over,
    }


def household(household_no: str, *members: str, **over: Any) -> dict[str, Any]:
    return {
        "household_no": household_no,
        "city": "郑州",
        "address": "河南省郑州市金水区经三路 12 号",
        "members": [
            {
                "id_number": m,
                "name": f"成员{i}",
                "relation": "户主" if i == 0 else "子女",
                "registered_since": "2010-01-01",
            }
            for i, m in enumerate(members)
        ],
        **over,
    }


def estate(certificate_no: str, *owners: str, **over: Any) -> dict[str, Any]:
    return {
        "certificate_no": certificate_no,
        "owner_id_numbers": list(owners),
        "city": "郑州",
        "address": "河南省郑州市金水区经三路 12 号 501",
        "area_m2": 96.5,
        "mortgaged": False,
        "seized": False,
        **over,
    }


def marriage(id_number: str, spouse: str | None = None, **over: Any) -> dict[str, Any]:
    if spouse is None:
        return {"id_number": id_number, "status": "unmarried", **over}
    return {
        "id_number": id_number,
        "status": "married",
        "spouse_id_number": spouse,
        "spouse_name": "王五",
        "registered_on": "2015-10-01",
        **over,
    }


def social(id_number: str, **over: Any) -> dict[str, Any]:
    return {"id_number": id_number, "city": "郑州", "contribution_months": 36, **over}


# --- checks ----------------------------------------------------------------------

TABLES = (
    "identities",
    "households",
    "household_members",
    "hpf_accounts",
    "hpf_withdrawals",
    "estate_properties",
    "estate_owners",
    "marriages",
    "social_security",
)
_COUNT = Template("SELECT count(*) FROM shared.{table}")


async def counts(db: asyncpg.Connection) -> dict[str, int]:
    return {t: await db.fetchval(_COUNT.render(table=identifier(t, TABLES)).text) for t in TABLES}


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]
