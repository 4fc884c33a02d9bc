"""Staff passwords: argon2id (RFC 9106 low-memory profile), checked off the event loop.

Unknown usernames are checked against a dummy hash with the same parameters,
so a login takes about as long whether or not the account exists.
"""

from __future__ import annotations

import asyncio
import functools
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


class WeakPassword(ValueError):
    """The password does not meet the policy (said in plain words)."""


def check_policy(password: str, *, username: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"the password must have at most {MAX_LENGTH} characters")
    if username.lower() in password.lower():
        raise WeakPassword("the password must not contain the username")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


@functools.cache
def dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; with no stored hash, spend the same time and say False."""
    ok = await asyncio.to_thread(_verify, stored or dummy_hash(), password)
    return ok and stored is not None


def needs_rehash(stored: str) -> bool:
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


async def rehash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)
