"""Every outbox kind and its handler, in one place."""

from __future__ import annotations

from haoban.applications.delivery import deliver as deliver_notification
from haoban.applications.delivery import deliver_many as deliver_notifications
from haoban.fundcentre.handlers import REVERSE_KIND, reverse_debit
from haoban.identity.codes import PHONE_NOTICE_KIND, send_phone_notice
from haoban.outbox.service import BatchHandler, Handler
from haoban.payouts.handlers import send_payout


def handlers() -> dict[str, Handler]:
    return {
        "payout.send": send_payout,
        "notification.deliver": deliver_notification,
        PHONE_NOTICE_KIND: send_phone_notice,
        REVERSE_KIND: reverse_debit,
    }


def batch_handlers() -> dict[str, BatchHandler]:
    """Kinds whose claimed rows the worker hands over together (cheap, local work; not the bank)."""
    return {
        "notification.deliver": deliver_notifications,
    }
