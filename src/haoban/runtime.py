"""What the composition root builds once and hands to every request.

`Runtime` holds the parts a use case may need. The root (`haoban.root`) builds
it from `Settings` with every slice's implementations already in place (who
hears of final payouts, the outbox worker's settings). The parts that live only
while the app runs (the pool, the source systems, the bank, the fund centre,
the mini-program platforms) are attached by the root's lifespan with `attach_pool`
and `attach`, and dropped again with `detach`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg

from haoban.citizens.vault import IdNumberVault
from haoban.exchange.sources.ports import Sources
from haoban.fundcentre.ports import FundCentre, NoFundCentre
from haoban.identity.face.engine import FaceEngine, ProcessPoolFaceEngine
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
    # Who hears of final payouts: the applications slice's listener, installed by the root.
    payout_listener: PayoutListener = field(default_factory=NoPayoutListener, repr=False)
    outbox: WorkerSettings = field(default_factory=WorkerSettings, repr=False)
    # A face engine the caller owns (tests share one); without it one is started on first use and closed here.
    face_engine: FaceEngine | None = field(default=None, repr=False)
    face_warming: asyncio.Task[None] | None = field(default=None, repr=False)  # started by readiness
    rule_sets: InEffect = field(default_factory=InEffect, repr=False)
    # Attached by the root's lifespan (`attach`), reset by `detach`.
    miniprogram_platforms: dict[str, MiniProgramPlatform] = field(default_factory=dict, repr=False)
    bank: Bank = field(default_factory=NoBank, repr=False)
    fund_centre: FundCentre = field(default_factory=NoFundCentre, repr=False)  # the system of record (issue 12)
    _pool: asyncpg.Pool | None = field(default=None, init=False, repr=False)
    _sources: Sources | None = field(default=None, init=False, repr=False)
    _notifier: Notifier | None = field(default=None, init=False, repr=False)
    _face: FaceEngine | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._face = self.face_engine

    def attach_pool(self, pool: asyncpg.Pool, *, notifier: Notifier | None = None) -> None:
        """The database pool the lifespan opened, and the notification channel that writes through it."""
        self._pool = pool
        if notifier is not None:
            self._notifier = notifier

    def attach(
        self,
        *,
        sources: Sources | None = None,
        platforms: dict[str, MiniProgramPlatform] | None = None,
        bank: Bank | None = None,
        fund_centre: FundCentre | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        """The outside systems the lifespan connected; a part not given stays as it is."""
        if sources is not None:
            self._sources = sources
        if platforms is not None:
            self.miniprogram_platforms = platforms
        if bank is not None:
            self.bank = bank
        if fund_centre is not None:
            self.fund_centre = fund_centre
        if notifier is not None:
            self._notifier = notifier

    def detach(self) -> asyncpg.Pool | None:
        """Forget the lifespan's pool and source systems; returns the pool for the caller to close."""
        pool, self._pool = self._pool, None
        self._sources = None
        self.miniprogram_platforms = {}
        return pool

    async def close_face(self) -> None:
        """Stop the face engine this runtime started (one the caller passed in is the caller's to close)."""
        if self._face is not None and self._face is not self.face_engine:
            await self._face.close()
        self._face = self.face_engine

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise Unavailable("database pool is not open")
        return self._pool

    @property
    def face(self) -> FaceEngine:
        """The face engine, started on first use so routes without faces never pay for it."""
        if self._face is None:
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
