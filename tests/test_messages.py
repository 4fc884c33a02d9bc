"""Problem titles, details and field reasons come from the zh/en catalogue; no library text reaches a person."""

from __future__ import annotations

import importlib
import pkgutil
import re
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

import haoban
from haoban.kit.clock import FrozenClock
from haoban.kit.errors import AppError
from haoban.kit.messages import DETAILS, TITLES, language
from haoban.kit.reasons import GENERIC, translate
from haoban.settings import Settings
from tests.oauth import flows
from tests.sandbox import bodies

LIBRARY_TEXT = re.compile(r"`|Expected|regex|\^|\\d|Object (missing|contains)|\$\.")
HAN = re.compile(r"[\u4e00-\u9fff]")


def assert_plain(errors: list[dict[str, Any]]) -> None:
    assert errors
    for error in errors:
        for key in ("reason", "reason_zh", "reason_en"):
            assert not LIBRARY_TEXT.search(error[key]), error
        assert HAN.search(error["reason_zh"]), error
        assert not HAN.search(error["reason_en"]), error


@pytest.mark.parametrize(
    ("header", "picked"),
    [
        (None, "zh"),
        ("", "zh"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9", "en"),
        ("en", "en"),
        ("en;q=0.5, zh;q=0.9", "zh"),
        ("zh;q=0, en", "en"),
        ("fr-FR, de", "zh"),
        ("*", "zh"),
        ("en;q=abc", "zh"),
    ],
)
def test_accept_language_picks_the_language(header: str | None, picked: str) -> None:
    assert language(header) == picked


class Sample(msgspec.Struct, forbid_unknown_fields=True):
    id_number: Annotated[str, msgspec.Meta(pattern=r"^[1-9]\d{16}[\dX]$")]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=4)]
    age: Annotated[int, msgspec.Meta(ge=0, le=150)]
    kind: Literal["a", "b"]
    born: date
    ref: UUID
    tags: Annotated[list[str], msgspec.Meta(max_length=2)]


GOOD: dict[str, Any] = {
    "id_number": "11010519491231002X",
    "name": "王",
    "age": 70,
    "kind": "a",
    "born": "1949-12-31",
    "ref": "3f1c2a9e-8b7d-4c5a-9e8b-7d4c5a3f1c2a",
    "tags": [],
}


@pytest.mark.parametrize(
    "change",
    [
        {"id_number": "11010519491231002Y"},
        {"name": ""},
        {"name": "一二三四五"},
        {"age": -1},
        {"age": 151},
        {"age": "70"},
        {"kind": "c"},
        {"born": "31/12/1949"},
        {"ref": "not-a-uuid"},
        {"tags": ["a", "b", "c"]},
        {"extra": 1},
        {"name": None},
    ],
)
def test_msgspec_messages_are_in_the_catalogue(change: dict[str, Any]) -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert({**GOOD, **change}, Sample)
    zh, en = translate(str(caught.value).split(" - at ")[0])
    assert (zh, en) != GENERIC, str(caught.value)
    assert not LIBRARY_TEXT.search(zh + en)


def test_a_missing_field_is_in_the_catalogue() -> None:
    body = dict(GOOD)
    del body["name"]
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.convert(body, Sample)
    assert translate(str(caught.value)) != GENERIC


def test_unknown_library_text_falls_back_to_a_generic_sentence() -> None:
    assert translate("Expected `frobnicated` thing matching `^x$`") == GENERIC


def test_a_missing_material_is_named_in_both_languages() -> None:
    assert translate("Income proof (收入证明) is missing") == (
        "缺少收入证明，请补交",
        "Income proof is missing; please hand it in",
    )


def test_our_own_plain_reason_stays_in_english_with_a_generic_chinese_one() -> None:
    assert translate("holds widget ZZ0001 twice") == (GENERIC[0], "Holds widget ZZ0001 twice")


def test_problem_codes_as_reasons_use_their_titles() -> None:
    assert translate("no_motion") == TITLES["no_motion"]


