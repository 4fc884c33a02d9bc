"""Client registration and client authentication (none / client_secret_basic)."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from datetime import datetime
from urllib.parse import unquote_plus, urlsplit

import asyncpg

from haoban.audit import service as audit
from haoban.audit.schemas import Actor
from haoban.kit.crypto import keyed_hash
from haoban.oauth import repository as repo
from haoban.oauth.errors import InvalidClient
from haoban.oauth.schemas import SCOPES, Client, ClientType
from haoban.oauth.scopes import CONFIDENTIAL_ONLY_SCOPES

CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


class ClientSpecError(ValueError):
    """A client registration that cannot be accepted (for the CLI)."""


def secret_hmac(hmac_key: bytes, client_id: str, secret: str) -> bytes:
    """Only this is stored; bound to the client id so two clients' hashes never match."""
    return keyed_hash(hmac_key, f"oauth-client-secret:{client_id}:{secret}")


def check_redirect_uri(uri: str) -> None:
    """Registered URIs are absolute https URLs without a fragment (RFC 9700 §2.1, §4.1)."""
    parts = urlsplit(uri)
    if parts.scheme != "https" or not parts.hostname or parts.fragment or "#" in uri:
        raise ClientSpecError(f"redirect URI must be an absolute https URL without a fragment: {uri!r}")


async def create_client(
    conn: asyncpg.Connection,
    *,
    hmac_key: bytes,
    client_id: str,
    client_type: ClientType,
    display_name: str,
    purpose: str,
    redirect_uris: list[str],
    scopes: list[str],
    secret: str | None,
    now: datetime,
    actor: Actor,
) -> str | None:
    """Register (or replace) a client; return a newly generated secret for a confidential one."""
    if not CLIENT_ID.match(client_id):
        raise ClientSpecError("client id must be 3-64 of a-z 0-9 . _ - starting with a letter or digit")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ClientSpecError(f"unknown or missing scopes: {unknown}; known: {', '.join(SCOPES)}")
    if client_type == "public" and (confidential_only := sorted(set(scopes) & CONFIDENTIAL_ONLY_SCOPES)):
        raise ClientSpecError(f"scopes for confidential clients only: {confidential_only}")
    if client_type == "public" and not redirect_uris:
        raise ClientSpecError("a public client needs at least one redirect URI")
    for uri in redirect_uris:
        check_redirect_uri(uri)
    generated: str | None = None
    digest: bytes | None = None
    if client_type == "confidential":
        if secret is None:
            secret = generated = secrets.token_urlsafe(32)
        digest = secret_hmac(hmac_key, client_id, secret)
    elif secret is not None:
        raise ClientSpecError("a public client has no secret")
    created = await repo.upsert_client(
        conn,
        client_id=client_id,
        client_type=client_type,
        secret_hmac=digest,
        display_name=display_name,
        purpose=purpose,
        redirect_uris=list(dict.fromkeys(redirect_uris)),
        allowed_scopes=list(dict.fromkeys(scopes)),
        now=now,
    )
    await audit.record(
        conn,
        actor=actor,
        action="oauth_client.created" if created else "oauth_client.updated",
        subject_type="oauth_client",
        subject_id=client_id,
        at=now,
        details={"client_type": client_type, "redirect_uris": redirect_uris, "scopes": scopes},
    )
    return generated


def parse_basic(header: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: form-urlencoded id and secret inside HTTP Basic."""
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


async def authenticate_client(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    hmac_key: bytes,
    authorization: str | None,
    form_client_id: str | None,
    require_confidential: bool = False,
) -> Client:
    """The calling client: confidential ones by Basic auth, public ones by `client_id` alone."""
    basic = parse_basic(authorization) if authorization else None
    if authorization and basic is None:
        raise InvalidClient("Client authentication failed.")
    if basic is not None:
        client_id, secret = basic
        if form_client_id is not None and form_client_id != client_id:
            raise InvalidClient("Client authentication failed.")
        client = await repo.get_client(conn, client_id)
        expected = secret_hmac(hmac_key, client_id, secret)
        stored = client.secret_hmac if client is not None and client.secret_hmac is not None else b"\0" * 32
        ok = hmac.compare_digest(expected, stored)
        if client is None or client.client_type != "confidential" or not ok or client.disabled_at is not None:
            raise InvalidClient("Client authentication failed.")
        return client
    if require_confidential or not form_client_id:
        raise InvalidClient("Client authentication is required.")
    client = await repo.get_client(conn, form_client_id)
    if client is None or client.disabled_at is not None:
        raise InvalidClient("Unknown client.")
    if client.client_type != "public":
        raise InvalidClient("This client must authenticate with client_secret_basic.")
    return client
