"""The `haoban` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import asyncpg
import msgspec

from haoban.audit.schemas import Actor
from haoban.cli_errors import CliError
from haoban.cli_options import add_demo_options
from haoban.db import migrations
from haoban.db.embedded import EmbeddedPostgres
from haoban.db.pool import connect
from haoban.identity.face.evaluate_cli import add_parser as add_face_evaluation
from haoban.kit.clock import SystemClock
from haoban.kit.masking import mask_url
from haoban.kit.settings_error import SettingsError
from haoban.observability.logging import configure_logging
from haoban.rules.registry import sync_rule_sets
from haoban.settings import DEMO_SECRETS, Settings, load_settings

T = TypeVar("T")
CONNECT_TIMEOUT_S = 10
CLI_ACTOR = Actor(type="cli", id=os.environ.get("USER", "operator"))


def _demo_folder(env: dict[str, str]) -> Path | None:
    """The data folder of a demo (its demo-secrets.json), when nothing names a production database."""
    if env.get("DATABASE_URL") or env.get("HAOBAN_MODE"):
        return None
    folder = Path(env.get("HAOBAN_DATA_DIR") or "var").resolve()
    return folder if (folder / DEMO_SECRETS).is_file() else None


def _settings(args: argparse.Namespace) -> Settings:
    env = dict(os.environ)
    if data_dir := getattr(args, "data_dir", None):
        env["HAOBAN_DATA_DIR"] = data_dir
    demo = bool(getattr(args, "demo", False))
    # `serve` needs --demo: a leftover demo folder must never turn a server into a sandbox.
    if not demo and args.command != "serve" and (folder := _demo_folder(env)):
        demo = True
        print(f"haoban: demo mode: found the demo data folder {folder}", file=sys.stderr)
    settings = load_settings(env, demo=demo)
    if settings.demo and args.command != "serve":
        where = settings.database.url or f"the embedded database in {settings.data_dir / 'pgdata'}"
        print(f"haoban: demo mode: using {mask_url(where)}", file=sys.stderr)
    http = settings.http
    overrides = {k: getattr(args, k) for k in ("host", "port", "workers") if getattr(args, k, None) is not None}
    if overrides:
        settings = msgspec.structs.replace(settings, http=msgspec.structs.replace(http, **overrides))
    return settings


def _database_url(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    if settings.database.url:
        return settings.database.url, None
    embedded = EmbeddedPostgres(settings.data_dir / "pgdata")
    return embedded.start(), embedded


def _with_conn(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    async def run() -> T:
        try:
            conn = await asyncio.wait_for(connect(url), CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise CliError(f"cannot connect to the database at {mask_url(url)}: {exc or type(exc).__name__}") from None
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


# --- db -------------------------------------------------------------------


def cmd_db(args: argparse.Namespace) -> int:
    settings = _settings(args)
    url, _embedded = _database_url(settings)
    if args.action == "migrate":
        applied = _with_conn(url, migrations.migrate)
        loaded = _with_conn(url, sync_rule_sets)
        print(f"applied {len(applied)} migration(s)" + "".join(f"\n  {name}" for name in applied))
        print(f"rule sets: {loaded} new version(s) loaded")
        return 0
    states = _with_conn(url, migrations.status)
    for s in states:
        print(f"{s.state:9} {s.filename}")
    pending = sum(s.state == "pending" for s in states)
    print(f"{len(states) - pending} applied, {pending} pending, in {mask_url(url)}")
    return 1 if any(s.state in ("modified", "missing") for s in states) else 0


# --- keys -----------------------------------------------------------------


def cmd_keys(args: argparse.Namespace) -> int:
    from haoban.kit.crypto import FieldCipher  # noqa: PLC0415
    from haoban.tokens.service import rotate_keys  # noqa: PLC0415

    settings = _settings(args)
    url, _embedded = _database_url(settings)
    cipher = FieldCipher(settings.security.field_keys)

    async def work(conn: asyncpg.Connection) -> str:
        async with conn.transaction():
            return await rotate_keys(
                conn, cipher=cipher, settings=settings.security, now=SystemClock().now(), actor=CLI_ACTOR
            )

    kid = _with_conn(url, work)
    print(f"new active signing key {kid}; the previous key verifies until its tokens expire")
    return 0


# --- oauth ----------------------------------------------------------------


def cmd_oauth(args: argparse.Namespace) -> int:
    from haoban.oauth.clients import ClientSpecError, create_client  # noqa: PLC0415

    settings = _settings(args)
    url, _embedded = _database_url(settings)
    secret: str | None = None
    if args.secret_env:
        secret = os.environ.get(args.secret_env)
        if not secret:
            raise CliError(f"{args.secret_env} is not set")

    async def work(conn: asyncpg.Connection) -> str | None:
        async with conn.transaction():
            return await create_client(
                conn,
                hmac_key=settings.security.token_hmac_key,
                client_id=args.client_id,
                client_type=args.type,
                display_name=args.name,
                purpose=args.purpose,
                redirect_uris=args.redirect_uri or [],
                scopes=args.scope,
                secret=secret,
                now=SystemClock().now(),
                actor=CLI_ACTOR,
            )

    try:
        generated = _with_conn(url, work)
    except ClientSpecError as exc:
        raise CliError(str(exc)) from None
    print(f"oauth client {args.client_id} ({args.type}) saved")
    if generated is not None:
        print(f"client secret (shown once; only its hash is stored): {generated}")
    return 0


# --- audit ----------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    from haoban.exchange.consent.service import verify_chain  # noqa: PLC0415

    settings = _settings(args)
    url, _embedded = _database_url(settings)
    result = _with_conn(url, verify_chain)
    if result.ok:
        print(f"data-access log intact: {result.checked} row(s) verified")
        return 0
    print(
        f"data-access log BROKEN at seq {result.broken_seq}: {result.reason}"
        f" ({result.checked} row(s) verified before it)",
        file=sys.stderr,
    )
    return 1


# --- faces ----------------------------------------------------------------


def cmd_faces(args: argparse.Namespace) -> int:
    from haoban.identity.admin import reenable_face_login  # noqa: PLC0415
    from haoban.kit import idnumber  # noqa: PLC0415

    if why := idnumber.problem(args.id_number):
        raise CliError(f"--id-number {why}")
    settings = _settings(args)
    url, _embedded = _database_url(settings)
    if args.action == "reset":
        return _face_reset(args, settings, url)

    async def work(conn: asyncpg.Connection) -> bool:
        async with conn.transaction():
            return await reenable_face_login(
                conn, settings, args.id_number, staff_id=args.staff, reason=args.reason, now=SystemClock().now()
            )

    if _with_conn(url, work):
        print("face login re-enabled; the failure count is reset")
        return 0
    print("face login was not disabled or locked for this identity", file=sys.stderr)
    return 1


def _face_reset(args: argparse.Namespace, settings: Settings, url: str) -> int:
    from haoban.identity.admin import FaceReset, reset_face  # noqa: PLC0415

    async def work(conn: asyncpg.Connection) -> FaceReset | None:
        async with conn.transaction():
            return await reset_face(
                conn, settings, args.id_number, staff_id=args.staff, reason=args.reason, now=SystemClock().now()
            )

    reset = _with_conn(url, work)
    if reset is None:
        print("no account is registered with this ID number", file=sys.stderr)
        return 1
    deleted = "the enrolled face was deleted" if reset.template_deleted else "no face was enrolled"
    print(f"face reset for citizen {reset.citizen_id}: {deleted}; a new registration may enrol a face")
    print(f"until {reset.expires_at.isoformat(timespec='minutes')} (the phone number is kept)")
    return 0


# --- openapi --------------------------------------------------------------


def cmd_openapi(args: argparse.Namespace) -> int:
    if args.action == "clients":
        return cmd_openapi_clients(args)
    from haoban.openapi_export import render  # noqa: PLC0415

    out_dir = Path(args.out)
    files = render()
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            print(f"openapi contract out of date: {', '.join(stale)}; run `haoban openapi export`", file=sys.stderr)
            return 1
        print("openapi contract is in sync")
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out_dir / name).write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(str(out_dir / n) for n in files)}")
    return 0


def cmd_openapi_clients(args: argparse.Namespace) -> int:
    from haoban import openapi_clients  # noqa: PLC0415

    out_dir = Path(args.clients_out)
    files = openapi_clients.render(Path(args.spec), Path(args.tools))
    if args.check:
        if stale := openapi_clients.stale(files, out_dir):
            print(f"clients out of date: {', '.join(stale)}; run `haoban openapi clients`", file=sys.stderr)
            return 1
        print("clients are in sync with the spec")
        return 0
    written = openapi_clients.write(files, out_dir)
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0


# --- decisions ------------------------------------------------------------


def cmd_decisions(args: argparse.Namespace) -> int:
    import uuid  # noqa: PLC0415

    from haoban.rules.replay import ReplayImpossible, replay  # noqa: PLC0415

    try:
        decision_id = uuid.UUID(args.decision_id)
    except ValueError:
        raise CliError(f"not a decision id: {args.decision_id}") from None
    settings = _settings(args)
    url, _embedded = _database_url(settings)
    try:
        result = _with_conn(url, lambda conn: replay(conn, decision_id))
    except ReplayImpossible as exc:
        raise CliError(str(exc)) from None
    print(msgspec.json.format(msgspec.json.encode(result)).decode())
    if result.equal:
        return 0
    print(f"decision {decision_id} differs when replayed with {result.rule_set_version}", file=sys.stderr)
    return 1


def _add_decisions_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    decisions = sub.add_parser("decisions", help="rule decisions")
    decisions.add_argument("action", choices=["replay"])
    decisions.add_argument("decision_id", help="recompute from the stored facts and version; exit 1 if different")
    add_demo_options(decisions)
    decisions.set_defaults(func=cmd_decisions)


# --- worker, payouts (money) ----------------------------------------------


def cmd_worker(args: argparse.Namespace) -> int:
    from haoban.outbox.main import run_worker  # noqa: PLC0415

    settings = _settings(args)
    configure_logging(settings.log_level)
    url, embedded = _database_url(settings)
    try:
        done = asyncio.run(run_worker(settings, url, once=args.once))
    finally:
        if embedded is not None:
            embedded.stop()
    if args.once:
        print(f"ran {done} outbox row(s)")
    return 0


def cmd_payouts(args: argparse.Namespace) -> int:
    from haoban.outbox.main import background_runtime  # noqa: PLC0415
    from haoban.payouts.reconcile import reconcile, summary  # noqa: PLC0415
    from haoban.payouts.schemas import ReconcileReport  # noqa: PLC0415

    settings = _settings(args)
    url, embedded = _database_url(settings)

    async def work() -> ReconcileReport:
        async with background_runtime(settings, url) as runtime:
            return await reconcile(runtime, actor=CLI_ACTOR)

    try:
        report = asyncio.run(work())
    finally:
        if embedded is not None:
            embedded.stop()
    print(summary(report))
    return 1 if report.still_open or report.unbalanced_groups else 0


def cmd_ledger(args: argparse.Namespace) -> int:
    """Compare the ledger's mirror with the fund centre; exit 1 when they differ."""
    from haoban.db.pool import create_pool, unit_of_work  # noqa: PLC0415
    from haoban.fundcentre.reconcile import Report, reconcile_with, summary  # noqa: PLC0415
    from haoban.fundcentre.wiring import open_fund_centre  # noqa: PLC0415
    from haoban.kit.clock import SystemClock  # noqa: PLC0415

    settings = _settings(args)
    url, embedded = _database_url(settings)

    async def work() -> Report:
        clock = SystemClock()
        pool = await create_pool(url, settings.database)
        try:
            async with open_fund_centre(settings, pool, clock) as centre, unit_of_work(pool, transaction=False) as conn:
                return await reconcile_with(conn, centre, since=clock.now() - timedelta(days=args.days))
        finally:
            await pool.close()

    try:
        report = asyncio.run(work())
    finally:
        if embedded is not None:
            embedded.stop()
    print(summary(report))
    return 1 if report.differences else 0


