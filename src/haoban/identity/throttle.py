"""Per-identity throttling of failed face matches (NIST SP 800-63B §5.2.2), pure.

After `LOCK_AFTER` consecutive failed matches every further attempt waits
`WAIT_S`; after `DISABLE_AFTER` face login is disabled until a staff member
re-enables it. A success resets the count.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import msgspec

from haoban.limits.rules import Backoff, Window

LOCK_AFTER = 5
WAIT_S = 30
DISABLE_AFTER = 50


class ThrottleState(msgspec.Struct, frozen=True, kw_only=True):
    consecutive_failures: int = 0
    locked_until: datetime | None = None
    disabled_at: datetime | None = None


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    disabled: bool = False
    retry_after_s: int = 0


def check(state: ThrottleState, now: datetime) -> Verdict:
    if state.disabled_at is not None:
        return Verdict(allowed=False, disabled=True)
    if state.locked_until is not None and state.locked_until > now:
        return Verdict(allowed=False, retry_after_s=math.ceil((state.locked_until - now).total_seconds()))
    return Verdict(allowed=True)


def after_failure(state: ThrottleState, now: datetime) -> ThrottleState:
    failures = state.consecutive_failures + 1
    if failures >= DISABLE_AFTER:
        return ThrottleState(consecutive_failures=failures, locked_until=None, disabled_at=now)
    locked = now + timedelta(seconds=WAIT_S) if failures >= LOCK_AFTER else None
    return ThrottleState(consecutive_failures=failures, locked_until=locked, disabled_at=None)


def after_success() -> ThrottleState:
    return ThrottleState()


# --- abuse limits (haoban.limits), keyed per source address, identity and phone; never per app client -----------
# Per-address limits are generous: many phones share one carrier-NAT address.

# Challenges allow twice the unusable-frame limits, so that a flood of bad frames meets its own limit first.
CHALLENGES_PER_ADDRESS = (Window(60, 120), Window(3600, 1200))
CHALLENGES_PER_IDENTITY = (Window(60, 20), Window(3600, 120))
# Unusable frames (no face, broken image, replay...): checked before the face work, counted after it.
BAD_FRAMES_PER_ADDRESS = (Window(60, 60), Window(3600, 600))
BAD_FRAMES_PER_IDENTITY = (Window(60, 10), Window(3600, 60))
# One-time codes (NIST SP 800-63B §5.1.3 / §5.2.2): sends per identity and per phone,
# verifies per address, and consecutive wrong codes across codes lock the identity.
CODE_SENDS = (Window(60, 1), Window(3600, 5), Window(86_400, 10))
CODE_SENDS_PER_ADDRESS = (Window(60, 20), Window(3600, 200))
CODE_VERIFIES_PER_ADDRESS = (Window(60, 60), Window(3600, 600))
CODE_FAILURES = Backoff(after=10, first_s=60, max_s=86_400)
