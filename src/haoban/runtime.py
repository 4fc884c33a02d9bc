"""What the composition root builds once and hands to every request."""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg

from haoban.kit.clock import Clock
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Unavailable
from haoban.settings import Settings
from haoban.tokens.service import KeyRing, TokenService


@dataclass
class Runtime:
    settings: Settings
    database_url: str
    clock: Clock
    cipher: FieldCipher
    keyring: KeyRing
    tokens: TokenService
    _pool: asyncpg.Pool | None = field(default=None, repr=False)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise Unavailable("database pool is not open")
        return self._pool


def build_runtime(settings: Settings, *, database_url: str, clock: Clock) -> Runtime:
    cipher = FieldCipher(settings.security.field_keys)
    keyring = KeyRing(cipher, clock)
    return Runtime(
        settings=settings,
        database_url=database_url,
        clock=clock,
        cipher=cipher,
        keyring=keyring,
        tokens=TokenService(settings=settings.security, keyring=keyring, clock=clock),
    )
