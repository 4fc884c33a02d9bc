"""The composition root's shared half: what the app, `haoban worker` and `haoban serve` build alike.

`app.py` (the HTTP app), `outbox/main.py` (the worker and reconcile commands)
and `serve.py` (the demo loader) build their runtime here, so every process
wires the slices the same way: the applications slice hears of final payouts,
and the outbox worker runs each kind with the handler listed below. No slice
imports this module; slices receive what they need from it as arguments.
"""

from __future__ import annotations

from haoban.applications.delivery import deliver as deliver_notification
from haoban.applications.delivery import deliver_many as deliver_notifications
from haoban.applications.service import NOTIFY_KIND, PayoutFinal
from haoban.citizens.vault import IdNumberVault
from haoban.fundcentre.handlers import REVERSE_KIND, reverse_debit
from haoban.identity.codes import PHONE_NOTICE_KIND, send_phone_notice
from haoban.identity.face.engine import FaceEngine
from haoban.kit.clock import Clock
from haoban.kit.crypto import FieldCipher
from haoban.limits.service import Limiter
from haoban.outbox.service import BatchHandler, Handler
from haoban.outbox.worker import Worker
from haoban.payouts.handlers import SEND_KIND, send_payout
from haoban.runtime import Runtime
from haoban.settings import Settings
from haoban.tokens.service import KeyRing, TokenService


def build_runtime(
    settings: Settings, *, database_url: str, clock: Clock, face_engine: FaceEngine | None = None
) -> Runtime:
    """Every part that does not need a running event loop; the lifespan attaches the rest.

    `face_engine`: one the caller owns and closes (tests share one); without it the
    runtime starts its own on first use.
    """
    cipher = FieldCipher(settings.security.field_keys)
    keyring = KeyRing(cipher, clock)
    return Runtime(
        settings=settings,
        database_url=database_url,
        clock=clock,
        cipher=cipher,
        keyring=keyring,
        tokens=TokenService(settings=settings.security, keyring=keyring, clock=clock, sandbox=settings.sandbox),
        vault=IdNumberVault(cipher, settings.security.token_hmac_key),
        limiter=Limiter(settings.security.token_hmac_key, scale=settings.security.limits_scale),
        payout_listener=PayoutFinal(),
        outbox=settings.outbox,
        face_engine=face_engine,
    )


def outbox_handlers() -> dict[str, Handler]:
    """Every outbox kind and its handler, in one place."""
    return {
        SEND_KIND: send_payout,
        NOTIFY_KIND: deliver_notification,
        PHONE_NOTICE_KIND: send_phone_notice,
        REVERSE_KIND: reverse_debit,
    }


def outbox_batch_handlers() -> dict[str, BatchHandler]:
    """Kinds whose claimed rows the worker hands over together (cheap, local work; not the bank)."""
    return {
        NOTIFY_KIND: deliver_notifications,
    }


def outbox_worker(runtime: Runtime) -> Worker:
    """The outbox worker with every kind's handler, on the runtime's worker settings."""
    return Worker(runtime, runtime.outbox, outbox_handlers(), outbox_batch_handlers())