def _all_app_errors() -> set[type[AppError]]:
    for module in pkgutil.walk_packages(haoban.__path__, "haoban."):
        importlib.import_module(module.name)
    out: set[type[AppError]] = set()
    todo: list[type[AppError]] = [AppError]
    while todo:
        cls = todo.pop()
        out.add(cls)
        todo.extend(cls.__subclasses__())
    return out


def test_every_problem_code_has_a_title_and_detail_in_both_languages() -> None:
    codes = {cls.code for cls in _all_app_errors()}
    assert len(codes) > 40
    missing = sorted(c for c in codes if c not in TITLES or c not in DETAILS)
    assert not missing
    for code in codes:
        for zh, en in (TITLES[code], DETAILS[code]):
            assert HAN.search(zh), code
            assert en, code
            assert not HAN.search(en), code


async def test_a_bad_citizen_body_has_plain_zh_and_en_reasons(client: AsyncTestClient[Litestar]) -> None:
    hostile = {"citizen_id": 5, "nickname": "x"}
    zh = await client.post("/sandbox/citizens", json=hostile)
    en = await client.post("/sandbox/citizens", json=hostile, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert zh.status_code == en.status_code == 422
    assert_plain(zh.json()["errors"])
    assert_plain(en.json()["errors"])
    assert zh.json()["title"] == "请求参数校验失败"
    assert en.json()["title"] == "Request validation failed"
    assert HAN.search(zh.json()["detail"])
    assert not HAN.search(en.json()["detail"])
    assert [e["reason"] for e in zh.json()["errors"]] == [e["reason_zh"] for e in zh.json()["errors"]]
    assert [e["reason"] for e in en.json()["errors"]] == [e["reason_en"] for e in en.json()["errors"]]
    assert zh.json()["detail_en"] == en.json()["detail"]


@pytest.mark.parametrize("id_number", ["12345", "11010519491231002Y", "\uff11\uff10abc", "x" * 40, ""])
async def test_wrong_id_number_shapes_at_face_challenges_say_how_an_id_number_looks(
    client: AsyncTestClient[Litestar], id_number: str
) -> None:
    body = {"id_number": id_number, "purpose": "login"}
    response = await client.post("/v1/auth/face/challenges", json=body, headers={"X-Client-ID": "haoban-app"})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert_plain(errors)
    [error] = [e for e in errors if e["field"] == "id_number"]
    assert "身份证号" in error["reason"]
    assert "ID number" in error["reason_en"]


async def test_a_wrong_check_digit_at_registration_is_plain(client: AsyncTestClient[Litestar]) -> None:
    wrong = bodies.wrong_check_digit(bodies.person(7))
    body = {"id_number": wrong, "phone": "13812345678", "frames": [], "consent": {"biometric": True}}
    response = await client.post("/v1/auth/register", json=body, headers={"X-Client-ID": "haoban-app"})
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert_plain(errors)
    assert any("最后一位" in e["reason"] for e in errors if e["field"] == "id_number"), errors


async def test_a_hostile_application_body_is_plain(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    token = await flows.face_token(db, settings, clock, await flows.citizen(client))
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "messages-1", "Accept-Language": "en"}
    response = await client.post("/v1/applications", json={"service": ["x"], "oops": True}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["title"] == "Request validation failed"
    assert_plain(response.json()["errors"])


async def test_sandbox_faults_wrong_types_are_plain(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post("/sandbox/bank/faults", json={"latency_ms": "1", "failure_rate": "high"})
    assert response.status_code == 422, response.text
    assert_plain(response.json()["errors"])


@pytest.mark.parametrize("raw", [b'{"citizen_id": ', b"{1: 2}", b'{"a": 1e999}', b"{} {}"])
async def test_undecodable_json_details_are_our_own_sentences(client: AsyncTestClient[Litestar], raw: bytes) -> None:
    headers = {"content-type": "application/json", "Accept-Language": "en"}
    response = await client.post("/sandbox/citizens", content=raw, headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"] == body["detail_en"]
    assert body["detail_en"].startswith(("The request body is not valid JSON", "A number in the JSON body"))
    assert "malformed" not in body["detail_en"]
    assert "invalid character" not in body["detail_en"]
    assert HAN.search(body["detail_zh"])
