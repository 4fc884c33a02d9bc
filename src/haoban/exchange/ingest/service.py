"""Writing source records into the front-end database (前置库).

The sandbox routes, the demo data and department ingestion all go through the
same two steps: `check` (what the wire types cannot say: GB 11643 check digits,
the photo, fields that must agree) and `store` (the upserts and one audit row).
Nothing is written unless every record passes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec
from PIL import Image, UnidentifiedImageError

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.exchange.ingest import repository as repo
from haoban.exchange.ingest.schemas import (
    HouseholdIn,
    HousingFundIn,
    IdentityIn,
    IngestResult,
    MarriageIn,
    PropertyIn,
    SocialSecurityIn,
    SourceRecord,
)
from haoban.exchange.sources import places, vocab
from haoban.exchange.sources.records import SourceName
from haoban.kit import decoding, idnumber
from haoban.kit.errors import Conflict, FieldError, Forbidden, NotFound, Unauthorized, ValidationFailed
from haoban.settings import SOURCE_NAMES, DepartmentCredential

MAX_PHOTO_PIXELS = 40_000_000
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="haoban-ingest"'}
PHOTO_FORMATS = ("JPEG", "PNG")

RECORD_TYPES: dict[SourceName, type[SourceRecord]] = {
    "identity": IdentityIn,
    "household": HouseholdIn,
    "housing_fund": HousingFundIn,
    "estate": PropertyIn,
    "marriage": MarriageIn,
    "social_security": SocialSecurityIn,
}


# --- checks ----------------------------------------------------------------------


def photo_problem(photo: bytes) -> str | None:
    """Why `photo` is not a usable ID photo, or None.

    Only the header is parsed and the file structure verified; the pixel cap keeps
    a small file that would decode to a huge image (a decompression bomb) out.
    """
    try:
        with Image.open(io.BytesIO(photo), formats=PHOTO_FORMATS) as image:
            width, height = image.size
            if width * height > MAX_PHOTO_PIXELS:
                return f"has {width}x{height} pixels; at most {MAX_PHOTO_PIXELS} are allowed"
            image.verify()
    except Image.DecompressionBombError:
        return f"has too many pixels; at most {MAX_PHOTO_PIXELS} are allowed"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return "must be a JPEG or PNG image"
    return None


def _id_number(errors: list[FieldError], field: str, value: str) -> bool:
    if (why := idnumber.problem(value)) is not None:
        errors.append(FieldError(field=field, reason=why))
        return False
    return True


def _unique(errors: list[FieldError], field: str, values: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            errors.append(FieldError(field=f"{field}[{i}]", reason="is listed twice"))
        seen.add(value)


def _check_identity(rec: IdentityIn, at: str, errors: list[FieldError]) -> None:
    if _id_number(errors, f"{at}id_number", rec.id_number):
        if idnumber.birth_date(rec.id_number) != rec.birth_date:
            errors.append(FieldError(field=f"{at}birth_date", reason="does not match the ID number"))
        if idnumber.sex(rec.id_number) != rec.sex:
            errors.append(FieldError(field=f"{at}sex", reason="does not match the ID number"))
    if (why := photo_problem(rec.photo)) is not None:
        errors.append(FieldError(field=f"{at}photo", reason=why))


def _check_marriage(rec: MarriageIn, at: str, errors: list[FieldError]) -> None:
    _id_number(errors, f"{at}id_number", rec.id_number)
    if rec.spouse_id_number is not None:
        _id_number(errors, f"{at}spouse_id_number", rec.spouse_id_number)
        if rec.spouse_id_number == rec.id_number:
            errors.append(FieldError(field=f"{at}spouse_id_number", reason="must differ from id_number"))
    given = {
        "spouse_id_number": rec.spouse_id_number is not None,
        "spouse_name": rec.spouse_name is not None,
        "registered_on": rec.registered_on is not None,
    }
    for name, present in given.items():
        if rec.status == "married" and not present:
            errors.append(FieldError(field=f"{at}{name}", reason="is required when status is married"))
        if rec.status == "unmarried" and present:
            errors.append(FieldError(field=f"{at}{name}", reason="must be empty when status is unmarried"))


def check(rec: SourceRecord, at: str = "") -> list[FieldError]:
    """Every problem the types could not catch; field paths start with `at`."""
    errors: list[FieldError] = []
    if isinstance(rec, IdentityIn):
        _check_identity(rec, at, errors)
    elif isinstance(rec, HouseholdIn):
        for i, member in enumerate(rec.members):
            _id_number(errors, f"{at}members[{i}].id_number", member.id_number)
            if vocab.relation(member.relation) is None:
                errors.append(FieldError(field=f"{at}members[{i}].relation", reason=vocab.UNKNOWN_RELATION))
        _unique(errors, f"{at}members", [m.id_number for m in rec.members])
    elif isinstance(rec, HousingFundIn):
        _id_number(errors, f"{at}id_number", rec.id_number)
        for i, w in enumerate(rec.withdrawals or ()):
            if vocab.withdrawal_kind(w.kind) is None:
                errors.append(FieldError(field=f"{at}withdrawals[{i}].kind", reason=vocab.UNKNOWN_KIND))
        _unique(errors, f"{at}withdrawals", [w.reference for w in rec.withdrawals or ()])
    elif isinstance(rec, PropertyIn):
        for i, owner in enumerate(rec.owner_id_numbers):
            _id_number(errors, f"{at}owner_id_numbers[{i}]", owner)
        _unique(errors, f"{at}owner_id_numbers", rec.owner_id_numbers)
    elif isinstance(rec, MarriageIn):
        _check_marriage(rec, at, errors)
    else:
        _id_number(errors, f"{at}id_number", rec.id_number)
    if (place := places.problem(rec, at)) is not None:
        errors.append(place)
    return errors


_AT_PATH = re.compile(r" - at `\$([^`]*)`$")
_NAMED = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def _conversion_error(at: str, exc: msgspec.ValidationError) -> FieldError:
    reason, path = str(exc), ""
    if found := _AT_PATH.search(reason):
        reason, path = reason[: found.start()], found.group(1)
    if found := _NAMED.search(reason):
        path = f"{path}.{found.group(1)}"
    return FieldError(field=at + path, reason=reason)


def parse_batch(source: SourceName, raw: Sequence[dict[str, Any]]) -> list[SourceRecord]:
    """Decode and check every record; raise one 422 listing all problems as `records[i]...`.

    ID numbers are normalised first, as in a request body (kit/decoding.py)."""
    record_type = RECORD_TYPES[source]
    records: list[SourceRecord] = []
    errors: list[FieldError] = []
    for i, item in enumerate(raw):
        try:
            rec = msgspec.convert(decoding.normalise_ids(item, record_type), record_type)
        except msgspec.ValidationError as exc:
            errors.append(_conversion_error(f"records[{i}]", exc))
            continue
        errors.extend(check(rec, f"records[{i}]."))
        records.append(rec)
    if errors:
        raise ValidationFailed("One or more records are invalid; nothing was written.", errors=errors)
    return records


# --- writes ----------------------------------------------------------------------


async def _write(conn: asyncpg.Connection, rec: SourceRecord, at: str, *, now: datetime, by: str) -> bool:
    rec = places.normalised(rec)  # the division code beside the name
    if isinstance(rec, IdentityIn):
        return await repo.upsert_identity(conn, rec, hashlib.sha256(rec.photo).hexdigest(), now, by)
    if isinstance(rec, HouseholdIn):
        return await repo.upsert_household(conn, rec, now, by)
    if isinstance(rec, HousingFundIn):
        held = await repo.fund_account_of(conn, rec.id_number)
        if held is not None and held != rec.account_no:
            raise Conflict(
                "This person already holds another housing fund account.",
                errors=[FieldError(field=f"{at}id_number", reason=f"already holds account {held}")],
            )
        return await repo.upsert_fund_account(conn, rec, now, by)
    if isinstance(rec, PropertyIn):
        return await repo.upsert_property(conn, rec, now, by)
    if isinstance(rec, MarriageIn):
        return await repo.upsert_marriage(conn, rec, now, by)
    return await repo.upsert_social_security(conn, rec, now, by)


async def store(
    conn: asyncpg.Connection,
    source: SourceName,
    records: Sequence[SourceRecord],
    *,
    by: str,
    actor: Actor,
    now: datetime,
    batch: bool = True,
) -> IngestResult:
    """Upsert checked records of one source in the caller's transaction, and audit it.

    `by` is stored as `updated_by` ("sandbox" or the department). The audit row
    holds counts only: never an ID number.
    """
    if not all(isinstance(rec, RECORD_TYPES[source]) for rec in records):
        raise TypeError(f"store({source!r}) was given records of another source")
    created = 0
    try:
        for i, rec in enumerate(records):
            created += await _write(conn, rec, f"records[{i}]." if batch else "", now=now, by=by)
    except asyncpg.UniqueViolationError:
        raise Conflict("A concurrent write changed the same records; retry the request.") from None
    await audit.record(
        conn,
        actor=actor,
        action="exchange.records_written",
        subject_type="source",
        subject_id=source,
        at=now,
        details={"by": by, "records": len(records), "created": created},
    )
    return IngestResult(source=source, accepted=len(records), created=created)


async def put(
    conn: asyncpg.Connection, source: SourceName, rec: SourceRecord, *, by: str, actor: Actor, now: datetime
) -> bool:
    """Check and upsert one record (the sandbox routes and the demo data); True when created."""
    if errors := check(rec):
        raise ValidationFailed("The record is invalid; nothing was written.", errors=errors)
    result = await store(conn, source, [rec], by=by, actor=actor, now=now, batch=False)
    return result.created == 1


# --- department credentials --------------------------------------------------------


def authenticate_department(
    departments: Sequence[DepartmentCredential], authorization: str | None
) -> DepartmentCredential:
    """The department whose secret is the bearer token; every credential is compared."""
    scheme, _sep, secret = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized(
            "A department credential is required: Authorization: Bearer <secret>.", headers=dict(CHALLENGE)
        )
    digest = hashlib.sha256(secret.strip().encode()).digest()
    found: DepartmentCredential | None = None
    for credential in departments:
        if hmac.compare_digest(credential.secret_sha256, digest):
            found = credential
    if found is None:
        raise Unauthorized("Unknown department credential.", headers=dict(CHALLENGE))
    return found


def department_actor(credential: DepartmentCredential) -> Actor:
    """Departments are machine clients; the OAuth issue will give them client ids."""
    return Actor(type="client", id=f"department:{credential.department}")


def source_for(credential: DepartmentCredential, source: str) -> SourceName:
    """The source named in the path, if it exists and this department may write it."""
    if source not in SOURCE_NAMES:
        raise NotFound(f"No source {source!r}; sources are {', '.join(SOURCE_NAMES)}.")
    if source not in credential.sources:
        raise Forbidden(f"Department {credential.department!r} may not write {source!r} records.")
    name: SourceName = next(s for s in RECORD_TYPES if s == source)
    return name
