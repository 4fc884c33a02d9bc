"""A small HTTP/1.1 keep-alive load generator on raw asyncio sockets.

Run as its own process so that its CPU time is not charged to the server:

    python bench/loadgen.py --port 8000 --path /health/live --concurrency 32 --duration 5

It opens N connections, each with one request in flight at a time (no
pipelining), reads every response by Content-Length, and prints one JSON
object on stdout. A response that is not 2xx, a connection that fails, and a
request still unanswered after the grace period all count as errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

GRACE_S = 5.0  # how long to wait for in-flight requests after the deadline
MAX_HEADER_BYTES = 65_536


def build_request(host: str, port: int, path: str, headers: list[str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive", *headers, "", ""]
    return "\r\n".join(lines).encode("latin-1")


class Stats:
    """What one run observed; only requests that finish while `recording` count."""

    def __init__(self) -> None:
        self.recording = False
        self.latencies_ns: list[int] = []
        self.statuses: Counter[str] = Counter()
        self.errors = 0
        self.connects = 0  # more than the number of connections means keep-alive broke somewhere

    def reset(self) -> None:
        self.latencies_ns.clear()
        self.statuses.clear()
        self.errors = 0
        self.connects = 0


class Client(asyncio.Protocol):
    """One keep-alive connection: send a request, read the whole response, repeat."""

    def __init__(self, request: bytes, stats: Stats, stop: asyncio.Event) -> None:
        self.request = request
        self.stats = stats
        self.stop = stop
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.need = -1  # total bytes of the current response, once its head is parsed
        self.status = 0
        self.close_after = False  # the server said it will close this connection
        self.started = 0
        self.in_flight = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)
        if self.stats.recording:
            self.stats.connects += 1
        self._send()

    def _send(self) -> None:
        if self.transport is None:
            return
        if self.stop.is_set():
            self.transport.close()
            return
        self.buf.clear()
        self.need = -1
        self.in_flight = True
        self.started = time.perf_counter_ns()
        self.transport.write(self.request)

    def _fail(self, status: str) -> None:
        if self.in_flight and self.stats.recording:
            self.stats.errors += 1
            self.stats.statuses[status] += 1
        self.in_flight = False
        if self.transport is not None:
            self.transport.close()

    def _parse_head(self) -> bool:
        """Read status and framing once the head is in; False while incomplete or after a failure."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buf) > MAX_HEADER_BYTES:
                self._fail("bad-response")
            return False
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        length = -1
        self.close_after = head[0].startswith("HTTP/1.0")
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection":
                self.close_after = value.strip().lower() == "close"
        if len(parts) < 2 or not parts[1].isdigit() or length < 0:
            self._fail("unframed-response")  # no Content-Length: this client cannot frame it
            return False
        self.status = int(parts[1])
        self.need = end + 4 + length
        return True

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.need < 0 and not self._parse_head():
            return
        if len(self.buf) < self.need:
            return
        if len(self.buf) > self.need:
            self._fail("extra-bytes")  # the server answered more than was asked
            return
        elapsed = time.perf_counter_ns() - self.started
        self.in_flight = False
        if self.stats.recording:
            self.stats.statuses[str(self.status)] += 1
            if 200 <= self.status < 300:
                self.stats.latencies_ns.append(elapsed)
            else:
                self.stats.errors += 1
        if self.close_after and self.transport is not None:
            self.transport.close()  # connection_loop opens a new one
            return
        self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.in_flight:
            self._fail("connection-lost")
        if not self.closed.done():
            self.closed.set_result(None)


async def connection_loop(
    host: str, port: int, make_client: Callable[[], Client], stats: Stats, stop: asyncio.Event
) -> None:
    """Keep one connection busy until `stop`; reconnect if the server closes it."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        try:
            _, client = await loop.create_connection(make_client, host, port)
        except OSError:
            if stats.recording:
                stats.errors += 1
                stats.statuses["connect-failed"] += 1
            await asyncio.sleep(0.05)
            continue
        await client.closed


def percentile(sorted_values: list[int], pct: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1] / 1e6


async def run(
    host: str, port: int, path: str, *, headers: list[str], concurrency: int, duration: float, warmup: float
) -> dict[str, Any]:
    request = build_request(host, port, path, headers)
    stats = Stats()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(connection_loop(host, port, lambda: Client(request, stats, stop), stats, stop))
        for _ in range(concurrency)
    ]
    try:
        await asyncio.sleep(warmup)
        stats.reset()
        stats.recording = True
        start = time.perf_counter()
        await asyncio.sleep(duration)
        stats.recording = False
        elapsed = time.perf_counter() - start
        stop.set()
        _, pending = await asyncio.wait(tasks, timeout=GRACE_S)
        if pending:
            stats.errors += len(pending)
            stats.statuses["timeout"] += len(pending)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    ok = sorted(stats.latencies_ns)
    completed = sum(stats.statuses.values())
    return {
        "generator": "python",
        "requests": completed,
        "ok": len(ok),
        "errors": stats.errors,
        "statuses": dict(stats.statuses),
        "connects": stats.connects,
        "duration_s": elapsed,
        "rps": len(ok) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(ok, 50),
        "p99_ms": percentile(ok, 99),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", "-H", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    args = parser.parse_args(argv)
    work = run(
        args.host,
        args.port,
        args.path,
        headers=args.header,
        concurrency=args.concurrency,
        duration=args.duration,
        warmup=args.warmup,
    )
    try:
        import uvloop  # the server runs on it too; it makes the generator cheaper
    except ImportError:
        result = asyncio.run(work)
    else:
        result = uvloop.run(work)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