def _add_money_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser("worker", help="run the outbox worker (payouts, notifications) until stopped")
    worker.add_argument("--once", action="store_true", help="run what is due now, then exit")
    add_demo_options(worker)
    worker.set_defaults(func=cmd_worker)
    payouts = sub.add_parser("payouts", help="payout orders")
    payouts.add_argument("action", choices=["reconcile"], help="finish every open payout by asking the bank")
    add_demo_options(payouts)
    payouts.set_defaults(func=cmd_payouts)
    ledger = sub.add_parser("ledger", help="the member ledger, a mirror of the fund centre")
    ledger.add_argument("action", choices=["reconcile"], help="report each difference with the fund centre")
    ledger.add_argument("--days", type=int, default=35, help="how far back to compare (default 35)")
    add_demo_options(ledger)
    ledger.set_defaults(func=cmd_ledger)


# --- staff, materials (manual lane) ---------------------------------------


def cmd_staff(args: argparse.Namespace) -> int:
    from haoban.staff.cli import run_staff  # noqa: PLC0415

    settings = _settings(args)
    url, _embedded = _database_url(settings)
    print(run_staff(args, settings=settings, url=url, actor=CLI_ACTOR))
    return 0


def cmd_materials(args: argparse.Namespace) -> int:
    from haoban.staff.cli import run_materials  # noqa: PLC0415

    settings = _settings(args)
    url, _embedded = _database_url(settings)
    print(run_materials(args, url=url, sandbox=settings.sandbox))
    return 0


