"""Typed, frozen settings read once from the environment.

Nothing here runs at import time: `load_settings` is called by the CLI or by
`create_app`'s caller, and every bad value is reported with its variable name.
This is the one place the environment is read: each slice's own settings (outbox,
mini-program, observability, face) come from its loader, called from here.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

import msgspec

from haoban.identity.face.settings import FaceSettings, load_face_settings
from haoban.kit.settings_error import SettingsError
from haoban.miniprogram.settings import MiniProgramSettings, load_miniprogram_settings
from haoban.observability.settings import ObservabilitySettings, load_observability_settings
from haoban.outbox.settings import WorkerSettings, load_worker_settings

Mode = Literal["production", "demo"]

MAX_ACCESS_TTL_S = 900


class FieldKey(msgspec.Struct, frozen=True):
    kid: str
    key: bytes


class DatabaseSettings(msgspec.Struct, frozen=True, kw_only=True):
    url: str | None
    pool_min: int = 1
    pool_max: int = 10
    statement_timeout_ms: int = 15_000


class HttpSettings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_body_bytes: int = 1_048_576
    # Proxies (addresses or CIDR networks) whose X-Forwarded-For is believed; none by default.
    trusted_proxies: tuple[str, ...] = ()
    # Browser origins (H5 pages) allowed to call the API cross-origin; none by default (haoban.cors).
    cors_origins: tuple[str, ...] = ()


class SecuritySettings(msgspec.Struct, frozen=True, kw_only=True):
    field_keys: tuple[FieldKey, ...]
    token_hmac_key: bytes
    issuer: str
    api_audience: str = "haoban-api"
    access_token_ttl_s: int = 600
    refresh_token_ttl_s: int = 30 * 24 * 3600
    # Device attestation of the first-party app (`haoban-app`): required in production, relaxed in the demo.
    app_attestation: Literal["required", "optional"] = "required"
    # Every abuse limit (haoban.limits) times this; above 1 only with the sandbox on (load benches).
    limits_scale: int = 1


SOURCE_NAMES = ("identity", "household", "housing_fund", "estate", "marriage", "social_security")


class DepartmentCredential(msgspec.Struct, frozen=True, kw_only=True):
    """A department system allowed to write records of some sources."""

    department: str
    sources: frozenset[str]
    secret_sha256: bytes


class ExchangeSettings(msgspec.Struct, frozen=True, kw_only=True):
    frontdb_url: str | None = None
    frontdb_pool_max: int = 10
    source_timeout_ms: int = 1500
    http_sources: dict[str, str] = msgspec.field(default_factory=dict)
    http_tokens: dict[str, str] = msgspec.field(default_factory=dict)
    http_retries: int = 2
    breaker_failures: int = 5
    breaker_reset_s: int = 30
    departments: tuple[DepartmentCredential, ...] = ()


class BankSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The HTTP bank (haoban.payouts.http_bank); no base_url means the sandbox bank or none."""

    base_url: str | None = None
    key_id: str = "haoban"
    secret: str = ""
    timeout_ms: int = 3000
    retries: int = 3
    poll_ms: int = 200
    breaker_failures: int = 5
    breaker_reset_s: int = 30

    def __repr__(self) -> str:
        return f"BankSettings(base_url={self.base_url!r}, key_id={self.key_id!r}, secret=***)"


class FundCentreSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The fund centre's HTTP API (haoban.fundcentre.http); no base_url means the sandbox one or none."""

    base_url: str | None = None
    token: str = ""
    timeout_ms: int = 2000
    reconcile_every_s: int = 86_400  # how often `serve` reconciles the ledger mirror with the fund centre (0: off)
    reconcile_first_s: int = 60  # the first run, this long after start (so a restart never skips a day)

    def __repr__(self) -> str:
        return (
            f"FundCentreSettings(base_url={self.base_url!r}, token=***,"
            f" reconcile_every_s={self.reconcile_every_s}, reconcile_first_s={self.reconcile_first_s})"
        )


class ServicesSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Applications: the "秒到账" budget and how long idempotency keys are kept."""

    payout_budget_ms: int = 2000
    idempotency_ttl_h: int = 24
    housekeeping_s: int = 60
    # The application event stream (haoban.applications.stream): how often it polls, how long one lasts.
    events_poll_ms: int = 2000
    events_stream_s: int = 300


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    mode: Mode
    sandbox: bool
    data_dir: Path
    log_level: str
    database: DatabaseSettings
    http: HttpSettings
    security: SecuritySettings
    exchange: ExchangeSettings = ExchangeSettings()
    face: FaceSettings
    bank: BankSettings = BankSettings()
    fund_centre: FundCentreSettings = FundCentreSettings()
    services: ServicesSettings = ServicesSettings()
    # Each slice's own settings, read by its loader (haoban.<slice>.settings) from the same environment.
    outbox: WorkerSettings = WorkerSettings()
    miniprogram: MiniProgramSettings = MiniProgramSettings()
    observability: ObservabilitySettings = ObservabilitySettings()

    @property
    def demo(self) -> bool:
        return self.mode == "demo"


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    low = raw.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("HAOBAN_TRUSTED_PROXIES") or ""
    out: list[str] = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(f"HAOBAN_TRUSTED_PROXIES: {part!r} is not an IP address or network") from None
    return tuple(out)


# The H5 page of the demo mini-program client (its redirect URI's origin), allowed by default in demo mode.
DEMO_H5_ORIGIN = "https://miniprogram.example"
_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?")


def _cors_origins(env: Mapping[str, str], mode: Mode) -> tuple[str, ...]:
    """HAOBAN_CORS_ORIGINS: comma-separated origins (scheme://host[:port]); never `*`, https in production."""
    raw = env.get("HAOBAN_CORS_ORIGINS")
    if raw is None:
        return (DEMO_H5_ORIGIN,) if mode == "demo" else ()
    origins: list[str] = []
    for item in raw.split(","):
        origin = item.strip()
        if not origin:
            continue
        if not _ORIGIN.fullmatch(origin):
            raise SettingsError(
                f"HAOBAN_CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port], lowercase, no path)"
            )
        if mode == "production" and not origin.startswith("https://"):
            raise SettingsError(f"HAOBAN_CORS_ORIGINS: {origin!r} must use https in production mode")
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def _app_attestation(env: Mapping[str, str], mode: Mode) -> Literal["required", "optional"]:
    raw = (env.get("HAOBAN_APP_ATTESTATION") or ("optional" if mode == "demo" else "required")).strip().lower()
    if raw == "required":
        return "required"
    if raw == "optional":
        return "optional"
    raise SettingsError(f"HAOBAN_APP_ATTESTATION must be 'required' or 'optional', got {raw!r}")


def _limits_scale(env: Mapping[str, str], sandbox: bool) -> int:
    scale = _int(env, "HAOBAN_LIMITS_SCALE", 1, 1, 1_000_000)
    if scale > 1 and not sandbox:
        raise SettingsError("HAOBAN_LIMITS_SCALE above 1 is for load benches: it needs HAOBAN_SANDBOX=true")
    return scale


def _b64_key(name: str, raw: str, min_len: int = 32) -> bytes:
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (ValueError, TypeError):
        raise SettingsError(f"{name} must be base64") from None
    if len(key) < min_len:
        raise SettingsError(f"{name} must decode to at least {min_len} bytes")
    return key


def parse_field_keys(name: str, raw: str) -> tuple[FieldKey, ...]:
    """Parse `kid:base64key,kid:base64key`; the first key encrypts, all decrypt."""
    keys: list[FieldKey] = []
    for part in raw.split(","):
        kid, sep, b64 = part.strip().partition(":")
        if not sep or not kid or not kid.isalnum():
            raise SettingsError(f"{name} must look like 'kid:base64key[,kid:base64key]'")
        key = _b64_key(name, b64)
        if len(key) != 32:
            raise SettingsError(f"{name} keys must be 32 bytes (AES-256)")
        keys.append(FieldKey(kid=kid, key=key))
    if len({k.kid for k in keys}) != len(keys):
        raise SettingsError(f"{name} has a repeated key id")
    return tuple(keys)


DEMO_SECRETS = "demo-secrets.json"


def _demo_secrets(data_dir: Path) -> dict[str, str]:
    """Generate the demo secrets once and keep them in the data dir (0600)."""
    path = data_dir / DEMO_SECRETS
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted: dict[str, Callable[[], str]] = {
        "HAOBAN_FIELD_KEYS": lambda: "demo1:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "HAOBAN_TOKEN_HMAC_KEY": lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "HAOBAN_DEPARTMENT_CREDENTIALS": lambda: (
            "demo-departments:" + "+".join(SOURCE_NAMES) + ":" + secrets.token_urlsafe(24)
        ),
    }
    missing = {k: make() for k, make in wanted.items() if k not in values}
    if missing:
        values.update(missing)
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(values, fh)
        tmp.replace(path)
    return values


