"""Fuzz a live `haoban serve --demo` with schemathesis, once per kind of caller.

    uv run python scripts/fuzz.py [--max-examples 25] [--pass-timeout 300] [--kinds citizen,staff,...]

It starts a demo server on a free loopback port (a throwaway database: a fresh one on
`$HAOBAN_TEST_DATABASE_URL`'s server when that is set, else the embedded server in a temp
dir), gets one credential per caller kind and runs schemathesis on the committed spec
(`openapi/openapi.json`) for the operations that caller can use:

- citizen:    a face-level token (face registration and login of the demo citizen 张三),
              on every bearer and public operation (logout last, since it ends the session);
- staff:      the demo reviewer's staff token, on the staffBearer operations;
- department: a client-credentials token of `demo-department` with every ingest scope, on
              ingestion, and the client's Basic credentials on introspection, token and revocation;
- oauth:      a mini-program token (PAR, the citizen's approval, the code exchange with
              PKCE), on every bearer operation.

Checks: not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance, negative_data_rejection. The exit code is non-zero when
any pass failed; the last lines are one count per caller kind.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.identity import frames

from haoban.oauth.scopes import INGEST_SCOPES
from haoban.sandbox.demo import DEMO_DEPARTMENT_SECRET, DEMO_STAFF_PASSWORD, DEMO_STAFF_USERNAME, ZHANG_SAN

SPEC = ROOT / "openapi" / "openapi.json"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
APP = {"X-Client-ID": "haoban-app"}
MINIPROGRAM = "demo-miniprogram"
REDIRECT = "https://miniprogram.example/callback"
DEPARTMENT = "demo-department"
METHODS = ("get", "put", "post", "delete", "patch")
CLIENT_AUTH_OPS = ("oauthToken", "oauthRevoke")  # public in the spec (public clients), Basic for confidential ones


@dataclass
class Pass:
    kind: str
    label: str
    header: str
    operation_ids: list[str]


@dataclass
class Result:
    kind: str
    operations: int = 0
    cases: int = 0
    failures: int = 0
    seconds: float = 0.0
    exit_codes: list[int] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def throwaway_database() -> Iterator[str | None]:
    """A fresh database on the test server when there is one; None means the embedded server."""
    server = os.environ.get("HAOBAN_TEST_DATABASE_URL")
    if not server:
        yield None
        return
    name = f"haoban_fuzz_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    parts = urlsplit(server)
    try:
        yield parts._replace(path="/" + name).geturl()
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def demo_server(data_dir: Path, database_url: str | None) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAOBAN_") and k != "DATABASE_URL"}
    env.update(
        {
            "HAOBAN_DATA_DIR": str(data_dir),
            "HAOBAN_LOG_LEVEL": "WARNING",
            # One address and one citizen make every request: the abuse limits would answer 429 throughout.
            "HAOBAN_LIMITS_SCALE": "1000",
            # The application event stream ends by itself; short, so each fuzzed call returns quickly.
            "HAOBAN_EVENTS_STREAM_S": "1",
            "HAOBAN_EVENTS_POLL_MS": "200",
        }
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "haoban.cli", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {(data_dir / 'server.log').read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("the server did not become ready in 240 s")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _frames(seed: int) -> list[str]:
    return [base64.b64encode(f).decode() for f in frames.make_frames(frames.photo("grace_hopper.jpg"), 3, seed=seed)]


def _challenge(http: httpx.Client, purpose: str) -> str:
    response = http.post("/v1/auth/face/challenges", json={"id_number": ZHANG_SAN, "purpose": purpose}, headers=APP)
    response.raise_for_status()
    return str(response.json()["challenge_id"])


def citizen_token(http: httpx.Client) -> str:
    """The demo citizen registers by face and logs in (acr face)."""
    seed = secrets.randbelow(1_000_000) * 2
    registered = http.post(
        "/v1/auth/register",
        json={
            "challenge_id": _challenge(http, "register"),
            "id_number": ZHANG_SAN,
            "name": "张三",
            "frames": _frames(seed),
            "consent": {"biometric": True, "terms_version": "demo-2026-11"},
        },
        headers=APP,
    )
    if registered.status_code not in (201, 409):
        raise RuntimeError(f"face registration: {registered.status_code} {registered.text}")
    for attempt in range(1, 4):  # frames are random; a synthetic capture can miss
        login = http.post(
            "/v1/auth/face-login",
            json={"challenge_id": _challenge(http, "login"), "id_number": ZHANG_SAN, "frames": _frames(seed + attempt)},
            headers=APP,
        )
        if login.status_code == 200:
            return str(login.json()["access_token"])
    raise RuntimeError(f"face login: {login.status_code} {login.text}")


def staff_token(http: httpx.Client) -> str:
    response = http.post("/v1/staff/login", json={"username": DEMO_STAFF_USERNAME, "password": DEMO_STAFF_PASSWORD})
    if response.status_code != 200:
        raise RuntimeError(f"staff login: {response.status_code} {response.text}")
    return str(response.json()["access_token"])


def department_basic() -> str:
    return base64.b64encode(f"{DEPARTMENT}:{DEMO_DEPARTMENT_SECRET}".encode()).decode()


def department_token(http: httpx.Client) -> str:
    response = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": " ".join(INGEST_SCOPES)},
        headers={"Authorization": f"Basic {department_basic()}"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"client credentials: {response.status_code} {response.text}")
    return str(response.json()["access_token"])


def miniprogram_token(http: httpx.Client, citizen: str) -> str:
    """PAR, the citizen's approval in the app (face level), the code exchange with PKCE."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    pushed = http.post(
        "/oauth/par",
        data={
            "client_id": MINIPROGRAM,
            "response_type": "code",
            "redirect_uri": REDIRECT,
            "scope": "openid profile hpf.read applications.read",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    if pushed.status_code != 201:
        raise RuntimeError(f"PAR: {pushed.status_code} {pushed.text}")
    decided = http.post(
        "/v1/oauth/authorizations",
        json={"request_uri": pushed.json()["request_uri"], "decision": "approve"},
        headers={"Authorization": f"Bearer {citizen}"},
    )
    if decided.status_code != 200:
        raise RuntimeError(f"approval: {decided.status_code} {decided.text}")
    code = parse_qs(urlsplit(decided.json()["redirect_to"]).query)["code"][0]
    exchanged = http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": MINIPROGRAM,
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    if exchanged.status_code != 200:
        raise RuntimeError(f"code exchange: {exchanged.status_code} {exchanged.text}")
    return str(exchanged.json()["access_token"])


def operations_by_scheme() -> dict[str, list[str]]:
    doc = json.loads(SPEC.read_text())
    out: dict[str, list[str]] = {}
    for item in doc["paths"].values():
        for method in METHODS:
            if op := item.get(method):
                for requirement in op.get("security", doc["security"]):
                    for scheme in requirement or {"public": []}:
                        out.setdefault(scheme, []).append(op["operationId"])
    return out


def plan(tokens: dict[str, str], kinds: list[str]) -> list[Pass]:
    ops = operations_by_scheme()
    basic = f"Basic {department_basic()}"
    citizen_ops = sorted({*ops.get("bearer", []), *ops.get("public", []), *ops.get("metricsBearer", [])})
    passes = {
        "citizen": [
            Pass("citizen", "citizen", f"Bearer {tokens['citizen']}", [o for o in citizen_ops if o != "logout"]),
            Pass("citizen", "citizen logout", f"Bearer {tokens['citizen']}", ["logout"]),
        ],
        "staff": [Pass("staff", "staff", f"Bearer {tokens['staff']}", sorted(ops.get("staffBearer", [])))],
        "department": [
            Pass("department", "department", f"Bearer {tokens['department']}", sorted(ops["clientCredentials"])),
            # Introspection, and the token and revocation endpoints with the client authenticated.
            Pass("department", "department basic", basic, sorted({*ops["clientSecretBasic"], *CLIENT_AUTH_OPS})),
        ],
        "oauth": [Pass("oauth", "oauth mini-program", f"Bearer {tokens['oauth']}", sorted(ops.get("bearer", [])))],
    }
    return [p for kind in kinds for p in passes[kind]]


_TESTED = re.compile(r"Tested:\s+(\d+)")
_CASES = re.compile(r"(\d+) generated")
_FAILURES = re.compile(r"(\d+) unique failures?")


def run_pass(base: str, p: Pass, *, max_examples: int, timeout: int, report_dir: Path) -> Result:
    pattern = "^(" + "|".join(re.escape(o) for o in p.operation_ids) + ")$"
    report = report_dir / f"{p.label.replace(' ', '-')}.ndjson"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(SPEC),
        "--url",
        base,
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(max_examples),
        "--include-operation-id-regex",
        pattern,
        "--header",
        f"Authorization: {p.header}",
        "--header",
        "X-Client-ID: haoban-app",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--seed",
        os.environ.get("FUZZ_SEED", "20261207"),
        "--suppress-health-check",
        "all",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "fuzz_hooks", "PYTHONPATH": str(ROOT / "scripts")}
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, env=env)
        output, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        output += f"\nfuzz pass {p.label!r} ran past {timeout} s"
        code = 124
    result = Result(kind=p.kind, seconds=time.monotonic() - started, exit_codes=[code])
    result.operations, result.cases, result.failures = count(output)
    print(f"\n--- {p.label}: exit {code} ---\n{output}", flush=True)
    return result


