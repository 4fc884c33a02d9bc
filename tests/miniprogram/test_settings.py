"""`load_miniprogram_settings`: all of a platform's variables or none."""

from __future__ import annotations

import pytest

from haoban.kit.settings_error import SettingsError
from haoban.miniprogram.settings import load_miniprogram_settings


def test_nothing_configured_means_no_http_platform() -> None:
    settings = load_miniprogram_settings({})
    assert settings.wechat is None
    assert settings.alipay is None


def test_a_configured_platform() -> None:
    settings = load_miniprogram_settings(
        {"HAOBAN_WECHAT_APPID": "wx1", "HAOBAN_WECHAT_SECRET": "s3cret", "HAOBAN_MINIPROGRAM_TIMEOUT_MS": "2000"}
    )
    assert settings.wechat is not None
    assert settings.wechat.appid == "wx1"
    assert "s3cret" not in repr(settings.wechat)
    assert settings.timeout_ms == 2000


def test_a_half_configured_platform_names_what_is_missing() -> None:
    with pytest.raises(SettingsError, match="HAOBAN_ALIPAY_PRIVATE_KEY"):
        load_miniprogram_settings({"HAOBAN_ALIPAY_APP_ID": "2021"})


def test_a_bad_timeout_is_refused() -> None:
    with pytest.raises(SettingsError, match="TIMEOUT"):
        load_miniprogram_settings({"HAOBAN_MINIPROGRAM_TIMEOUT_MS": "fast"})


def test_alipay_needs_alipays_public_key_to_check_its_answers() -> None:
    with pytest.raises(SettingsError, match="HAOBAN_ALIPAY_PUBLIC_KEY"):
        load_miniprogram_settings({"HAOBAN_ALIPAY_APP_ID": "2021", "HAOBAN_ALIPAY_PRIVATE_KEY": "pem"})
    settings = load_miniprogram_settings(
        {
            "HAOBAN_ALIPAY_APP_ID": "2021",
            "HAOBAN_ALIPAY_PRIVATE_KEY": "pem",
            "HAOBAN_ALIPAY_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\\nAB\\n-----END PUBLIC KEY-----",
        }
    )
    assert settings.alipay is not None
    assert settings.alipay.alipay_public_key_pem == "-----BEGIN PUBLIC KEY-----\nAB\n-----END PUBLIC KEY-----"