def _add_manual_lane_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from haoban.staff.cli import add_parsers  # noqa: PLC0415

    add_parsers(sub, staff=cmd_staff, materials=cmd_materials)


# --- serve ----------------------------------------------------------------


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace) -> int:
    from haoban.serve import serve  # noqa: PLC0415

    settings = _settings(args)
    configure_logging(settings.log_level)
    url, embedded = _database_url(settings)
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into a
    # normal exit so the embedded database below is stopped too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        serve(settings, url)
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="haoban", description="Haoban government-services backend")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = argparse.ArgumentParser(add_help=False)
    demo.add_argument("--demo", action="store_true", help="demo mode: embedded database, sandbox, demo data")
    demo.add_argument("--data-dir", help="the data folder (default HAOBAN_DATA_DIR or ./var)")

    serve = sub.add_parser("serve", parents=[demo], help="serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["migrate", "status"])
    add_demo_options(db)
    db.set_defaults(func=cmd_db)

    keys = sub.add_parser("keys", help="token signing keys")
    keys.add_argument("action", choices=["rotate"])
    add_demo_options(keys)
    keys.set_defaults(func=cmd_keys)

    oauth = sub.add_parser("oauth", help="OAuth clients (mini-programs, department systems)")
    oauth_sub = oauth.add_subparsers(dest="oauth_command", required=True)
    oauth_client = oauth_sub.add_parser("client", help="OAuth clients").add_subparsers(dest="action", required=True)
    create = oauth_client.add_parser("create", help="register or replace a client")
    create.add_argument("client_id")
    create.add_argument("--type", choices=["public", "confidential"], required=True)
    create.add_argument("--name", required=True, help="display name shown to citizens")
    create.add_argument("--purpose", required=True, help="why it asks, shown to citizens")
    create.add_argument("--redirect-uri", action="append", help="exact https redirect URI (repeatable)")
    create.add_argument("--scope", action="append", required=True, help="allowed scope (repeatable)")
    create.add_argument("--secret-env", help="confidential: read the secret from this variable instead of generating")
    add_demo_options(create)
    create.set_defaults(func=cmd_oauth)

    audit = sub.add_parser("audit", help="the data-access log")
    audit.add_argument("action", choices=["verify"])
    add_demo_options(audit)
    audit.set_defaults(func=cmd_audit)

    faces = sub.add_parser("faces", help="face login administration and evaluation").add_subparsers(
        dest="action", required=True
    )
    for action, what in (
        ("reenable", "re-enable face login disabled after 50 failed matches"),
        ("reset", "delete the enrolled face and allow one new enrolment"),
    ):
        admin = faces.add_parser(action, help=what)
        admin.add_argument("--id-number", required=True)
        admin.add_argument("--staff", required=True, help="the staff member doing it (audited)")
        admin.add_argument("--reason", required=True, help="why (audited), e.g. identity checked at a service centre")
        add_demo_options(admin)
        admin.set_defaults(func=cmd_faces)
    add_face_evaluation(faces)

    _add_decisions_parser(sub)
    _add_money_parsers(sub)
    _add_manual_lane_parsers(sub)

    _add_openapi_parser(sub)
    return parser


def _add_openapi_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    openapi = sub.add_parser("openapi", help="the OpenAPI contract")
    openapi.add_argument("action", choices=["export", "clients"], help="clients: Postman collection and TS types")
    openapi.add_argument("--check", action="store_true", help="exit 1 when the committed files differ")
    openapi.add_argument("--out", default="openapi", help="export: directory (default: ./openapi)")
    clients = openapi.add_argument_group("clients")
    clients.add_argument("--spec", default="openapi/openapi.json", help="the spec to generate from")
    clients.add_argument("--tools", default="clients", help="folder with package.json and node_modules")
    clients.add_argument("--clients-out", default="clients", help="where the generated files go (default: ./clients)")
    openapi.set_defaults(func=cmd_openapi)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except SettingsError as exc:
        print(f"haoban: configuration error: {exc}", file=sys.stderr)
        return 2
    except (migrations.MigrationError, CliError) as exc:
        print(f"haoban: {exc}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
