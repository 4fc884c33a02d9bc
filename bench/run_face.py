"""Face login over HTTP against the raw face work it needs, and a non-face route while face work saturates.

    uv run python bench/run_face.py [--face-workers N] [--logins 30] [--probe-duration 10]

1. Makes distinct, replay-screened frame sets (face_frames.py), starts a database and a
   `haoban serve` (one uvicorn worker, HAOBAN_FACE_WORKERS set), registers the bench citizen.
2. Baseline, in a separate process on the same frames (face_baseline.py): face_recognition
   doing only detect + landmarks on every frame and encode on 2, sequentially and over a pool
   of as many processes as the server's face workers (the fair baseline).
3. POST /v1/auth/face-login at concurrency 1 with fresh frames each time; the challenge each
   login needs is timed apart.
4. GET /v1/me at a fixed rate: idle, then while another process keeps the face pool saturated.

Prints two markdown tables, writes JSON to bench/results/face-<UTC time>.json. Exits 1 when a
measured request failed (not when a target is missed: that is a finding, not an error).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import face_frames
import face_report
import face_watch
import harness
from haoban.kit import idnumber

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CLIENT = {"X-Client-ID": "bench-face"}
ID_NUMBER = idnumber.make("410105", date(1990, 5, 17), "777")
NAME = "格蕾丝"


def call(conn: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
    """One POST on a kept-alive connection: (status, body, seconds)."""
    payload = json.dumps(body).encode()
    start = time.perf_counter()
    conn.request("POST", path, body=payload, headers={"Content-Type": "application/json", **CLIENT})
    response = conn.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else {}, time.perf_counter() - start


def b64(frames: list[bytes]) -> list[str]:
    return [base64.b64encode(f).decode() for f in frames]


def attempt(conn: http.client.HTTPConnection, purpose: str, frames: list[bytes], **extra: Any) -> dict[str, Any]:
    status, ch, challenge_s = call(conn, "/v1/auth/face/challenges", {"id_number": ID_NUMBER, "purpose": purpose})
    if status != 201:
        raise RuntimeError(f"challenge answered {status}: {ch}")
    path = "/v1/auth/register" if purpose == "register" else "/v1/auth/face-login"
    body = {"challenge_id": ch["challenge_id"], "id_number": ID_NUMBER, "frames": b64(frames), **extra}
    status, answer, login_s = call(conn, path, body)
    return {"status": status, "answer": answer, "challenge_s": challenge_s, "login_s": login_s}


def enrol(port: int, file: face_frames.FrameFile) -> str:
    """App client, identity with Grace Hopper's photo, registration; returns the access token."""
    status, body = harness.request(
        port,
        "POST",
        "/sandbox/app-clients",
        {"client_id": CLIENT["X-Client-ID"], "name": "bench", "attestation": "optional"},
    )
    if status != 204:
        raise RuntimeError(f"POST /sandbox/app-clients answered {status}: {body}")
    born = idnumber.birth_date(ID_NUMBER)
    identity = {
        "id_number": ID_NUMBER,
        "name": NAME,
        "sex": idnumber.sex(ID_NUMBER),
        "birth_date": born.isoformat() if born else "",
        "address": "河南省郑州市金水区花园路 66 号",
        "photo": base64.b64encode(face_frames.photo(face_frames.GRACE)).decode(),
    }
    status, body = harness.request(port, "POST", "/sandbox/identities", identity)
    if status not in (200, 201):
        raise RuntimeError(f"POST /sandbox/identities answered {status}: {body}")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        consent = {"biometric": True, "terms_version": "2026-11"}
        done = attempt(conn, "register", file.register, name=NAME, consent=consent)
        if done["status"] != 201:
            raise RuntimeError(f"registration answered {done['status']}: {done['answer']}")
        for frames in file.warmups:  # start the pool's workers and load their models
            if (warm := attempt(conn, "login", frames))["status"] != 200:
                raise RuntimeError(f"warm-up login answered {warm['status']}: {warm['answer']}")
    finally:
        conn.close()
    token: str = done["answer"]["access_token"]
    return token


def measure_logins(port: int, file: face_frames.FrameFile, watch: face_watch.Watch) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    login_s, challenge_s, statuses = [], [], Counter[str]()
    try:
        with watch:
            for frames in file.logins:
                done = attempt(conn, "login", frames)
                statuses[f"{done['status']} {done['answer'].get('code', '')}".strip()] += 1
                challenge_s.append(done["challenge_s"])
                if done["status"] == 200:
                    login_s.append(done["login_s"])
    finally:
        conn.close()
    return {"login_s": login_s, "challenge_s": challenge_s, "statuses": dict(statuses), "evidence": watch.result}


def run_json(cmd: list[str], timeout: float) -> dict[str, Any]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def probe_me(args: argparse.Namespace, port: int, token: str, phase: str, watch: face_watch.Watch) -> dict[str, Any]:
    cmd = [sys.executable, str(BENCH / "face_load.py"), "probe", "--port", str(port), "--path", "/v1/me"]
    cmd += ["-H", f"Authorization: Bearer {token}", "--rate", str(args.probe_rate)]
    cmd += ["--duration", str(args.probe_duration), "--warmup", "1"]
    print(f"  GET /v1/me, {phase}: 1 s warm-up + {args.probe_duration:g} s ...", file=sys.stderr)
    with watch:
        result = run_json(cmd, args.probe_duration + 60)
    return {"phase": phase, **result, "evidence": watch.result}