def parse_departments(name: str, raw: str) -> tuple[DepartmentCredential, ...]:
    """Parse `department:source+source:secret,...`; only a hash of each secret is kept."""
    out: list[DepartmentCredential] = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        pieces = part.split(":", 2)
        if len(pieces) != 3 or not all(pieces):
            raise SettingsError(f"{name} must look like 'department:source+source:secret[,...]'")
        department, sources_raw, secret = pieces
        sources = frozenset(sources_raw.split("+"))
        if unknown := sources - set(SOURCE_NAMES):
            raise SettingsError(f"{name} names unknown source(s) {sorted(unknown)}")
        if len(secret) < 16:
            raise SettingsError(f"{name}: the secret of {department!r} must be at least 16 characters")
        out.append(
            DepartmentCredential(
                department=department, sources=sources, secret_sha256=hashlib.sha256(secret.encode()).digest()
            )
        )
    return tuple(out)


def _exchange(env: Mapping[str, str], secret_env: Mapping[str, str]) -> ExchangeSettings:
    frontdb = env.get("HAOBAN_FRONTDB_URL") or None
    if frontdb is not None and not frontdb.startswith(("postgres://", "postgresql://")):
        raise SettingsError("HAOBAN_FRONTDB_URL must start with postgresql://")
    http_sources: dict[str, str] = {}
    http_tokens: dict[str, str] = {}
    for source in SOURCE_NAMES:
        var = f"HAOBAN_SOURCE_{source.upper()}_URL"
        if url := env.get(var):
            if not url.startswith(("http://", "https://")):
                raise SettingsError(f"{var} must be an http(s) URL")
            http_sources[source] = url.rstrip("/")
        if token := secret_env.get(f"HAOBAN_SOURCE_{source.upper()}_TOKEN"):
            http_tokens[source] = token
    return ExchangeSettings(
        frontdb_url=frontdb,
        frontdb_pool_max=_int(env, "HAOBAN_FRONTDB_POOL_MAX", 10, 1, 200),
        source_timeout_ms=_int(env, "HAOBAN_SOURCE_TIMEOUT_MS", 1500, 50, 60_000),
        http_sources=http_sources,
        http_tokens=http_tokens,
        http_retries=_int(env, "HAOBAN_SOURCE_RETRIES", 2, 0, 5),
        breaker_failures=_int(env, "HAOBAN_SOURCE_BREAKER_FAILURES", 5, 1, 1000),
        breaker_reset_s=_int(env, "HAOBAN_SOURCE_BREAKER_RESET_S", 30, 1, 3600),
        departments=parse_departments(
            "HAOBAN_DEPARTMENT_CREDENTIALS", secret_env.get("HAOBAN_DEPARTMENT_CREDENTIALS") or ""
        ),
    )


