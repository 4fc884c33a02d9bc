"""`haoban serve`: prepare the database, print where to go, run uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterator

import uvicorn

from haoban.audit.schemas import SYSTEM
from haoban.cli_errors import CliError
from haoban.db import migrations
from haoban.db.pool import connect
from haoban.kit.clock import SystemClock
from haoban.kit.crypto import FieldCipher
from haoban.observability.settings import MULTIPROC_ENV
from haoban.production_guards import production_problems, test_deployment
from haoban.root import build_runtime
from haoban.rules.registry import sync_rule_sets
from haoban.sandbox.demo import (
    DEMO_DEPARTMENT_SECRET,
    DEMO_MINIPROGRAM_REDIRECT,
    DEMO_STAFF_PASSWORD,
    DEMO_STAFF_USERNAME,
    DemoAccount,
    load_demo,
)
from haoban.settings import Settings
from haoban.tokens.service import ensure_signing_key, has_active_key


async def prepare(settings: Settings, url: str) -> list[DemoAccount]:
    """Demo: migrate, make a key, load demo data. Production: refuse a database that is behind."""
    conn = await connect(url)
    try:
        if settings.demo:
            await migrations.migrate(conn)
            await sync_rule_sets(conn)
            async with conn.transaction():
                await ensure_signing_key(
                    conn,
                    cipher=FieldCipher(settings.security.field_keys),
                    settings=settings.security,
                    now=SystemClock().now(),
                    actor=SYSTEM,
                )
            runtime = build_runtime(settings, database_url=url, clock=SystemClock())
            async with conn.transaction():
                return await load_demo(conn, runtime)
        await migrations.ensure_current(conn)
        await sync_rule_sets(conn)
        if not await has_active_key(conn, SystemClock().now()):
            raise CliError("no active token signing key; run `haoban keys rotate` first")
        return []
    finally:
        await conn.close()


def _export_env(settings: Settings, url: str) -> None:
    """Workers are separate processes: hand them the same configuration."""
    os.environ["DATABASE_URL"] = url
    os.environ["HAOBAN_MODE"] = settings.mode
    os.environ["HAOBAN_DATA_DIR"] = str(settings.data_dir)
    os.environ["HAOBAN_HOST"] = settings.http.host
    os.environ["HAOBAN_PORT"] = str(settings.http.port)
    os.environ["HAOBAN_SANDBOX"] = "true" if settings.sandbox else "false"


def _banner(settings: Settings, accounts: list[DemoAccount]) -> str:
    base = f"http://{settings.http.host}:{settings.http.port}"
    lines = [
        f"Haoban {settings.mode} mode on {base}",
        f"  API docs:   {base}/docs",
        f"  OpenAPI:    {base}/openapi/openapi.json",
        f"  Health:     {base}/health/ready",
    ]
    if settings.sandbox:
        lines.append("  Sandbox:    on (/sandbox/* routes for testers)")
    if settings.security.app_attestation == "optional":
        lines.append(
            "  Attestation: OPTIONAL for haoban-app (relaxed for the demo; production requires a device attestation)"
        )
    if accounts:
        lines += _demo_lines(base, accounts)
    return "\n".join(lines)


def _demo_lines(base: str, accounts: list[DemoAccount]) -> list[str]:
    """What a tester needs first: who to be, which clients exist, how to review, how to try the face flow."""
    lines = ["  Demo citizens (synthetic ID numbers):"]
    for account in accounts:
        lines.append(f"    {account.label}: ID number {account.id_number}, citizen_id {account.citizen_id}")
    first = accounts[0]
    lines += [
        "  Tokens without a camera (sandbox only; applications and payouts need the face level):",
        f"    curl -s -X POST {base}/sandbox/tokens -H 'content-type: application/json' \\",
        f'         -d \'{{"id_number": "{first.id_number}", "acr": "face"}}\'',
        "  OAuth clients:",
        f"    demo-miniprogram  public, PKCE, redirect {DEMO_MINIPROGRAM_REDIRECT}",
        f"    demo-department   confidential, secret {DEMO_DEPARTMENT_SECRET} (client_secret_basic)",
        f"  Reviewer login:     POST {base}/v1/staff/login  {DEMO_STAFF_USERNAME} / {DEMO_STAFF_PASSWORD}",
        f"  Face flow by script: uv run python scripts/demo_face.py --base {base}",
    ]
    return lines


def guard_production(settings: Settings) -> list[str]:
    """Refuse what a real deployment must not run with; a loopback test deployment gets warnings instead."""
    problems = production_problems(settings)
    if not problems:
        return []
    try:
        relaxed = test_deployment(os.environ, settings)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if not relaxed:
        raise CliError("refusing to serve in production mode:\n  " + "\n  ".join(problems))
    return problems


def serve(settings: Settings, url: str) -> None:
    warnings = guard_production(settings)
    accounts = asyncio.run(prepare(settings, url))
    _export_env(settings, url)
    print(_banner(settings, accounts), flush=True)
    for warning in warnings:
        print(f"  TEST DEPLOYMENT (HAOBAN_TEST_DEPLOYMENT=true), a real one would refuse: {warning}", flush=True)
    with shared_metrics(settings.http.workers):
        _run(settings)


@contextlib.contextmanager
def shared_metrics(workers: int) -> Iterator[None]:
    """Several workers: a fresh folder for prometheus_client's multi-process files, removed at exit.

    An operator's own PROMETHEUS_MULTIPROC_DIR is left alone (they own its cleaning).
    """
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="haoban-metrics-") as folder:
        os.environ[MULTIPROC_ENV] = folder
        try:
            yield
        finally:
            os.environ.pop(MULTIPROC_ENV, None)


def _run(settings: Settings) -> None:
    uvicorn.run(
        "haoban.asgi:create_from_env",
        factory=True,
        host=settings.http.host,
        port=settings.http.port,
        workers=settings.http.workers,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
