"""Outbox worker settings, read once from the environment by `load_worker_settings`."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from haoban.kit.settings_error import SettingsError


class WorkerSettings(msgspec.Struct, frozen=True, kw_only=True):
    enabled: bool = True  # run the worker inside `serve`
    poll_ms: int = 500  # idle wait between polls
    batch: int = 50  # rows claimed (and run concurrently) per poll
    lease_s: int = 60  # a claimed row is due again after this if the worker dies
    backoff_base_ms: int = 1000  # first retry delay; doubles per attempt, with jitter
    backoff_max_s: int = 300
    ready_lag_s: int = 300  # readiness fails when the oldest pending row is older than this


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def load_worker_settings(env: Mapping[str, str]) -> WorkerSettings:
    raw = (env.get("HAOBAN_OUTBOX_WORKER") or "true").strip().lower()
    if raw not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise SettingsError(f"HAOBAN_OUTBOX_WORKER must be true or false, got {raw!r}")
    return WorkerSettings(
        enabled=raw in {"1", "true", "yes", "on"},
        poll_ms=_int(env, "HAOBAN_OUTBOX_POLL_MS", 500, 10, 60_000),
        batch=_int(env, "HAOBAN_OUTBOX_BATCH", 50, 1, 500),
        lease_s=_int(env, "HAOBAN_OUTBOX_LEASE_S", 60, 1, 3600),
        backoff_base_ms=_int(env, "HAOBAN_OUTBOX_BACKOFF_BASE_MS", 1000, 1, 600_000),
        backoff_max_s=_int(env, "HAOBAN_OUTBOX_BACKOFF_MAX_S", 300, 1, 86_400),
        ready_lag_s=_int(env, "HAOBAN_READY_OUTBOX_LAG_S", 300, 1, 86_400),
    )
