"""X-Request-ID: echoed when sane, generated otherwise, on every response and in problem bodies."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

HEX32 = re.compile(r"[0-9a-f]{32}")


async def test_sane_id_is_echoed(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": "edge-1.abc_DEF"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "edge-1.abc_DEF"


async def test_id_is_generated_when_missing(client: AsyncTestClient[Litestar]) -> None:
    first = (await client.get("/health/live")).headers["x-request-id"]
    second = (await client.get("/health/live")).headers["x-request-id"]
    assert HEX32.fullmatch(first)
    assert HEX32.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "sent",
    [
        "has spaces in it",
        "slash/inside",
        "x" * 129,
        "<script>",
        "13812345678",  # would be masked in logs, and the id is logged unmasked
        "410105199001011234",
    ],
)
async def test_insane_id_is_replaced(client: AsyncTestClient[Litestar], sent: str) -> None:
    response = await client.get("/health/live", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] != sent
    assert HEX32.fullmatch(response.headers["x-request-id"])


async def test_longest_allowed_id_is_kept(client: AsyncTestClient[Litestar]) -> None:
    sent = "a" * 128
    response = await client.get("/health/live", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent


async def test_404_problem_carries_the_id_in_body_and_header(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/no-such-thing", headers={"X-Request-ID": "trace-404"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "trace-404"
    assert response.json()["request_id"] == "trace-404"


async def test_generated_id_matches_the_problem_body(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/v1/no-such-thing")
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_405_has_an_id(client: AsyncTestClient[Litestar]) -> None:
    response = await client.delete("/health/live", headers={"X-Request-ID": "trace-405"})
    assert response.status_code == 405
    assert response.headers["x-request-id"] == "trace-405"
    assert response.json()["request_id"] == "trace-405"


async def test_500_has_the_id_in_body_and_header(client: AsyncTestClient[Litestar], test_routes: Litestar) -> None:
    response = await client.get("/test/crash", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-500"
    body = response.json()
    assert body["request_id"] == "trace-500"
    assert "boom" not in response.text


async def test_context_var_holds_the_id_while_handling(
    client: AsyncTestClient[Litestar], test_routes: Litestar
) -> None:
    response = await client.get("/test/log/hello", headers={"X-Request-ID": "ctx-1"})
    assert response.json() == {"request_id": "ctx-1"}
    generated = await client.get("/test/log/hello")
    assert generated.json() == {"request_id": generated.headers["x-request-id"]}