def saturated(
    args: argparse.Namespace, port: int, token: str, frames: Path, *, watch: face_watch.Watch, phase: str
) -> dict[str, Any]:
    """GET /v1/me probed while a separate process keeps `--saturate-concurrency` face attempts going."""
    seconds = args.ramp + 1 + args.probe_duration + 1
    cmd = [sys.executable, str(BENCH / "face_load.py"), "saturate", "--port", str(port), "--frames", str(frames)]
    cmd += ["--concurrency", str(args.saturate_concurrency), "--duration", str(seconds)]
    load = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(args.ramp)  # let the pool's queue fill
        row = probe_me(args, port, token, phase, watch)
        out, err = load.communicate(timeout=seconds + 90)
    finally:
        if load.poll() is None:
            load.kill()
            load.wait()
    if load.returncode != 0:
        raise RuntimeError(f"the face load process failed ({load.returncode}):\n{err[-3000:]}")
    result = json.loads(out)
    answers = result["answers"]
    result["face_busy"] = sum(v for k, v in answers.items() if "face_busy" in k)
    result["attempts_per_s"] = sum(v for k, v in answers.items() if not k.startswith("503")) / result["seconds"]
    return {**row, "load": result}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add(
        "--face-workers",
        type=int,
        default=max(1, (os.cpu_count() or 1) - 1),
        help="HAOBAN_FACE_WORKERS (default: the server's own, one per CPU but one)",
    )
    add("--logins", type=int, default=30, help="measured logins (default 30)")
    add("--frames", type=int, default=5, choices=(3, 4, 5), help="frames per attempt (default 5)")
    add("--probe-rate", type=float, default=100.0, help="GET /v1/me per second (default 100)")
    add("--probe-duration", type=float, default=10.0, help="measured seconds per probe phase (default 10)")
    add("--saturate-concurrency", type=int, help="concurrent face attempts (default 2 x face workers)")
    add("--ramp", type=float, default=3.0, help="seconds of face load before the probe starts (default 3)")
    add("--what-if-nice", type=int, default=10, help="then renice the face workers and probe again (0: skip)")
    add("--database-url", help="an existing PostgreSQL server; a fresh database is made in it")
    add("--out", type=Path, default=RESULTS, help="where the JSON result goes")
    args = parser.parse_args()
    args.saturate_concurrency = args.saturate_concurrency or 2 * args.face_workers
    if min(args.face_workers, args.logins, args.saturate_concurrency) < 1 or args.probe_duration <= 0:
        parser.error("counts and durations must be positive")
    if not 0 <= args.what_if_nice <= 19:
        parser.error("--what-if-nice must be between 0 and 19")
    return args


def main() -> int:
    args = parse_args()
    load_before = os.getloadavg()
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    report: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="haoban-bench-face-")))
        print(f"making {args.logins + 2} screened frame sets ...", file=sys.stderr)
        file, screening = face_frames.build(
            logins=args.logins, warmups=2, frames=args.frames, saturate_sets=4, processes=os.cpu_count() or 1
        )
        frames_path = tmp / "frames.msgpack"
        face_frames.write(file, frames_path)
        print("starting the database ...", file=sys.stderr)
        server_url = args.database_url or harness.start_embedded(stack, tmp)
        db_url, pg_version = harness.create_database(stack, server_url)
        port = harness.free_port()
        env = {**harness.server_env(db_url, port, tmp / "data"), "HAOBAN_FACE_WORKERS": str(args.face_workers)}
        harness.run_cli(env, "db", "migrate")
        harness.run_cli(env, "keys", "rotate")
        print(f"haoban serve on 127.0.0.1:{port}, HAOBAN_FACE_WORKERS={args.face_workers} ...", file=sys.stderr)
        server = harness.start_server(stack, env, port, 1, tmp / "server.log")
        token = enrol(port, file)
        watch = face_watch.Watch(server.pid, db_url)
        print("baseline: raw face_recognition in a separate process ...", file=sys.stderr)
        base_cmd = [sys.executable, str(BENCH / "face_baseline.py"), str(frames_path)]
        report["baseline"] = run_json([*base_cmd, "--workers", str(args.face_workers)], 600)
        print(f"  {args.logins} face logins at concurrency 1 ...", file=sys.stderr)
        report["logins"] = measure_logins(port, file, watch)
        report["probes"] = [probe_me(args, port, token, "idle", watch)]
        busy = f"face pool saturated ({args.saturate_concurrency} attempts)"
        report["probes"].append(saturated(args, port, token, frames_path, watch=watch, phase=busy))
        if args.what_if_nice:  # not the shipped configuration: evidence for why the first figure is what it is
            face_watch.renice_face_workers(server.pid, args.what_if_nice)
            busy += f", face workers reniced to {args.what_if_nice} (what-if)"
            report["probes"].append(saturated(args, port, token, frames_path, watch=watch, phase=busy))
    report["machine"] = {
        "load average before the run (1/5/15 min)": " / ".join(f"{v:.2f}" for v in load_before),
        "load average after": " / ".join(f"{v:.2f}" for v in os.getloadavg()),
        "cpu count": os.cpu_count(),
        "HAOBAN_FACE_WORKERS": args.face_workers,
        "uvicorn workers": 1,
        "frames per attempt": args.frames,
        "frame sets screened (kept registration + 2 warm-ups + logins)": screening,
        "python": platform.python_version(),
        "database": f"PostgreSQL {pg_version} ({'external' if args.database_url else 'embedded'})",
    }
    print(face_report.render(report))
    harness.write_results(args.out, "face", report)
    errors = sum(p["errors"] for p in report["probes"]) + len(file.logins) - len(report["logins"]["login_s"])
    return 1 if errors else 0


if __name__ == "__main__":
    harness.run(main, "run_face")
