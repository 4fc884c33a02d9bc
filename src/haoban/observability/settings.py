"""Who may read `/metrics`, and where several workers keep their metrics: read once by `load_settings`."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from haoban.kit.settings_error import SettingsError

MIN_TOKEN_LENGTH = 32
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own variable; `serve` sets it for several workers


class ObservabilitySettings(msgspec.Struct, frozen=True, kw_only=True):
    # Bearer token for GET /metrics. Production without one: /metrics is off (404).
    # Demo without one: open, so a tester can look.
    metrics_token: str | None = None
    metrics_open: bool = False
    # Set: every worker writes its metrics to files here and a scrape adds them up (haoban.observability.metrics).
    multiprocess_dir: str | None = None


def load_observability_settings(env: Mapping[str, str], *, demo: bool) -> ObservabilitySettings:
    token = (env.get("HAOBAN_METRICS_TOKEN") or "").strip() or None
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise SettingsError(f"HAOBAN_METRICS_TOKEN must be at least {MIN_TOKEN_LENGTH} characters")
    return ObservabilitySettings(
        metrics_token=token, metrics_open=demo and token is None, multiprocess_dir=env.get(MULTIPROC_ENV) or None
    )
