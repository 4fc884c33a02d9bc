"""Self-certified uploads: stored with their hash, images only, at most 5 MiB, only on my own application."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import cast

import asyncpg
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.kit import reasons
from haoban.kit.clock import FrozenClock
from haoban.materials import files
from tests.staff.factories import application, citizen, jpeg, png

ROOT = Path(__file__).resolve().parents[2]


def _path(app_id: object, code: str = "income_proof") -> str:
    return f"/v1/applications/{app_id}/materials?code={code}"


async def test_an_upload_is_stored_with_its_sha256_and_trust_level_c(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now())
    content = jpeg()
    response = await client.post(_path(app_id), content=content, headers={**headers, "Content-Type": "image/jpeg"})
    assert response.status_code == 201, response.text
    material = response.json()["material"]
    assert material["sha256"] == hashlib.sha256(content).hexdigest()
    assert material["trust_level"] == "C"
    assert material["content_type"] == "image/jpeg"
    assert material["size_bytes"] == len(content)
    stored = cast(
        "asyncpg.Record",
        await db.fetchrow(
            "SELECT content, sha256, citizen_id FROM application_materials WHERE id = $1::uuid", material["material_id"]
        ),
    )
    assert bytes(stored["content"]) == content
    assert stored["sha256"] == material["sha256"]
    assert stored["citizen_id"] == citizen_id
    audited = await db.fetchval(
        "SELECT details FROM audit_events WHERE action = 'material.uploaded' AND subject_id = $1", str(app_id)
    )
    assert audited["sha256"] == material["sha256"]


async def test_listing_gives_metadata_and_the_checklist_never_the_file(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now())
    await client.post(_path(app_id, "residence_photo"), content=png(), headers=headers)
    response = await client.get(f"/v1/applications/{app_id}/materials", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [m["code"] for m in body["materials"]] == ["residence_photo"]
    assert "content" not in body["materials"][0]
    checklist = {c["code"]: (c["primary"], c["supplied"]) for c in body["checklist"]}
    assert checklist == {
        "income_proof": (True, False),
        "labor_contract": (False, False),
        "residence_photo": (False, True),
    }
    assert body["notice"] is None


async def test_a_file_over_5_mb_is_413_problem_json(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now())
    big = jpeg() + b"\x00" * (files.MAX_BYTES + 1)
    response = await client.post(_path(app_id), content=big, headers={**headers, "Content-Type": "image/jpeg"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "payload_too_large"
    assert await db.fetchval("SELECT count(*) FROM application_materials") == 0


async def test_exactly_5_mb_is_accepted(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now())
    pdf = b"%PDF-1.7\n" + b"0" * (files.MAX_BYTES - 9)
    assert len(pdf) == files.MAX_BYTES
    response = await client.post(_path(app_id), content=pdf, headers={**headers, "Content-Type": "application/pdf"})
    assert response.status_code == 201, response.text


async def test_a_non_image_is_422(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now())
    for content, content_type in (
        (b"<html><body>hello</body></html>", "image/jpeg"),
        (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        (png(), "image/jpeg"),
    ):
        response = await client.post(_path(app_id), content=content, headers={**headers, "Content-Type": content_type})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "material_rejected"
    assert await db.fetchval("SELECT count(*) FROM application_materials") == 0


async def test_a_material_the_service_does_not_list_is_422(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now())
    for code in ("passport", "commitment_letter", "household_record"):
        response = await client.post(_path(app_id, code), content=jpeg(), headers=headers)
        assert response.status_code == 422, (code, response.text)
        assert response.json()["errors"][0]["field"] == "code"


async def test_another_citizens_application_is_404(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    owner_id, _owner = await citizen(client)
    _other_id, other = await citizen(client)
    app_id = await application(db, owner_id, at=clock.now())
    upload = await client.post(_path(app_id), content=jpeg(), headers=other)
    listing = await client.get(f"/v1/applications/{app_id}/materials", headers=other)
    missing = await client.get("/v1/applications/0b9d6a52-3c1e-4f0a-9b8e-0000000000a1/materials", headers=other)
    assert upload.status_code == listing.status_code == missing.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM application_materials") == 0


async def test_an_instant_service_takes_no_materials(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now(), service_code="hpf.withdraw.rent", department="hpf")
    response = await client.post(_path(app_id), content=jpeg(), headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "materials_not_applicable"


async def test_a_decided_application_takes_no_more_materials(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now(), status="pending_review")
    response = await client.post(_path(app_id), content=jpeg(), headers=headers)
    assert response.status_code == 409
    assert response.json()["code"] == "materials_closed"


async def test_uploads_need_a_citizen_token(
    client: AsyncTestClient[Litestar], db: asyncpg.Connection, clock: FrozenClock
) -> None:
    citizen_id, _headers = await citizen(client)
    app_id = await application(db, citizen_id, at=clock.now())
    response = await client.post(_path(app_id), content=jpeg())
    assert response.status_code == 401


def test_the_size_limit_is_written_in_mib_everywhere() -> None:
    assert files.mib(files.MAX_BYTES) == "5 MiB"
    assert files.mib(1536 * 1024) == "1.5 MiB"
    _, why = files.problem(b"%PDF-" + b"0" * files.MAX_BYTES, "application/pdf")
    assert why is not None
    zh, en = reasons.translate(why, "body")
    assert "5 MiB" in zh
    assert "5 MiB" in en
    spec = json.loads((ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8"))
    body = spec["paths"]["/v1/applications/{application_id}/materials"]["post"]["requestBody"]
    assert files.LIMIT_TEXT in body["description"]
    # "5 MB" is 5,000,000 bytes: no document may promise a limit the server does not keep.
    said = [
        str(path.relative_to(ROOT))
        for path in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "src").rglob("*.py")]
        if re.search(r"\b5 ?MB\b", path.read_text(encoding="utf-8"))
    ]
    assert said == []