def _bank(env: Mapping[str, str], secret_env: Mapping[str, str]) -> BankSettings:
    """HAOBAN_BANK_URL with HAOBAN_BANK_SECRET (at least 32 characters); both or neither."""
    url = env.get("HAOBAN_BANK_URL") or None
    secret = secret_env.get("HAOBAN_BANK_SECRET") or ""
    if url is not None and not url.startswith(("http://", "https://")):
        raise SettingsError("HAOBAN_BANK_URL must be an http(s) URL")
    if url is not None and not secret:
        raise SettingsError("HAOBAN_BANK_SECRET is required when HAOBAN_BANK_URL is set")
    if secret and url is None:
        raise SettingsError("HAOBAN_BANK_URL is required when HAOBAN_BANK_SECRET is set")
    if secret and len(secret) < 32:
        raise SettingsError("HAOBAN_BANK_SECRET must be at least 32 characters")
    key_id = env.get("HAOBAN_BANK_KEY_ID") or "haoban"
    if not key_id.replace("-", "").replace("_", "").isalnum():
        raise SettingsError("HAOBAN_BANK_KEY_ID may only hold letters, digits, - and _")
    return BankSettings(
        base_url=url.rstrip("/") if url else None,
        key_id=key_id,
        secret=secret,
        timeout_ms=_int(env, "HAOBAN_BANK_TIMEOUT_MS", 3000, 100, 60_000),
        retries=_int(env, "HAOBAN_BANK_RETRIES", 3, 0, 10),
        poll_ms=_int(env, "HAOBAN_BANK_POLL_MS", 200, 10, 10_000),
        breaker_failures=_int(env, "HAOBAN_BANK_BREAKER_FAILURES", 5, 1, 1000),
        breaker_reset_s=_int(env, "HAOBAN_BANK_BREAKER_RESET_S", 30, 1, 3600),
    )


def _fund_centre(env: Mapping[str, str], secret_env: Mapping[str, str]) -> FundCentreSettings:
    """HAOBAN_FUND_CENTRE_URL with HAOBAN_FUND_CENTRE_TOKEN; both or neither."""
    url = env.get("HAOBAN_FUND_CENTRE_URL") or None
    token = secret_env.get("HAOBAN_FUND_CENTRE_TOKEN") or ""
    if url is not None and not url.startswith(("http://", "https://")):
        raise SettingsError("HAOBAN_FUND_CENTRE_URL must be an http(s) URL")
    if (url is None) != (not token):
        raise SettingsError("HAOBAN_FUND_CENTRE_URL and HAOBAN_FUND_CENTRE_TOKEN go together")
    if env.get("HAOBAN_FUND_CENTRE_RECONCILE_H"):
        raise SettingsError("HAOBAN_FUND_CENTRE_RECONCILE_H is now HAOBAN_FUND_CENTRE_RECONCILE_S (seconds)")
    return FundCentreSettings(
        base_url=url.rstrip("/") if url else None,
        token=token,
        timeout_ms=_int(env, "HAOBAN_FUND_CENTRE_TIMEOUT_MS", 2000, 100, 60_000),
        reconcile_every_s=_int(env, "HAOBAN_FUND_CENTRE_RECONCILE_S", 86_400, 0, 30 * 86_400),
        reconcile_first_s=_int(env, "HAOBAN_FUND_CENTRE_RECONCILE_FIRST_S", 60, 0, 86_400),
    )


