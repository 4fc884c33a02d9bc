"""JSON log lines: request id on every line, personal data masked, no query strings."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.observability.logging import configure_logging

ID_NUMBER = "41010519900101123X"


@contextmanager
def json_logs() -> Iterator[io.StringIO]:
    """configure_logging into a buffer, then put pytest's handlers back (all in the test's own phase)."""
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved
        root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The app's log lines (the test client's own httpx lines left out)."""
    parsed = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [entry for entry in parsed if not entry["logger"].startswith("httpx")]


async def test_log_line_in_a_request_is_masked_and_has_the_request_id(
    client: AsyncTestClient[Litestar], test_routes: Litestar
) -> None:
    with json_logs() as stream:
        response = await client.get(f"/test/log/{ID_NUMBER}", headers={"X-Request-ID": "log-1"})
    assert response.status_code == 200
    assert ID_NUMBER not in stream.getvalue()
    [line] = [entry for entry in lines(stream) if entry["logger"] == "haoban.test"]
    assert line["msg"] == "citizen 410105********123X asked"
    assert line["extra"] == {"id_number": "410105********123X"}
    assert line["request_id"] == "log-1"
    assert line["level"] == "WARNING"
    assert datetime.fromisoformat(line["ts"]).utcoffset() is not None


async def test_one_access_line_per_request_with_template_and_no_query(client: AsyncTestClient[Litestar]) -> None:
    with json_logs() as stream:
        response = await client.get(
            f"/health/live?access_token=secret-in-query&id={ID_NUMBER}", headers={"X-Request-ID": "acc-1"}
        )
    assert response.status_code == 200
    assert "secret-in-query" not in json.dumps(lines(stream))
    [access] = [entry for entry in lines(stream) if entry["logger"] == "haoban.access"]
    assert access["request_id"] == "acc-1"
    extra = access["extra"]
    assert (extra["method"], extra["route"], extra["status"]) == ("GET", "/health/live", 200)
    assert isinstance(extra["duration_ms"], float)
    assert extra["duration_ms"] >= 0


async def test_access_line_for_unmatched_path_has_no_raw_path(client: AsyncTestClient[Litestar]) -> None:
    with json_logs() as stream:
        await client.get(f"/v1/citizens/{ID_NUMBER}")
    [access] = [entry for entry in lines(stream) if entry["logger"] == "haoban.access"]
    assert access["extra"]["route"] == "<unmatched>"
    assert access["extra"]["status"] == 404
    assert "/v1/citizens" not in json.dumps(lines(stream))


async def test_crash_is_logged_with_the_request_id(client: AsyncTestClient[Litestar], test_routes: Litestar) -> None:
    with json_logs() as stream:
        await client.get("/test/crash", headers={"X-Request-ID": "crash-1"})
    [error] = [entry for entry in lines(stream) if entry["level"] == "ERROR"]
    assert error["request_id"] == "crash-1"
    assert "RuntimeError: boom" in error["exc"]


def test_uvicorn_loggers_go_through_the_json_handler() -> None:
    with json_logs() as stream:
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        logging.getLogger("uvicorn.access").info("GET /?token=x HTTP/1.1 200")
    [line] = lines(stream)
    assert line["logger"] == "uvicorn.error"
    assert line["msg"] == "Started server process [42]"
    assert line["request_id"] is None


def test_extra_values_of_any_type_are_encoded_and_scrubbed() -> None:
    with json_logs() as stream:
        logging.getLogger("haoban.test").info(
            "nested", extra={"who": {"phone": "13812345678"}, "ids": ("x", ID_NUMBER), "n": 3, "obj": object()}
        )
    [line] = lines(stream)
    assert line["extra"]["who"] == {"phone": "138****5678"}
    assert line["extra"]["ids"] == ["x", "410105********123X"]
    assert line["extra"]["n"] == 3
    assert line["extra"]["obj"].startswith("<object object")