def count(output: str) -> tuple[int, int, int]:
    """Operations tested, cases generated and unique failures, from schemathesis' summary."""
    tested = _TESTED.search(output)
    cases = _CASES.search(output)
    failures = _FAILURES.search(output)
    return (
        int(tested.group(1)) if tested else 0,
        int(cases.group(1)) if cases else 0,
        int(failures.group(1)) if failures else 0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "25")))
    parser.add_argument("--pass-timeout", type=int, default=int(os.environ.get("FUZZ_PASS_TIMEOUT_S", "300")))
    parser.add_argument("--kinds", default="citizen,staff,department,oauth")
    parser.add_argument("--base", help="fuzz an already running demo server instead of starting one")
    parser.add_argument("--report-dir", type=Path, default=None)
    args = parser.parse_args()
    kinds = [k for k in args.kinds.split(",") if k]
    with tempfile.TemporaryDirectory(prefix="haoban-fuzz-") as tmp:
        report_dir = args.report_dir or Path(tmp) / "reports"
        report_dir.mkdir(parents=True, exist_ok=True)
        with (
            throwaway_database() as database_url,
            nullcontext(args.base) if args.base else demo_server(Path(tmp), database_url) as base,
        ):
            with httpx.Client(base_url=base, timeout=120) as http:
                tokens = {"citizen": citizen_token(http)}
                tokens["staff"] = staff_token(http)
                tokens["department"] = department_token(http)
                tokens["oauth"] = miniprogram_token(http, tokens["citizen"])
            results: dict[str, Result] = {}
            for p in plan(tokens, kinds):
                r = run_pass(base, p, max_examples=args.max_examples, timeout=args.pass_timeout, report_dir=report_dir)
                total = results.setdefault(p.kind, Result(kind=p.kind))
                total.operations += r.operations
                total.cases += r.cases
                total.failures += r.failures
                total.seconds += r.seconds
                total.exit_codes += r.exit_codes
    print("\nfuzz summary (caller kind: operations, cases, failures, seconds, exit codes)")
    for r in results.values():
        print(
            f"  {r.kind:10} {r.operations:3} operations {r.cases:6} cases {r.failures:3} failures"
            f" {r.seconds:6.0f} s  exit {r.exit_codes}"
        )
    return 0 if all(code == 0 for r in results.values() for code in r.exit_codes) else 1


@contextmanager
def nullcontext(value: str) -> Iterator[str]:
    yield value


if __name__ == "__main__":
    sys.exit(main())
