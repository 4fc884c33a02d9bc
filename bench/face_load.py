"""Two small clients for run_face.py, each run as a process of its own.

    python bench/face_load.py saturate --port P --frames F.msgpack --concurrency 4 --duration 20
    python bench/face_load.py probe --port P --path /v1/me -H 'Authorization: Bearer ...' --rate 100 --duration 10

saturate: keeps the face pool busy. Each of N threads loops: a fresh valid ID number that no
identity has, a login challenge for it, and a face login with one of the pre-made frame sets.
The server still detects and encodes those frames against a decoy (docs/identity.md, "No
oracle") and answers 401, so every attempt is full face work. A new ID number per attempt
keeps the per-identity throttle from locking; failed attempts' frames are not remembered, so
sets can be reused. Counts every answer by status and problem code (503 face_busy apart).

probe: GET one path at a fixed rate on one keep-alive connection (a request is sent at its
scheduled time, or at once if the previous answer came late), so the probe itself is a light,
steady load whatever the server's state. Reports latency percentiles over the 2xx answers.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from haoban.kit import idnumber

CLIENT_ID = "bench-face"


def post(conn: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", "X-Client-ID": CLIENT_ID})
    response = conn.getresponse()
    raw = response.read()
    return response.status, json.loads(raw) if raw else {}


def unknown_id_number(rng: random.Random) -> str:
    """Prefix 990000 is used by no bench identity; the birth date and sequence make it fresh."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 50))
    return idnumber.make("990000", born, f"{rng.randrange(1000):03d}")


def _saturate_thread(port: int, bodies: list[str], stop: threading.Event, out: Counter[str], seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        while not stop.is_set():
            id_number = unknown_id_number(rng)
            try:
                status, ch = post(
                    conn, "/v1/auth/face/challenges", json.dumps({"id_number": id_number, "purpose": "login"}).encode()
                )
                if status != 201:
                    out[f"challenge {status} {ch.get('code', '')}".strip()] += 1
                    continue
                body = '{"challenge_id":"%s","id_number":"%s","frames":%s}' % (  # noqa: UP031
                    ch["challenge_id"],
                    id_number,
                    rng.choice(bodies),
                )
                status, answer = post(conn, "/v1/auth/face-login", body.encode())
                out[f"{status} {answer.get('code', '')}".strip()] += 1
            except (OSError, http.client.HTTPException) as exc:
                out[f"connection {type(exc).__name__}"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    finally:
        conn.close()


def saturate(args: argparse.Namespace) -> dict[str, Any]:
    import face_frames  # heavy (the engine's modules); the probe does not need it

    file = face_frames.read(args.frames)
    bodies = [json.dumps([base64.b64encode(f).decode() for f in s]) for s in file.saturate]
    stop = threading.Event()
    counts: list[Counter[str]] = [Counter() for _ in range(args.concurrency)]
    threads = [
        threading.Thread(target=_saturate_thread, args=(args.port, bodies, stop, counts[i], i), daemon=True)
        for i in range(args.concurrency)
    ]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(args.duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    total: Counter[str] = sum(counts, Counter())
    elapsed = time.perf_counter() - start
    return {"concurrency": args.concurrency, "seconds": elapsed, "answers": dict(total)}


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest rank, like loadgen.py."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, round(pct / 100 * len(ordered)))) - 1]


def _runq_s() -> float:
    """Seconds this process has waited runnable for a CPU: the client's own share of a latency."""
    try:
        return int(Path("/proc/self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def probe(args: argparse.Namespace) -> dict[str, Any]:
    headers = dict(h.split(": ", 1) for h in args.header)
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    interval = 1 / args.rate
    begin = time.perf_counter()
    measure_from = begin + args.warmup
    end = measure_from + args.duration
    tick = 0
    late = 0
    runq = None
    while (due := begin + tick * interval) < end:
        tick += 1
        if (now := time.perf_counter()) < due:
            time.sleep(due - now)
        elif now - due > interval:
            late += due >= measure_from
        sent = time.perf_counter()
        conn.request("GET", args.path, headers=headers)
        response = conn.getresponse()
        response.read()
        ms = (time.perf_counter() - sent) * 1000
        if sent < measure_from:
            continue
        if runq is None:
            runq = _runq_s()
        statuses[str(response.status)] += 1
        if 200 <= response.status < 300:
            latencies.append(ms)
    conn.close()
    waited = _runq_s() - (runq or 0.0)
    ok = len(latencies)
    return {
        "path": args.path,
        "rate": args.rate,
        "requests": sum(statuses.values()),
        "ok": ok,
        "errors": sum(statuses.values()) - ok,
        "statuses": dict(statuses),
        "sent_late": late,
        "client_runq_ms_per_s": 1000 * waited / args.duration,
        "p50_ms": percentile(latencies, 50),
        "p90_ms": percentile(latencies, 90),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies, default=None),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    sat = sub.add_parser("saturate")
    sat.add_argument("--port", type=int, required=True)
    sat.add_argument("--frames", type=Path, required=True)
    sat.add_argument("--concurrency", type=int, default=4)
    sat.add_argument("--duration", type=float, default=20.0)
    prb = sub.add_parser("probe")
    prb.add_argument("--port", type=int, required=True)
    prb.add_argument("--path", required=True)
    prb.add_argument("--header", "-H", action="append", default=[])
    prb.add_argument("--rate", type=float, default=100.0)
    prb.add_argument("--duration", type=float, default=10.0)
    prb.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args()
    result = saturate(args) if args.mode == "saturate" else probe(args)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
