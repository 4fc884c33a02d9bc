"""Settings are validated at start and a bad one is named."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from haoban.kit.settings_error import SettingsError
from haoban.settings import load_settings
from tests.conftest import server_env

URL = "postgresql://u@127.0.0.1/db"


def test_valid_production_settings_are_frozen() -> None:
    settings = load_settings(server_env(URL))
    assert settings.mode == "production"
    assert settings.database.url == URL
    with pytest.raises(AttributeError):
        settings.mode = "demo"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HAOBAN_PORT", "eighty"),
        ("HAOBAN_PORT", "70000"),
        ("HAOBAN_WORKERS", "0"),
        ("HAOBAN_SANDBOX", "maybe"),
        ("HAOBAN_FIELD_KEYS", "nokid"),
        ("HAOBAN_FIELD_KEYS", "k1:" + base64.urlsafe_b64encode(b"short").decode()),
        ("HAOBAN_TOKEN_HMAC_KEY", "!!!"),
        ("HAOBAN_ISSUER", "https://haoban.test/"),
        ("HAOBAN_ISSUER", "http://plain.example"),
        ("HAOBAN_ACCESS_TOKEN_TTL_S", "3600"),
        ("HAOBAN_MODE", "staging"),
        ("DATABASE_URL", "mysql://x"),
        ("HAOBAN_LOG_LEVEL", "LOUD"),
    ],
)
def test_bad_value_is_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**server_env(URL), name: value})


@pytest.mark.parametrize("name", ["DATABASE_URL", "HAOBAN_FIELD_KEYS", "HAOBAN_TOKEN_HMAC_KEY"])
def test_production_requires_secrets_and_database(name: str) -> None:
    env = server_env(URL)
    del env[name]
    with pytest.raises(SettingsError, match=name):
        load_settings(env)


def test_demo_generates_secrets_once_and_keeps_them(tmp_path: Path) -> None:
    env = {"HAOBAN_DATA_DIR": str(tmp_path)}
    first = load_settings(env, demo=True)
    second = load_settings(env, demo=True)
    assert first.security.field_keys == second.security.field_keys
    assert first.security.token_hmac_key == second.security.token_hmac_key
    secrets_file = tmp_path / "demo-secrets.json"
    assert secrets_file.stat().st_mode & 0o077 == 0
    assert first.sandbox
    assert first.database.url is None


def test_sandbox_is_off_by_default_in_production() -> None:
    env = server_env(URL)
    del env["HAOBAN_SANDBOX"]
    assert load_settings(env).sandbox is False


def test_each_slice_settings_come_with_the_rest() -> None:
    """The outbox worker, mini-program and metrics settings are read by `load_settings`, from the same variables."""
    settings = load_settings(
        server_env(
            URL,
            HAOBAN_OUTBOX_WORKER="false",
            HAOBAN_OUTBOX_POLL_MS="50",
            HAOBAN_READY_OUTBOX_LAG_S="60",
            HAOBAN_WECHAT_APPID="wx1",
            HAOBAN_WECHAT_SECRET="s3cret",
            HAOBAN_METRICS_TOKEN="m" * 32,
            PROMETHEUS_MULTIPROC_DIR="/srv/haoban/metrics",
        )
    )
    assert not settings.outbox.enabled
    assert settings.outbox.poll_ms == 50
    assert settings.outbox.ready_lag_s == 60
    assert settings.miniprogram.wechat is not None
    assert settings.miniprogram.wechat.appid == "wx1"
    assert settings.miniprogram.alipay is None
    assert settings.observability.metrics_token == "m" * 32
    assert not settings.observability.metrics_open
    assert settings.observability.multiprocess_dir == "/srv/haoban/metrics"


def test_slice_settings_default_when_unset() -> None:
    settings = load_settings(server_env(URL))
    assert settings.outbox.enabled
    assert settings.miniprogram.wechat is None
    assert settings.observability.metrics_token is None
    assert settings.observability.multiprocess_dir is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HAOBAN_OUTBOX_WORKER", "maybe"),
        ("HAOBAN_OUTBOX_BATCH", "0"),
        ("HAOBAN_METRICS_TOKEN", "short"),
        ("HAOBAN_MINIPROGRAM_TIMEOUT_MS", "fast"),
        ("HAOBAN_ALIPAY_APP_ID", "2021"),  # without its keys
    ],
)
def test_a_bad_slice_setting_is_named_at_load(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name if name != "HAOBAN_ALIPAY_APP_ID" else "HAOBAN_ALIPAY_PRIVATE_KEY"):
        load_settings(server_env(URL, **{name: value}))


def test_reconciliation_runs_a_minute_after_start_then_daily_and_is_set_in_seconds() -> None:
    default = load_settings(server_env(URL)).fund_centre
    assert (default.reconcile_first_s, default.reconcile_every_s) == (60, 86_400)
    tuned = load_settings(
        server_env(URL, HAOBAN_FUND_CENTRE_RECONCILE_S="3600", HAOBAN_FUND_CENTRE_RECONCILE_FIRST_S="5")
    ).fund_centre
    assert (tuned.reconcile_first_s, tuned.reconcile_every_s) == (5, 3600)
    with pytest.raises(SettingsError, match="HAOBAN_FUND_CENTRE_RECONCILE_FIRST_S"):
        load_settings(server_env(URL, HAOBAN_FUND_CENTRE_RECONCILE_FIRST_S="-1"))
    with pytest.raises(SettingsError, match="HAOBAN_FUND_CENTRE_RECONCILE_S"):  # the old name in hours is refused
        load_settings(server_env(URL, HAOBAN_FUND_CENTRE_RECONCILE_H="24"))
