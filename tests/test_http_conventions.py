"""Every error is RFC 9457 problem+json with a stable code and, for input, the field."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

PROBLEM = "application/problem+json"


def assert_problem(response: object, status: int, code: str) -> dict[str, Any]:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:haoban:problem:{code}"
    assert body["title"]
    return dict(body)


async def test_unknown_field_is_422_naming_the_field(client: AsyncTestClient[Litestar]) -> None:
    body = assert_problem(await client.post("/sandbox/citizens", json={"nickname": "x"}), 422, "validation_failed")
    assert [(e["field"], e["source"], e["reason_en"]) for e in body["errors"]] == [
        ("nickname", "body", "This field is not known; please remove it")
    ]
    assert body["errors"][0]["reason"] == body["errors"][0]["reason_zh"] == "多了一项无法识别的内容，请删掉它"


async def test_wrong_type_is_422_naming_the_field(client: AsyncTestClient[Litestar]) -> None:
    body = assert_problem(await client.post("/sandbox/citizens", json={"citizen_id": 5}), 422, "validation_failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["field"] == "citizen_id"
    assert "UUID" in errors[0]["reason_en"]


async def test_missing_field_is_422_naming_the_field(client: AsyncTestClient[Litestar]) -> None:
    body = assert_problem(await client.post("/v1/auth/refresh", json={}), 422, "validation_failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["field"] == "refresh_token"


async def test_malformed_json_is_400(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/sandbox/citizens", content=b'{"citizen_id": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400, "malformed_body")


async def test_unknown_path_is_404(client: AsyncTestClient[Litestar]) -> None:
    body = assert_problem(await client.get("/v1/no-such-thing"), 404, "not_found")
    assert body["instance"] == "/v1/no-such-thing"


async def test_wrong_method_is_405_with_allow(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/health/live")
    assert_problem(response, 405, "method_not_allowed")
    assert "GET" in response.headers["allow"]


async def test_oversized_body_is_413(client: AsyncTestClient[Litestar]) -> None:
    big = b'{"citizen_id": "' + b"a" * 2_000_000 + b'"}'
    response = await client.post("/sandbox/citizens", content=big, headers={"content-type": "application/json"})
    assert_problem(response, 413, "payload_too_large")


async def test_nothing_is_written_when_validation_fails(client: AsyncTestClient[Litestar], db: object) -> None:
    import asyncpg

    assert isinstance(db, asyncpg.Connection)
    before = await db.fetchval("SELECT count(*) FROM citizens")
    await client.post("/sandbox/citizens", json={"citizen_id": "not-a-uuid"})
    assert await db.fetchval("SELECT count(*) FROM citizens") == before


async def test_chinese_title_when_asked(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/none", headers={"accept-language": "zh-CN,zh;q=0.9"})
    assert response.json()["title"] == "资源不存在"


async def test_missing_header_names_the_header_as_source(client: AsyncTestClient[Litestar]) -> None:
    body = {"id_number": "11010519491231002X", "purpose": "login"}
    response = await client.post("/v1/auth/face/challenges", json=body)
    problem = assert_problem(response, 422, "validation_failed")
    assert [(e["field"], e["source"], e["reason_en"]) for e in problem["errors"]] == [
        ("X-Client-ID", "header", "A required parameter is missing; please add it")
    ]


async def test_bad_query_parameter_names_the_query_as_source(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/sandbox/messages", params={"recipient": "13812345678", "limit": "500"})
    body = assert_problem(response, 422, "validation_failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    assert [(e["field"], e["source"]) for e in errors] == [("limit", "query")]


async def test_body_booleans_and_integers_are_strict(client: AsyncTestClient[Litestar]) -> None:
    """`0` is not `false` and `"1"` is not `1` (msgspec strict decoding)."""
    response = await client.post("/sandbox/bank/faults", json={"latency_ms": "1"})
    body = assert_problem(response, 422, "validation_failed")
    assert [(e["field"], e["reason_en"]) for e in body["errors"]] == [
        ("latency_ms", "Wrong kind of value; enter a whole number here")
    ]


async def test_zero_is_not_false(client: AsyncTestClient[Litestar]) -> None:
    from tests.sandbox import bodies

    body = bodies.estate("豫(2020)郑州市0001", bodies.person(1), seized=0)
    problem = assert_problem(await client.post("/sandbox/estate/properties", json=body), 422, "validation_failed")
    assert [(e["field"], e["reason_en"]) for e in problem["errors"]] == [
        ("seized", "Wrong kind of value; enter yes or no (true/false) here")
    ]
