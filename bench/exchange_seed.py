"""The bench citizen of `run_exchange.py`: full records in all six sources, bound and consented.

Everything goes through the server's sandbox routes, as a tester would do it, so
the records pass the same checks as department ingestion (GB 11643 check digits,
a real JPEG for the ID photo).
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import harness
from haoban.kit import idnumber

PHOTO = harness.ROOT / "src" / "haoban" / "sandbox" / "photos" / "grace_hopper.jpg"
CITIZEN_ID_NUMBER = idnumber.make("410105", date(1990, 1, 1), "001")  # odd sequence: male
SPOUSE_ID_NUMBER = idnumber.make("410105", date(1991, 2, 2), "002")  # even sequence: female
CHILD_ID_NUMBER = idnumber.make("410105", date(2018, 6, 1), "013")
ALL_ITEMS = ["identity.*", "household.*", "housing_fund.*", "estate.*", "marriage.*", "social_security.*"]


def _records() -> list[tuple[str, dict[str, Any]]]:
    """(sandbox route, body) for every source; two properties so the estate list is not trivial."""
    me, spouse, child = CITIZEN_ID_NUMBER, SPOUSE_ID_NUMBER, CHILD_ID_NUMBER
    address = "河南省郑州市金水区经三路 12 号院 3 号楼 501"
    identity = {
        "id_number": me,
        "name": "张伟",
        "sex": idnumber.sex(me),
        "birth_date": "1990-01-01",
        "address": address,
        "photo": base64.b64encode(PHOTO.read_bytes()).decode(),
        "status": "normal",
    }
    members = [
        (me, "张伟", "户主", "2015-03-01"),
        (spouse, "李娜", "配偶", "2016-05-01"),
        (child, "张乐", "子女", "2018-07-01"),
    ]
    household = {
        "household_no": "410105009001",
        "city": "郑州",
        "address": address,
        "members": [{"id_number": i, "name": n, "relation": r, "registered_since": s} for i, n, r, s in members],
    }
    fund = {
        "id_number": me,
        "account_no": "ZZBENCH0001",
        "status": "normal",
        "balance_fen": 3_865_000,
        "monthly_deposit_fen": 120_000,
        "contribution_months": 60,
        "bank_card": {"bank_name": "中国建设银行", "card_no": "6217000000000000123"},
        "employer": "郑州某科技有限公司",
        "loan_outstanding_fen": 0,
        "withdrawals": [
            {"withdrawn_on": "2024-03-10", "kind": "rent", "amount_fen": 1_200_000, "reference": "WD-B-0001"},
            {"withdrawn_on": "2025-03-10", "kind": "rent", "amount_fen": 1_200_000, "reference": "WD-B-0002"},
        ],
    }
    estate = [
        {
            "certificate_no": f"豫(20{year})郑州市不动产权第90000{n}号",
            "owner_id_numbers": owners,
            "city": "郑州",
            "address": f"河南省郑州市金水区经三路 12 号院 {n} 号楼 501",
            "area_m2": area,
            "mortgaged": n == 1,
            "seized": False,
        }
        for n, year, owners, area in ((1, 16, [me, spouse], 96.5), (2, 21, [me], 45.25))
    ]
    marriage = {
        "id_number": me,
        "status": "married",
        "spouse_id_number": spouse,
        "spouse_name": "李娜",
        "registered_on": "2016-04-20",
    }
    spouse_marriage = {**marriage, "id_number": spouse, "spouse_id_number": me, "spouse_name": "张伟"}
    social = {"id_number": me, "city": "郑州", "contribution_months": 72}
    return [
        ("/sandbox/identities", identity),
        ("/sandbox/households", household),
        ("/sandbox/housing-fund/accounts", fund),
        *(("/sandbox/estate/properties", body) for body in estate),
        ("/sandbox/marriages", marriage),
        ("/sandbox/marriages", spouse_marriage),
        ("/sandbox/social-security", social),
    ]


def _ok(status: int, body: Any, what: str, *expected: int) -> Any:
    if status not in expected:
        raise RuntimeError(f"{what} answered {status}: {body}")
    return body


def seed(port: int) -> str:
    """Write the records, bind a new citizen to the ID number, grant self_view; returns the citizen id."""
    for path, body in _records():
        status, answer = harness.request(port, "POST", path, body)
        _ok(status, answer, f"POST {path}", 200, 201)
    status, citizen = harness.request(port, "POST", "/sandbox/citizens", {"id_number": CITIZEN_ID_NUMBER})
    citizen_id: str = _ok(status, citizen, "POST /sandbox/citizens", 200, 201)["citizen_id"]
    consent = {"purpose": {"kind": "self_view"}, "items": ALL_ITEMS, "terms_version": "1"}
    status, answer = harness.request(port, "POST", "/v1/me/consents", consent, headers=auth(port, citizen_id))
    _ok(status, answer, "POST /v1/me/consents", 201)
    return citizen_id


def token(port: int, citizen_id: str) -> str:
    status, pair = harness.request(port, "POST", f"/sandbox/citizens/{citizen_id}/tokens", {})
    access: str = _ok(status, pair, "POST /sandbox/citizens/{id}/tokens", 201)["access_token"]
    return access


def auth(port: int, citizen_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(port, citizen_id)}"}


def outcome(body: Any) -> dict[str, str]:
    """source -> `ok` / `no_record` / `unavailable:<reason>` from a linked-data response."""
    found: dict[str, str] = {}
    for source in body.get("sources", []):
        status = source["status"]
        if status == "unavailable":
            reasons = sorted({item.get("reason", "?") for item in source["items"].values()})
            status += ":" + ",".join(reasons)
        found[source["source"]] = status
    return found