def load_settings(env: Mapping[str, str], *, demo: bool | None = None) -> Settings:
    """Build and validate the settings; raise SettingsError naming the bad variable."""
    mode_raw = env.get("HAOBAN_MODE", "production")
    if demo:
        mode_raw = "demo"
    if mode_raw not in ("production", "demo"):
        raise SettingsError(f"HAOBAN_MODE must be 'production' or 'demo', got {mode_raw!r}")
    mode: Mode = "demo" if mode_raw == "demo" else "production"
    data_dir = Path(env.get("HAOBAN_DATA_DIR") or "var").resolve()
    sandbox = _bool(env, "HAOBAN_SANDBOX", mode == "demo")

    url = env.get("DATABASE_URL") or None
    if url is not None and not url.startswith(("postgres://", "postgresql://")):
        raise SettingsError("DATABASE_URL must start with postgresql://")
    if url is None and mode == "production":
        raise SettingsError("DATABASE_URL is required in production mode")
    pool_min = _int(env, "HAOBAN_DB_POOL_MIN", 1, 0, 100)
    pool_max = _int(env, "HAOBAN_DB_POOL_MAX", 10, 1, 200)
    if pool_max < pool_min:
        raise SettingsError("HAOBAN_DB_POOL_MAX must be at least HAOBAN_DB_POOL_MIN")
    database = DatabaseSettings(
        url=url,
        pool_min=pool_min,
        pool_max=pool_max,
        statement_timeout_ms=_int(env, "HAOBAN_DB_STATEMENT_TIMEOUT_MS", 15_000, 100, 600_000),
    )
    port = _int(env, "HAOBAN_PORT", 8000, 0, 65535)
    http = HttpSettings(
        host=env.get("HAOBAN_HOST") or "127.0.0.1",
        port=port,
        workers=_int(env, "HAOBAN_WORKERS", 1, 1, 64),
        max_body_bytes=_int(env, "HAOBAN_MAX_BODY_BYTES", 1_048_576, 1024, 64 * 1_048_576),
        trusted_proxies=_trusted_proxies(env),
        cors_origins=_cors_origins(env, mode),
    )

    secret_env: Mapping[str, str] = env
    if mode == "demo":
        secret_env = {**_demo_secrets(data_dir), **{k: v for k, v in env.items() if v}}
    field_raw = secret_env.get("HAOBAN_FIELD_KEYS")
    if not field_raw:
        raise SettingsError("HAOBAN_FIELD_KEYS is required in production mode")
    hmac_raw = secret_env.get("HAOBAN_TOKEN_HMAC_KEY")
    if not hmac_raw:
        raise SettingsError("HAOBAN_TOKEN_HMAC_KEY is required in production mode")
    issuer = env.get("HAOBAN_ISSUER") or f"http://{http.host}:{port}"
    if not issuer.startswith(("https://", "http://")) or issuer.endswith("/"):
        raise SettingsError("HAOBAN_ISSUER must be an http(s) URL without a trailing slash")
    if mode == "production" and not issuer.startswith("https://") and not _bool(env, "HAOBAN_ALLOW_HTTP_ISSUER", False):
        raise SettingsError("HAOBAN_ISSUER must use https in production mode")
    security = SecuritySettings(
        field_keys=parse_field_keys("HAOBAN_FIELD_KEYS", field_raw),
        token_hmac_key=_b64_key("HAOBAN_TOKEN_HMAC_KEY", hmac_raw),
        issuer=issuer,
        api_audience=env.get("HAOBAN_API_AUDIENCE") or "haoban-api",
        access_token_ttl_s=_int(env, "HAOBAN_ACCESS_TOKEN_TTL_S", 600, 30, MAX_ACCESS_TTL_S),
        refresh_token_ttl_s=_int(env, "HAOBAN_REFRESH_TOKEN_TTL_S", 30 * 24 * 3600, 300, 90 * 24 * 3600),
        app_attestation=_app_attestation(env, mode),
        limits_scale=_limits_scale(env, sandbox),
    )
    log_level = (env.get("HAOBAN_LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"HAOBAN_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    return Settings(
        mode=mode,
        sandbox=sandbox,
        data_dir=data_dir,
        log_level=log_level,
        database=database,
        http=http,
        security=security,
        exchange=_exchange(env, secret_env),
        face=_face(env),
        bank=_bank(env, secret_env),
        fund_centre=_fund_centre(env, secret_env),
        services=ServicesSettings(
            payout_budget_ms=_int(env, "HAOBAN_PAYOUT_BUDGET_MS", 2000, 0, 30_000),
            idempotency_ttl_h=_int(env, "HAOBAN_IDEMPOTENCY_TTL_H", 24, 24, 24 * 30),
            housekeeping_s=_int(env, "HAOBAN_HOUSEKEEPING_S", 60, 0, 86_400),
            events_poll_ms=_int(env, "HAOBAN_EVENTS_POLL_MS", 2000, 50, 60_000),
            events_stream_s=_int(env, "HAOBAN_EVENTS_STREAM_S", 300, 1, 3600),
        ),
        # The outbox worker runs inside serve unless HAOBAN_OUTBOX_WORKER=false.
        outbox=load_worker_settings(env),
        miniprogram=load_miniprogram_settings(env),
        # Who may scrape /metrics, and whether several workers share the metrics (PROMETHEUS_MULTIPROC_DIR).
        observability=load_observability_settings(env, demo=mode == "demo"),
    )


def _face(env: Mapping[str, str]) -> FaceSettings:
    return load_face_settings(env)
