"""The PostgreSQL rate limiter (haoban.limits): pure policy, atomic hits across replicas, streaks, keys, pruning."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from haoban.db.pool import connect
from haoban.kit.settings_error import SettingsError
from haoban.limits import service as limits
from haoban.limits.http import source_address
from haoban.limits.rules import Backoff, Window, delay_s, retry_after, schedule, window_start
from haoban.limits.service import Limiter, RateLimited
from tests.conftest import HMAC_KEY, make_settings

SECRET = HMAC_KEY.encode()
T0 = datetime(2026, 12, 7, 10, 0, 30, tzinfo=UTC)
SENDS = (Window(60, 1), Window(3600, 5), Window(86_400, 10))


# --- pure policy --------------------------------------------------------------


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive; timezones= adds UTC)
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    )
)
def test_windows_are_aligned_so_every_replica_agrees(now: datetime) -> None:
    for seconds in (1, 60, 3600, 86_400):
        start = window_start(now, seconds)
        assert start <= now < start + timedelta(seconds=seconds)
        assert int(start.timestamp()) % seconds == 0


def test_retry_after_waits_for_the_longest_full_window() -> None:
    now = T0  # 30 s into its minute, 30 s into its hour
    assert retry_after(SENDS, {60: 1, 3600: 1, 86_400: 1}, now) is None
    assert retry_after(SENDS, {60: 2, 3600: 2, 86_400: 2}, now) == 30
    assert retry_after(SENDS, {60: 1, 3600: 6, 86_400: 6}, now) == 3600 - 30


def test_the_wait_grows_after_the_streak_and_is_capped() -> None:
    backoff = Backoff(after=10, first_s=60, max_s=3600)
    assert [delay_s(backoff, n) for n in (1, 9, 10, 11, 12, 13, 14, 15, 40)] == [
        0,
        0,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    assert schedule(backoff) == [60, 120, 240, 480, 960, 1920, 3600]
    assert schedule(Backoff(after=1_000_000, first_s=5, max_s=5)) == [5]  # no list of a million entries


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Window(0, 1)
    with pytest.raises(ValueError, match="after >= 1"):
        Backoff(after=0, first_s=1, max_s=1)


# --- source address -------------------------------------------------------------


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    trusted = ("10.0.0.0/8",)
    assert source_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"
    assert source_address("203.0.113.9", "198.51.100.1", trusted) == "203.0.113.9"  # the peer is not a proxy
    assert source_address("10.1.2.3", "198.51.100.1", trusted) == "198.51.100.1"
    # A client's own X-Forwarded-For entry is to the left of what the proxies added: not believed.
    assert source_address("10.1.2.3", "1.2.3.4, 198.51.100.1, 10.9.9.9", trusted) == "198.51.100.1"
    assert source_address("10.1.2.3", None, trusted) == "10.1.2.3"


def test_trusted_proxies_are_read_once_and_checked(db_url: str) -> None:
    settings = make_settings(db_url, HAOBAN_TRUSTED_PROXIES="10.0.0.0/8, 192.0.2.1")
    assert settings.http.trusted_proxies == ("10.0.0.0/8", "192.0.2.1/32")
    with pytest.raises(SettingsError, match="HAOBAN_TRUSTED_PROXIES"):
        make_settings(db_url, HAOBAN_TRUSTED_PROXIES="not-an-address")
    with pytest.raises(SettingsError, match="HAOBAN_LIMITS_SCALE"):
        make_settings(db_url, HAOBAN_SANDBOX="false", HAOBAN_LIMITS_SCALE="10")


# --- against PostgreSQL -----------------------------------------------------------


async def test_a_hit_counts_every_window_and_refuses_with_retry_after(db: asyncpg.Connection) -> None:
    limiter = Limiter(SECRET)
    await limiter.hit(db, scope="otp.send.phone", key="13812345678", rules=SENDS, now=T0)
    with pytest.raises(RateLimited) as refused:
        await limiter.hit(db, scope="otp.send.phone", key="13812345678", rules=SENDS, now=T0 + timedelta(seconds=5))
    assert refused.value.status == 429
    assert refused.value.code == "rate_limited"
    assert refused.value.headers["Retry-After"] == "25"
    # Another key and another scope have counts of their own.
    await limiter.hit(db, scope="otp.send.phone", key="13912345678", rules=SENDS, now=T0)
    await limiter.hit(db, scope="otp.send.identity", key="13812345678", rules=SENDS, now=T0)
    # The refused hit was taken back: each next minute allows one more, until the hour's five are used.
    for minute in range(1, 5):
        await limiter.hit(
            db, scope="otp.send.phone", key="13812345678", rules=SENDS, now=T0 + timedelta(minutes=minute)
        )
    with pytest.raises(RateLimited) as hourly:
        await limiter.hit(db, scope="otp.send.phone", key="13812345678", rules=SENDS, now=T0 + timedelta(minutes=5))
    assert int(hourly.value.headers["Retry-After"]) > 60


async def test_keys_are_keyed_hashes_never_the_values(db: asyncpg.Connection) -> None:
    limiter = Limiter(SECRET)
    await limiter.hit(db, scope="face.challenge.address", key="203.0.113.77", rules=(Window(60, 5),), now=T0)
    await limiter.attempt(
        db, scope="otp.verify.identity", key="410105199005170011", backoff=Backoff(after=3, first_s=1, max_s=9), now=T0
    )
    dump = str(await db.fetch("SELECT * FROM rate_limit_hits")) + str(
        await db.fetch("SELECT * FROM rate_limit_streaks")
    )
    assert "203.0.113.77" not in dump
    assert b"203.0.113.77".hex() not in dump
    assert "410105199005170011" not in dump
    other = Limiter(b"another-deployment-secret-of-32-bytes!!")
    assert other.key("s", "v") != limiter.key("s", "v")


async def test_concurrent_hits_on_two_replicas_never_pass_the_limit(db_url: str) -> None:
    """Two pools stand for two API replicas: the count is in the database, so together they allow exactly the limit."""
    pools = [await asyncpg.create_pool(db_url, min_size=4, max_size=4) for _ in range(2)]
    replicas = [Limiter(SECRET), Limiter(SECRET)]
    try:
        rules = (Window(60, 7), Window(3600, 50))

        async def one(i: int) -> bool:
            verdict = await replicas[i % 2].count(pools[i % 2], scope="bench", key="k", rules=rules, now=T0)
            return verdict.allowed

        allowed = await asyncio.gather(*(one(i) for i in range(60)))
        assert sum(allowed) == 7
    finally:
        for pool in pools:
            await pool.close()


async def test_a_streak_locks_with_a_growing_wait_even_under_concurrency(db_url: str) -> None:
    pool = await asyncpg.create_pool(db_url, min_size=6, max_size=6)
    limiter = Limiter(SECRET)
    backoff = Backoff(after=10, first_s=60, max_s=3600)
    try:

        async def one() -> bool:
            try:
                await limiter.attempt(pool, scope="otp.verify.identity", key="me", backoff=backoff, now=T0)
            except RateLimited:
                return False
            return True

        passed = await asyncio.gather(*(one() for _ in range(40)))
        assert sum(passed) == 10  # counted before the outcome: the lock holds for attempts in flight
        with pytest.raises(RateLimited) as locked:
            await limiter.attempt(pool, scope="otp.verify.identity", key="me", backoff=backoff, now=T0)
        assert locked.value.headers["Retry-After"] == "60"
        later = T0 + timedelta(seconds=61)
        assert await limiter.attempt(pool, scope="otp.verify.identity", key="me", backoff=backoff, now=later) == 11
        with pytest.raises(RateLimited) as longer:
            await limiter.attempt(pool, scope="otp.verify.identity", key="me", backoff=backoff, now=later)
        assert longer.value.headers["Retry-After"] == "120"
        await limiter.succeeded(pool, scope="otp.verify.identity", key="me")
        assert await limiter.attempt(pool, scope="otp.verify.identity", key="me", backoff=backoff, now=later) == 1
    finally:
        await pool.close()


async def test_check_refuses_a_full_window_without_counting(db: asyncpg.Connection) -> None:
    limiter = Limiter(SECRET)
    rules = (Window(60, 2),)
    for _ in range(5):
        await limiter.check(db, scope="bad", key="k", rules=rules, now=T0)
    await limiter.hit(db, scope="bad", key="k", rules=rules, now=T0)
    await limiter.hit(db, scope="bad", key="k", rules=rules, now=T0)
    with pytest.raises(RateLimited):
        await limiter.check(db, scope="bad", key="k", rules=rules, now=T0)
    assert await db.fetchval("SELECT count FROM rate_limit_hits") == 2


async def test_housekeeping_prunes_ended_windows_and_forgotten_streaks(db_url: str) -> None:
    conn = await connect(db_url)
    limiter = Limiter(SECRET)
    try:
        await limiter.hit(conn, scope="a", key="k", rules=(Window(60, 5), Window(86_400, 50)), now=T0)
        await limiter.attempt(conn, scope="s", key="k", backoff=Backoff(after=2, first_s=1, max_s=1), now=T0)
        async with conn.transaction():
            assert await limits.prune(conn, T0 + timedelta(minutes=2)) == 1  # the minute ended, the day did not
        async with conn.transaction():
            assert await limits.prune(conn, T0 + timedelta(days=2)) == 2
        assert await conn.fetchval("SELECT count(*) FROM rate_limit_hits") == 0
        assert await conn.fetchval("SELECT count(*) FROM rate_limit_streaks") == 0
    finally:
        await conn.close()
