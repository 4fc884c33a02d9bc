"""Every JSON operation in the committed spec holds under hostile bytes: a 4xx problem, never a 5xx.

Each bad form is sent to every operation whose request body is application/json,
with a valid credential of the kind the operation asks for, so the request
reaches body decoding rather than stopping at the guard.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit.clock import FrozenClock
from haoban.settings import Settings
from tests.conftest import make_settings
from tests.oauth import flows
from tests.staff.factories import make_staff, staff_headers
from tests.test_http_conventions import PROBLEM

ROOT = Path(__file__).resolve().parents[1]
SPEC: dict[str, Any] = json.loads((ROOT / "openapi" / "openapi.json").read_text())
DEPARTMENT_SECRET = "hostile-input-department-secret"
ALL_SOURCES = "identity+household+housing_fund+estate+marriage+social_security"
PATH_VALUES = {"source": "housing_fund", "platform": "wechat", "code": "hpf.withdraw.rent"}
HEADER_VALUES = {"X-Client-ID": "haoban-app", "Idempotency-Key": "5d8c1f9e-0b7a-4c3e-9f21-2a6b7c8d9e01"}

Operation = tuple[str, str, dict[str, Any]]  # method, path, operation


def json_operations() -> Iterator[Operation]:
    for path, item in sorted(SPEC["paths"].items()):
        for method, op in sorted(item.items()):
            if "application/json" in (op.get("requestBody", {}).get("content") or {}):
                yield method.upper(), path, op


OPERATIONS = list(json_operations())


def example_body(op: dict[str, Any]) -> Any:
    media = op["requestBody"]["content"]["application/json"]
    for found in (media.get("examples") or {}).values():
        return found["value"]
    return media.get("example", {})


def _replace(value: Any, leaf: Callable[[Any], Any]) -> Any:
    if isinstance(value, dict):
        return {k: _replace(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, leaf) for v in value]
    return leaf(value)


MARK = "\u0001HOSTILE\u0001"


def strings_as(raw: bytes) -> Callable[[Any], bytes]:
    """Every string value of the example replaced by these raw bytes (inside the quotes)."""

    def build(example: Any) -> bytes:
        body = _replace(example if example else {"name": "x"}, lambda v: MARK if isinstance(v, str) else v)
        if MARK not in json.dumps(body):
            body = {"name": MARK}
        return json.dumps(body).encode().replace(json.dumps(MARK).encode()[1:-1], raw)

    return build


def numbers_as(raw: bytes) -> Callable[[Any], bytes]:
    """Every number (or, without numbers, the first value) replaced by this literal."""

    def build(example: Any) -> bytes:
        body = _replace(
            example if example else {"name": 1},
            lambda v: MARK if isinstance(v, int | float) and not isinstance(v, bool) else v,
        )
        if MARK not in json.dumps(body):
            body = {next(iter(example)): MARK} if isinstance(example, dict) and example else {"name": MARK}
        return json.dumps(body).encode().replace(json.dumps(MARK).encode(), raw)

    return build


def literal(raw: bytes) -> Callable[[Any], bytes]:
    return lambda _example: raw


def nested_under_first_key(depth: int) -> Callable[[Any], bytes]:
    def build(example: Any) -> bytes:
        key = next(iter(example)) if isinstance(example, dict) and example else "name"
        return b'{"' + key.encode() + b'": ' + b"[" * depth + b"]" * depth + b"}"

    return build


# name -> (body builder, statuses a caller may get, a word the answer must carry)
BAD_FORMS: dict[str, tuple[Callable[[Any], bytes], set[int], str]] = {
    "invalid_utf8_in_string": (strings_as(b"\xc3\x28\xff"), {400}, "UTF-8"),
    "invalid_utf8_key": (literal(b'{"\xff\xfe": 1}'), {400}, "UTF-8"),
    "lone_surrogate": (strings_as(b"\\ud800"), {400}, "JSON"),
    "nul_in_string": (strings_as(b"a\\u0000b"), {422}, "character that is not allowed"),
    "deep_array_1000": (literal(b"[" * 1000 + b"]" * 1000), {400}, "deeper"),
    "deep_array_30000": (literal(b"[" * 30_000 + b"]" * 30_000), {400}, "deeper"),
    "deep_object_5000": (literal(b'{"a":' * 5000 + b"1" + b"}" * 5000), {400}, "deeper"),
    "deep_inside_a_field": (nested_under_first_key(3000), {400}, "deeper"),
    "float_out_of_range": (numbers_as(b"1e999"), {400}, "range"),
    "int_out_of_range": (numbers_as(b"123456789012345678901234567890"), {422}, "too large"),
    "negative_int_out_of_range": (numbers_as(b"-9223372036854775809"), {422}, "too large"),
    "non_string_key": (literal(b'{1: "x"}'), {400}, "JSON"),
    "unquoted_key": (literal(b"{name: 1}"), {400}, "JSON"),
    "nan_literal": (literal(b'{"name": NaN}'), {400}, "JSON"),
    "trailing_garbage": (literal(b"{} {}"), {400}, "JSON"),
    "truncated": (literal(b'{"name": "x'), {400}, "JSON"),
    "utf8_bom": (literal(b"\xef\xbb\xbf{}"), {400}, "JSON"),
}


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, HAOBAN_DEPARTMENT_CREDENTIALS=f"hostile-dept:{ALL_SOURCES}:{DEPARTMENT_SECRET}")


@pytest.fixture
async def callers(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> dict[str, dict[str, str]]:
    """Headers per security scheme: a face-level citizen, a staff reviewer, a department."""
    await make_staff(db, now=clock.now())
    citizen = await flows.face_token(db, settings, clock, await flows.citizen(client))
    return {
        "bearer": {"Authorization": f"Bearer {citizen}"},
        "staffBearer": await staff_headers(client),
        "departmentSecret": {"Authorization": f"Bearer {DEPARTMENT_SECRET}"},
        "clientCredentials": {"Authorization": f"Bearer {DEPARTMENT_SECRET}"},
    }


def request_for(op_path: str, op: dict[str, Any], callers: dict[str, dict[str, str]]) -> tuple[str, dict[str, str]]:
    path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), str(uuid.uuid4())), op_path)
    headers: dict[str, str] = {}
    for requirement in op.get("security", SPEC["security"]):
        for scheme in requirement:
            headers.update(callers[scheme])
            break
    for parameter in op.get("parameters", []):
        if parameter["in"] == "header":
            headers[parameter["name"]] = HEADER_VALUES.get(parameter["name"], "hostile-input")
    return path, headers


def test_there_are_json_operations_to_attack() -> None:
    """Guards the parametrised tests below against passing on an empty list."""
    assert len(OPERATIONS) >= 25


@pytest.mark.parametrize("form", sorted(BAD_FORMS))
async def test_bad_bytes_are_a_4xx_problem_on_every_json_operation(
    form: str, client: AsyncTestClient[Litestar], callers: dict[str, dict[str, str]]
) -> None:
    build, statuses, word = BAD_FORMS[form]
    offenders = []
    for method, op_path, op in OPERATIONS:
        path, headers = request_for(op_path, op, callers)
        body = build(example_body(op))
        response = await client.request(
            method, path, content=body, headers={**headers, "content-type": "application/json"}
        )
        label = f"{method} {op_path}"
        if response.status_code not in statuses:
            offenders.append(f"{label}: {response.status_code} {response.text[:200]}")
        elif not response.headers.get("content-type", "").startswith(PROBLEM):
            offenders.append(f"{label}: {response.headers.get('content-type')}")
        elif word.lower() not in response.text.lower():
            offenders.append(f"{label}: the answer does not say what is wrong ({word!r}): {response.text[:200]}")
        elif str(response.status_code) not in op["responses"]:
            offenders.append(f"{label}: {response.status_code} is not in the operation's spec")
    assert not offenders, f"{form} (expected {sorted(statuses)}):\n  " + "\n  ".join(offenders)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", None]
)
async def test_json_operations_refuse_other_content_types_with_415(
    content_type: str | None, client: AsyncTestClient[Litestar], callers: dict[str, dict[str, str]]
) -> None:
    offenders = []
    for method, op_path, op in OPERATIONS:
        path, headers = request_for(op_path, op, callers)
        if content_type is not None:
            headers["content-type"] = content_type
        body = json.dumps(example_body(op)).encode()
        response = await client.request(method, path, content=body, headers=headers)
        if response.status_code != 415 or not response.headers.get("content-type", "").startswith(PROBLEM):
            offenders.append(f"{method} {op_path}: {response.status_code} {response.text[:160]}")
        elif response.json()["code"] != "unsupported_media_type":
            offenders.append(f"{method} {op_path}: code {response.json()['code']}")
        elif "415" not in op["responses"]:
            offenders.append(f"{method} {op_path}: 415 is not in the operation's spec")
    assert not offenders, f"{content_type} accepted on a JSON route:\n  " + "\n  ".join(offenders)


async def test_json_with_charset_utf8_is_accepted(client: AsyncTestClient[Litestar]) -> None:
    response = await client.post(
        "/sandbox/citizens", content=b"{}", headers={"content-type": "Application/JSON; charset=UTF-8"}
    )
    assert response.status_code == 201, response.text


async def test_form_routes_stay_form_routes(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock
) -> None:
    """OAuth's form-encoded endpoints keep reading forms (RFC 6749)."""
    await flows.register_clients(db, settings.security.token_hmac_key, clock.now())
    response = await client.post("/oauth/par", data=flows.par_form())
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "jwk",
    [
        {},
        {"kty": "EC"},
        {"kty": "EC", "crv": "P-256"},
        {"kty": "EC", "crv": "P-256", "x": 5, "y": 6},
        {"kty": "EC", "crv": "P-256", "x": "!!!", "y": "???"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "EC", "crv": "P-384", "x": "AAAA", "y": "AAAA"},
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": ["EC"], "crv": {"a": 1}},
    ],
)
@pytest.mark.parametrize("attestation", ["required", "optional"])
async def test_a_malformed_attestation_jwk_is_422(
    client: AsyncTestClient[Litestar], jwk: dict[str, Any], attestation: str
) -> None:
    body = {"client_id": "fuzz-app", "name": "Fuzz", "attestation": attestation, "attestation_jwk": jwk}
    response = await client.post("/sandbox/app-clients", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "attestation_jwk"


async def test_a_real_p256_key_registers(client: AsyncTestClient[Litestar]) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm

    public = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key()))
    body = {"client_id": "fuzz-app", "name": "Fuzz", "attestation": "required", "attestation_jwk": public}
    response = await client.post("/sandbox/app-clients", json=body)
    assert response.status_code == 204, response.text


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("/v1/me/notifications?before=225634419236650024960", "query"),
        ("/v1/me/data-access-log?before=-99999999999999999999", "query"),
        ("/v1/applications?limit=99999999999999999999999", "query"),
    ],
)
async def test_integer_parameters_out_of_64_bits_are_422(
    client: AsyncTestClient[Litestar], callers: dict[str, dict[str, str]], path: str, source: str
) -> None:
    response = await client.get(path, headers=callers["bearer"])
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["source"] == source
    assert "too large" in error["reason_en"]


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
async def test_a_token_endpoint_without_the_token_is_400(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, settings: Settings, clock: FrozenClock, path: str
) -> None:
    """RFC 7662 and RFC 7009: `token` is required; an empty form is not an inactive token."""
    await flows.register_clients(db, settings.security.token_hmac_key, clock.now())
    response = await client.post(path, data={}, headers=flows.basic())
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_request"


async def test_a_number_that_rounds_past_its_column_is_422_not_500(client: AsyncTestClient[Litestar]) -> None:
    """numeric(10, 2) rounds 99999999.99999999 up to 10^8, past the column: found by the fuzz pass."""
    from tests.sandbox import bodies

    body = bodies.estate("豫(2020)郑州市0009", bodies.person(9), area_m2=99999999.99999999)
    response = await client.post("/sandbox/estate/properties", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
