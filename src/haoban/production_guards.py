"""What `haoban serve` refuses in production mode, each reason naming the variable to fix.

`load_settings` already refuses what no mode can run with; these are the settings
a demo or a test needs and a real deployment must never have:

- `HAOBAN_SANDBOX=true` opens `/sandbox/*`: minting citizens and tokens, the bank's fault knobs;
- demo secrets: a key or secret that is also in the data dir's `demo-secrets.json`, the
  README's demo department secret, or key material that is not random (a repeated byte);
- an http issuer (`HAOBAN_ALLOW_HTTP_ISSUER` relaxes `load_settings`, never `serve`).

Tests and load benches run `serve` in production mode with the sandbox on against a
throwaway database. They say so with `HAOBAN_TEST_DEPLOYMENT=true`, which is itself
refused unless the server listens on loopback only; the banner then lists what a real
deployment would have refused.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

from haoban.settings import Settings, parse_departments

DEMO_DEPARTMENT_SECRET = "demo-department-secret"  # noqa: S105 (the README's, refused here)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
MIN_DISTINCT_BYTES = 16
"""32 random bytes have about 28 distinct values; fewer than 16 is a made-up key (b"k" * 32)."""


def _demo_values(data_dir: Path) -> dict[str, str]:
    path = data_dir / "demo-secrets.json"
    try:
        values = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in values.items() if isinstance(k, str) and isinstance(v, str)}


def _not_random(key: bytes) -> bool:
    return len(set(key)) < MIN_DISTINCT_BYTES


def _secret_problems(settings: Settings) -> list[str]:
    out: list[str] = []
    demo = _demo_values(settings.data_dir)
    demo_keys: set[bytes] = set()
    for kid_key in demo.get("HAOBAN_FIELD_KEYS", "").split(","):
        if ":" in kid_key:
            try:
                demo_keys.add(base64.urlsafe_b64decode(kid_key.split(":", 1)[1]))
            except ValueError:
                continue
    for field_key in settings.security.field_keys:
        if field_key.key in demo_keys:
            out.append(f"HAOBAN_FIELD_KEYS: key {field_key.kid!r} is a demo key (from demo-secrets.json)")
        elif _not_random(field_key.key):
            out.append(f"HAOBAN_FIELD_KEYS: key {field_key.kid!r} is not random key material")
    hmac_key = settings.security.token_hmac_key
    demo_hmac = demo.get("HAOBAN_TOKEN_HMAC_KEY")
    if demo_hmac and _decodes_to(demo_hmac, hmac_key):
        out.append("HAOBAN_TOKEN_HMAC_KEY is the demo key (from demo-secrets.json)")
    elif _not_random(hmac_key):
        out.append("HAOBAN_TOKEN_HMAC_KEY is not random key material")
    demo_departments = demo.get("HAOBAN_DEPARTMENT_CREDENTIALS")
    demo_hashes = {hashlib.sha256(DEMO_DEPARTMENT_SECRET.encode()).digest()}
    if demo_departments:
        with contextlib.suppress(ValueError):
            demo_hashes |= {c.secret_sha256 for c in parse_departments("demo", demo_departments)}
    for credential in settings.exchange.departments:
        if credential.secret_sha256 in demo_hashes:
            out.append(f"HAOBAN_DEPARTMENT_CREDENTIALS: the secret of {credential.department!r} is a demo secret")
    return out


def _decodes_to(raw: str, key: bytes) -> bool:
    try:
        return base64.urlsafe_b64decode(raw) == key
    except ValueError:
        return False


def production_problems(settings: Settings) -> list[str]:
    """Why this configuration must not serve real citizens; empty when it may."""
    if settings.demo:
        return []
    out: list[str] = []
    if settings.sandbox:
        out.append(
            "HAOBAN_SANDBOX=true opens /sandbox/* (test citizens, token minting, bank fault knobs) "
            "in production mode; unset it, or run `haoban serve --demo`"
        )
    out.extend(_secret_problems(settings))
    if not settings.security.issuer.startswith("https://"):
        out.append(f"HAOBAN_ISSUER must be https in production mode, got {settings.security.issuer!r}")
    return out


def test_deployment(env: Mapping[str, str], settings: Settings) -> bool:
    """`HAOBAN_TEST_DEPLOYMENT=true`: a loopback-only server for tests and benches."""
    if (env.get("HAOBAN_TEST_DEPLOYMENT") or "").strip().lower() != "true":
        return False
    if settings.http.host not in LOOPBACK:
        raise ValueError(
            f"HAOBAN_TEST_DEPLOYMENT=true needs HAOBAN_HOST on loopback (127.0.0.1 or ::1), got {settings.http.host!r}"
        )
    return True
