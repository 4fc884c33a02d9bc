"""What the composition root builds once and hands to every request."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg

from haoban.citizens.vault import IdNumberVault
from haoban.exchange.ports import Sources
from haoban.fundcentre.ports import FundCentre, NoFundCentre
from haoban.identity.face.engine import FaceEngine
from haoban.kit.clock import Clock
from haoban.kit.crypto import FieldCipher
from haoban.kit.errors import Unavailable
from haoban.limits.service import Limiter
from haoban.miniprogram.ports import MiniProgramPlatform
from haoban.notifications.ports import Notifier
from haoban.outbox.settings import WorkerSettings
from haoban.payouts.listener import NoPayoutListener, PayoutListener
from haoban.payouts.ports import Bank
from haoban.payouts.wiring import NoBank
from haoban.rules.registry import InEffect
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
    vault: IdNumberVault
    limiter: Limiter
    _pool: asyncpg.Pool | None = field(default=None, repr=False)
    _sources: Sources | None = field(default=None, repr=False)
    _face: FaceEngine | None = field(default=None, repr=False)
    owns_face: bool = True
    face_warming: asyncio.Task[None] | None = field(default=None, repr=False)  # started by readiness
    _notifier: Notifier | None = field(default=None, repr=False)
    miniprogram_platforms: dict[str, MiniProgramPlatform] = field(default_factory=dict, repr=False)
    # Money: the bank (wired in the app lifespan), who hears of final payouts, outbox worker settings.
    bank: Bank = field(default_factory=NoBank, repr=False)
    fund_centre: FundCentre = field(default_factory=NoFundCentre, repr=False)  # the system of record (issue 12)
    payout_listener: PayoutListener = field(default_factory=NoPayoutListener, repr=False)
    outbox: WorkerSettings = field(default_factory=WorkerSettings, repr=False)
    rule_sets: InEffect = field(default_factory=InEffect, repr=False)

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise Unavailable("database pool is not open")
        return self._pool

    @property
    def face(self) -> FaceEngine:
        """The face engine, started on first use so routes without faces never pay for it."""
        if self._face is None:
            from haoban.identity.face.engine import ProcessPoolFaceEngine  # noqa: PLC0415

            self._face = ProcessPoolFaceEngine(self.settings.face)
        return self._face

    @property
    def notifier(self) -> Notifier:
        if self._notifier is None:
            raise Unavailable("no notification channel is configured")
        return self._notifier

    @property
    def sources(self) -> Sources:
        if self._sources is None:
            raise Unavailable("source systems are not connected")
        return self._sources


def build_runtime(settings: Settings, *, database_url: str, clock: Clock) -> Runtime:
    # Imported here: the applications domain itself imports Runtime.
    from haoban.applications.service import PayoutFinal  # noqa: PLC0415

    cipher = FieldCipher(settings.security.field_keys)
    keyring = KeyRing(cipher, clock)
    return Runtime(
        payout_listener=PayoutFinal(),
        settings=settings,
        database_url=database_url,
        clock=clock,
        cipher=cipher,
        keyring=keyring,
        tokens=TokenService(settings=settings.security, keyring=keyring, clock=clock, sandbox=settings.sandbox),
        vault=IdNumberVault(cipher, settings.security.token_hmac_key),
        limiter=Limiter(settings.security.token_hmac_key, scale=settings.security.limits_scale),
    )
