"""Mini-program platform settings, read once from the environment by `load_miniprogram_settings`.

A platform is configured when all of its variables are set; none set means the
sandbox platform (sandbox mode) or no platform (404). Some but not all is a
startup error naming what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from haoban.kit.settings_error import SettingsError

WECHAT_URL = "https://api.weixin.qq.com/sns/jscode2session"
ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do"


class WeChatSettings(msgspec.Struct, frozen=True, kw_only=True):
    appid: str
    secret: str
    url: str = WECHAT_URL

    def __repr__(self) -> str:
        return f"WeChatSettings(appid={self.appid!r}, secret=***, url={self.url!r})"


class AlipaySettings(msgspec.Struct, frozen=True, kw_only=True):
    app_id: str
    private_key_pem: str
    alipay_public_key_pem: str  # verifies the `sign` of Alipay's responses
    gateway: str = ALIPAY_GATEWAY

    def __repr__(self) -> str:
        return f"AlipaySettings(app_id={self.app_id!r}, private_key_pem=***, gateway={self.gateway!r})"


class MiniProgramSettings(msgspec.Struct, frozen=True, kw_only=True):
    wechat: WeChatSettings | None = None
    alipay: AlipaySettings | None = None
    timeout_ms: int = 3000


def _group(env: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str] | None:
    present = {name: env[name] for name in names if env.get(name)}
    if not present:
        return None
    missing = [name for name in names if name not in present]
    if missing:
        raise SettingsError(f"mini-program settings incomplete; missing: {', '.join(missing)}")
    return present


def load_miniprogram_settings(env: Mapping[str, str]) -> MiniProgramSettings:
    """HAOBAN_WECHAT_APPID + HAOBAN_WECHAT_SECRET; HAOBAN_ALIPAY_APP_ID + HAOBAN_ALIPAY_PRIVATE_KEY
    + HAOBAN_ALIPAY_PUBLIC_KEY (both PEM; the public key is Alipay's, for its response signatures).

    Optional: HAOBAN_WECHAT_URL, HAOBAN_ALIPAY_GATEWAY, HAOBAN_MINIPROGRAM_TIMEOUT_MS.
    """
    wechat = _group(env, ("HAOBAN_WECHAT_APPID", "HAOBAN_WECHAT_SECRET"))
    alipay = _group(env, ("HAOBAN_ALIPAY_APP_ID", "HAOBAN_ALIPAY_PRIVATE_KEY", "HAOBAN_ALIPAY_PUBLIC_KEY"))
    raw_timeout = env.get("HAOBAN_MINIPROGRAM_TIMEOUT_MS", "3000")
    if not raw_timeout.isdigit() or not 100 <= int(raw_timeout) <= 30_000:
        raise SettingsError("HAOBAN_MINIPROGRAM_TIMEOUT_MS must be an integer between 100 and 30000")
    return MiniProgramSettings(
        wechat=WeChatSettings(
            appid=wechat["HAOBAN_WECHAT_APPID"],
            secret=wechat["HAOBAN_WECHAT_SECRET"],
            url=env.get("HAOBAN_WECHAT_URL", WECHAT_URL),
        )
        if wechat
        else None,
        alipay=AlipaySettings(
            app_id=alipay["HAOBAN_ALIPAY_APP_ID"],
            private_key_pem=alipay["HAOBAN_ALIPAY_PRIVATE_KEY"].replace("\\n", "\n"),
            alipay_public_key_pem=alipay["HAOBAN_ALIPAY_PUBLIC_KEY"].replace("\\n", "\n"),
            gateway=env.get("HAOBAN_ALIPAY_GATEWAY", ALIPAY_GATEWAY),
        )
        if alipay
        else None,
        timeout_ms=int(raw_timeout),
    )
