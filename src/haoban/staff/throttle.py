"""Staff sign-in limits that an attacker cannot turn against the staff member (NIST SP 800-63B §5.2.2).

- Per username **at one source address**: consecutive failures grow a wait (after 3:
  2 s, then 4, 8 … up to 15 minutes). Someone else's failures, from another address,
  never delay the staff member; knowing a username is not enough to lock it.
- Per source address, whatever the username: 30 attempts a minute, 300 an hour
  (password spraying across many usernames from one address).

There is no per-username lock from failures alone. NIST's bound of 100 consecutive
failures per account is met per address; an attacker with many addresses is left to
the audit trail (`staff.login_failed` rows carry the address's keyed hash) and to the
per-address windows. Counts live in PostgreSQL (`haoban.limits`), so they hold
across replicas.
"""

from __future__ import annotations

from datetime import datetime

from haoban.kit.errors import AppError
from haoban.limits.rules import Backoff, Window
from haoban.limits.service import RateLimited
from haoban.runtime import Runtime

PER_ADDRESS = (Window(60, 30), Window(3600, 300))
PER_USERNAME_AT_ADDRESS = Backoff(after=3, first_s=2, max_s=15 * 60)
_ADDRESS_SCOPE = "staff.login.address"
_STREAK_SCOPE = "staff.login.username_address"


class StaffLoginLocked(AppError):
    status = 429
    code = "staff_login_locked"


def _streak_key(username: str, address: str) -> str:
    return f"{username}\x1f{address}"


async def before_attempt(runtime: Runtime, *, username: str, address: str, now: datetime) -> None:
    """Count this sign-in against the address's windows and the username-at-address streak; raise while limited."""
    pool = runtime.pool  # not the request's connection: a refused attempt must stay counted
    await runtime.limiter.hit(
        pool, scope=_ADDRESS_SCOPE, key=address, rules=PER_ADDRESS, now=now, detail="Too many sign-ins from here."
    )
    try:
        await runtime.limiter.attempt(
            pool, scope=_STREAK_SCOPE, key=_streak_key(username, address), backoff=PER_USERNAME_AT_ADDRESS, now=now
        )
    except RateLimited as exc:
        wait = int(exc.headers.get("Retry-After", "1"))
        raise StaffLoginLocked(
            "Too many failed sign-ins; wait and retry.",
            headers={"Retry-After": str(wait)},
            extra={"retry_after_s": wait},
        ) from None


async def succeeded(runtime: Runtime, *, username: str, address: str) -> None:
    await runtime.limiter.succeeded(runtime.pool, scope=_STREAK_SCOPE, key=_streak_key(username, address))
