"""`haoban staff create|disable|enable` and `haoban materials expire` (wired into haoban.cli).

Passwords never come from argv (it shows in `ps` and shell history): they are
read from stdin with `--password-stdin`, or prompted twice on a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import asyncpg

from haoban.audit.schemas import Actor
from haoban.cli_errors import CliError
from haoban.cli_options import add_demo_options
from haoban.db.pool import connect
from haoban.kit.clock import SystemClock
from haoban.settings import Settings
from haoban.staff.schemas import DEPARTMENTS, ROLES

Command = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], *, staff: Command, materials: Command
) -> None:
    parser = sub.add_parser("staff", help="staff accounts for the manual lane")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a staff account (password from stdin or prompted)")
    create.add_argument("--username", required=True, help="3-64 characters: a-z, 0-9, '.', '_', '-'")
    create.add_argument("--name", required=True, help="display name")
    create.add_argument("--department", action="append", required=True, choices=sorted(DEPARTMENTS), help="repeatable")
    create.add_argument("--role", action="append", choices=ROLES, help="repeatable; every role in every department")
    create.add_argument("--password-stdin", action="store_true", help="read the password from the first stdin line")
    create.add_argument("--citizen-id", help="the staff member's own citizen account (never decides it)")
    create.add_argument("--id-number-env", help="read the staff member's own ID number from this variable")
    for action in ("disable", "enable"):
        toggle = actions.add_parser(action, help=f"{action} a staff account")
        toggle.add_argument("--username", required=True)
    for p in (parser, create, *(actions.choices[a] for a in ("disable", "enable"))):
        add_demo_options(p)
    parser.set_defaults(func=staff)

    mats = sub.add_parser("materials", help="1+1+N materials and tolerant acceptance")
    mats.add_argument("action", choices=["expire"], help="reject applications whose supplement deadline passed")
    add_demo_options(mats)
    mats.set_defaults(func=materials)


def read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if not password:
            raise CliError("no password on stdin")
        return password
    if not sys.stdin.isatty():
        raise CliError("stdin is not a terminal: pass --password-stdin and pipe the password in")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise CliError("the passwords differ")
    return first


def _id_number_index(args: argparse.Namespace, settings: Settings) -> bytes | None:
    from haoban.citizens.vault import IdNumberVault  # noqa: PLC0415
    from haoban.kit import idnumber  # noqa: PLC0415
    from haoban.kit.crypto import FieldCipher  # noqa: PLC0415

    if not args.id_number_env:
        return None
    value = os.environ.get(args.id_number_env, "")
    if why := idnumber.problem(value):
        raise CliError(f"{args.id_number_env}: {why}")
    vault = IdNumberVault(FieldCipher(settings.security.field_keys), settings.security.token_hmac_key)
    return vault.index(value)


def _run(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """One connection, one transaction."""

    async def go() -> T:
        conn = await connect(url)
        try:
            async with conn.transaction():
                return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


def run_staff(args: argparse.Namespace, *, settings: Settings, url: str, actor: Actor) -> str:
    """Do it; return what to tell the operator."""
    from haoban.kit.errors import NotFound  # noqa: PLC0415
    from haoban.staff import service  # noqa: PLC0415

    now = SystemClock().now()
    if args.action in ("disable", "enable"):

        async def toggle(conn: asyncpg.Connection) -> None:
            await service.set_disabled(
                conn, username=args.username, disabled=args.action == "disable", actor=actor, now=now
            )

        try:
            _run(url, toggle)
        except NotFound as exc:
            raise CliError(str(exc.detail)) from None
        return f"staff account {args.username} {args.action}d"
    citizen_id = None
    if args.citizen_id:
        try:
            citizen_id = uuid.UUID(args.citizen_id)
        except ValueError:
            raise CliError(f"--citizen-id is not a UUID: {args.citizen_id}") from None
    id_index = _id_number_index(args, settings)
    password = read_password(args)

    async def create(conn: asyncpg.Connection) -> uuid.UUID:
        return await service.create_staff(
            conn,
            username=args.username,
            display_name=args.name,
            password=password,
            departments=args.department,
            roles=args.role or ["reviewer"],
            citizen_id=citizen_id,
            id_number_hmac=id_index,
            actor=actor,
            now=now,
        )

    try:
        staff_id = _run(url, create)
    except service.StaffSpecError as exc:
        raise CliError(str(exc)) from None
    return f"staff account {service.normalize_username(args.username)} created ({staff_id})"


def run_materials(args: argparse.Namespace, *, url: str, sandbox: bool = False) -> str:
    """Reject what is past its deadline; in sandbox mode by the sandbox clock, as the server's chores would."""
    from haoban.materials.service import expire_overdue  # noqa: PLC0415
    from haoban.sandbox.service import clock_offset_s  # noqa: PLC0415

    async def expire(conn: asyncpg.Connection) -> tuple[list[uuid.UUID], int]:
        offset_s = await clock_offset_s(conn) if sandbox else 0
        now = SystemClock().now() + timedelta(seconds=offset_s)
        return await expire_overdue(conn, now=now), offset_s

    rejected, offset_s = _run(url, expire)
    lines = [f"sandbox clock: {offset_s} s ahead of the real time"] if offset_s else []
    lines += [f"rejected {len(rejected)} application(s) past their supplement deadline"]
    lines += [f"  {application_id}" for application_id in rejected]
    return "\n".join(lines)
