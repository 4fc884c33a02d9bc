"""Issue 12: places are GB/T 2260 division codes, and the household counts (the spouse's flat).

Records written the way the real-estate registry writes them: `city: 郑州市`, a district, or only a
full address. The old rule compared the text `郑州` with the record's `city` and paid a property owner.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.applications import money
from tests.applications.people import apply, person, put
from tests.sandbox import bodies

Client = AsyncTestClient[Litestar]


def _flat(seq: int, owner: str, **place: Any) -> dict[str, Any]:
    body = bodies.estate(f"豫(2021)郑州市不动产权第{seq:07d}号", owner)
    del body["city"]
    body.update(place)
    return body


@pytest.mark.parametrize(
    "case",
    [
        (611, {"city": "郑州市", "address": "金水路 1 号"}),
        (612, {"city": "郑州市", "district": "金水区", "address": "花园路 8 号 3 单元 501"}),
        (613, {"address": "河南省郑州市金水区经三路 12 号院 3 号楼 501"}),
        (614, {"city": "中牟县", "address": "青年路 9 号"}),
        (615, {"division_code": "410105", "address": "经三路 12 号"}),
    ],
)
async def test_a_flat_in_zhengzhou_in_any_spelling_refuses_the_rent_withdrawal(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock, case: tuple[int, dict[str, Any]]
) -> None:
    seq, place = case
    owner = await person(client, db, settings, clock, seq=seq)
    await put(client, "/sandbox/estate/properties", _flat(seq, owner.id_number, **place))
    response = await apply(client, owner, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "rejected", body
    assert "owns_property_in_city" in body["decision"]["reasons"]
    assert body.get("payout") is None
    assert await money.unbalanced_groups(db) == 0
    stored = await db.fetchval(
        "SELECT division_code FROM shared.estate_properties WHERE certificate_no = $1",
        f"豫(2021)郑州市不动产权第{seq:07d}号",
    )
    assert stored is not None
    assert stored.startswith("4101")


async def test_a_flat_elsewhere_does_not_count(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    renter = await person(client, db, settings, clock, seq=616)
    await put(client, "/sandbox/estate/properties", _flat(616, renter.id_number, city="开封市", address="鼓楼街 1 号"))
    response = await apply(client, renter, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "paid"


async def test_the_spouses_flat_in_zhengzhou_refuses_the_rent_withdrawal(
    client: Client, db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    """The household rule: the marriage registry names the spouse, the estate registry their flat."""
    renter = await person(client, db, settings, clock, seq=617)
    spouse = bodies.person(618)
    await put(client, "/sandbox/marriages", bodies.marriage(renter.id_number, spouse))
    await put(client, "/sandbox/estate/properties", _flat(618, spouse, city="郑州市", address="农业路 3 号"))
    response = await apply(client, renter, "hpf.withdraw.rent")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "rejected", body
    assert body["decision"]["reasons"] == ["spouse_owns_property_in_city"]
    assert body.get("payout") is None


@pytest.mark.parametrize(
    ("place", "field"),
    [
        ({"city": "郑东新区", "address": "x 路 1 号"}, "city"),
        ({"address": "金水路 1 号院"}, "address"),
        ({"city": "朝阳区", "address": "1 号"}, "city"),
        ({"division_code": "999999", "address": "1 号"}, "division_code"),
    ],
)
async def test_a_place_that_names_no_division_is_refused_naming_the_field(
    client: Client, place: dict[str, Any], field: str
) -> None:
    body = _flat(619, bodies.person(619), **place)
    response = await client.post("/sandbox/estate/properties", json=body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    batch = await client.post("/sandbox/social-security", json=bodies.social(bodies.person(620), city="火星"))
    assert batch.status_code == 422
    assert bodies.fields(batch.json()) == ["city"]
    fund = await client.post("/sandbox/housing-fund/accounts", json=bodies.fund(bodies.person(621), city="火星"))
    assert fund.status_code == 422
    assert bodies.fields(fund.json()) == ["city"]


async def test_the_sandbox_fund_account_is_stored_with_its_city_code(client: Client, db: asyncpg.Connection) -> None:
    response = await client.post("/sandbox/housing-fund/accounts", json=bodies.fund(bodies.person(622), city="郑州"))
    assert response.status_code == 201, response.text
    sql = "SELECT city, division_code FROM shared.hpf_accounts WHERE id_number = $1"
    row = await db.fetchrow(sql, bodies.person(622))
    assert row is not None
    assert (row["city"], row["division_code"]) == ("郑州", "410100")
