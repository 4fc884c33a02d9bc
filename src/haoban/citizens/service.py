"""Citizen account use cases."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.citizens import repository as repo
from haoban.citizens.schemas import Citizen, Me, SessionView
from haoban.citizens.vault import IdNumberVault
from haoban.db.batch import Batch
from haoban.db.sql import Cte, Param
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Conflict, NotFound
from haoban.kit.masking import mask_id_number, mask_phone
from haoban.tokens.schemas import Principal


async def create_citizen(
    conn: asyncpg.Connection,
    *,
    citizen_id: UUID,
    now: datetime,
    actor: Actor,
    id_number: str | None = None,
    vault: IdNumberVault | None = None,
) -> bool:
    """Create an account; False when it already exists (idempotent).

    With an ID number, the account is bound to it; one number, one account.
    """
    hmac_, sealed = None, None
    if id_number is not None:
        if vault is None:
            raise ValueError("binding an ID number needs the vault")
        hmac_, sealed = vault.index(id_number), vault.seal(citizen_id, id_number)
        holder = await repo.find_by_id_number(conn, hmac_)
        if holder is not None and holder != citizen_id:
            raise Conflict("This ID number already belongs to another account.")
        if holder == citizen_id:
            return False
    created = await repo.insert(conn, citizen_id=citizen_id, created_at=now, id_number_hmac=hmac_, id_number_enc=sealed)
    if not created and hmac_ is not None and sealed is not None:
        if not await repo.bind_id_number(conn, citizen_id, hmac_, sealed):
            raise Conflict("This account exists with another ID number.")
        await audit.record(
            conn,
            actor=actor,
            action="citizen.id_number_bound",
            subject_type="citizen",
            subject_id=str(citizen_id),
            at=now,
        )
    if created:
        await audit.record(
            conn, actor=actor, action="citizen.created", subject_type="citizen", subject_id=str(citizen_id), at=now
        )
    return created


async def id_number_of(conn: asyncpg.Connection, vault: IdNumberVault, citizen_id: UUID) -> str:
    """The citizen's ID number, decrypted for a data pull; 409 when the account has none."""
    return open_id_number(vault, citizen_id, await repo.sealed_id_number(conn, citizen_id))


async def find_by_id_number(conn: asyncpg.Connection, id_number_hmac: bytes) -> UUID | None:
    """The account bound to an ID number (by its keyed index), or None."""
    return await repo.find_by_id_number(conn, id_number_hmac)


async def id_number_hmac(conn: asyncpg.Connection, citizen_id: UUID) -> bytes | None:
    """The keyed index of the account's ID number (to match it without decrypting); None when it has none."""
    return await repo.id_number_hmac(conn, citizen_id)


async def exists(conn: asyncpg.Connection, citizen_id: UUID) -> bool:
    return await repo.exists(conn, citizen_id)


async def sealed_id_number(conn: asyncpg.Connection, citizen_id: UUID) -> str | None:
    return await repo.sealed_id_number(conn, citizen_id)


def open_id_number(vault: IdNumberVault, citizen_id: UUID, sealed: str | None) -> str:
    """Decrypt a sealed ID number read elsewhere; 409 when the account has none."""
    if sealed is None:
        raise Conflict("This account is not bound to an ID number yet.")
    return vault.open(citizen_id, sealed)


async def get_citizen(conn: asyncpg.Connection, citizen_id: UUID) -> Citizen:
    citizen = await repo.get(conn, citizen_id)
    if citizen is None:
        raise NotFound("No such citizen.")
    return citizen


async def me(conn: asyncpg.Connection, vault: IdNumberVault, principal: Principal, *, face_enrolled: bool) -> Me:
    """The signed-in citizen; whether a face is enrolled is identity's to say (the route asks it)."""
    found = await repo.profile(conn, principal.citizen_id)
    if found is None:
        raise NotFound("No such citizen.")
    citizen, sealed = found
    return Me(
        citizen_id=citizen.id,
        status=citizen.status,
        created_at=citizen.created_at,
        id_number_masked=mask_id_number(vault.open(citizen.id, sealed)) if sealed else None,
        face_enrolled=face_enrolled,
        session=SessionView(
            client_id=principal.client_id,
            scope=" ".join(principal.scope),
            acr=principal.acr,
            amr=list(principal.amr),
            auth_time=principal.auth_time,
        ),
    )


def phone_aad(citizen_id: UUID) -> str:
    return f"citizens:phone:{citizen_id}"


async def phone_of(conn: asyncpg.Connection, cipher: FieldCipher, citizen_id: UUID) -> str | None:
    """The account's phone number, decrypted; None when it has none."""
    sealed = await repo.sealed_phone(conn, citizen_id)
    return None if sealed is None else cipher.decrypt(sealed, aad=phone_aad(citizen_id)).decode()


async def set_first_phone(conn: asyncpg.Connection, cipher: FieldCipher, citizen_id: UUID, phone: str) -> None:
    """The phone given when the account is created (never on an existing account: see change_phone)."""
    await repo.set_phone(conn, citizen_id, cipher.encrypt(phone.encode(), aad=phone_aad(citizen_id)))


async def change_phone(
    conn: asyncpg.Connection, cipher: FieldCipher, citizen_id: UUID, phone: str, *, actor: Actor, now: datetime
) -> str | None:
    """Replace the account's phone number (the caller proved the face and the new number); returns the old one."""
    old = await phone_of(conn, cipher, citizen_id)
    await repo.set_phone(conn, citizen_id, cipher.encrypt(phone.encode(), aad=phone_aad(citizen_id)))
    await audit.record(
        conn,
        actor=actor,
        action="citizen.phone_changed",
        subject_type="citizen",
        subject_id=str(citizen_id),
        at=now,
        details={"old": mask_phone(old) if old else None, "new": mask_phone(phone)},
    )
    return old


def add_sealed_id_number(b: Batch, prefix: str, citizen_id: UUID | Param) -> Cte:
    """`sealed_id_number` as a CTE of a larger statement (column id_number_enc)."""
    return repo.add_sealed_id_number(b, prefix, citizen_id)
