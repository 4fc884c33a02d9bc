"""Every outbox kind and its handler, in one place."""

from __future__ import annotations

from haoban.applications.delivery import deliver as deliver_notification
from haoban.outbox.service import Handler
from haoban.payouts.handlers import send_payout


def handlers() -> dict[str, Handler]:
    return {
        "payout.send": send_payout,
        "notification.deliver": deliver_notification,
    }
