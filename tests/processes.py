"""Side processes for tests (simulators of systems we can't run): start, wait until ready, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

KEEP_ENV = ("PATH", "HOME", "LANG", "TMPDIR")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def side_process(
    command: list[str], *, ready_url: str, what: str, before_stop: Callable[[], None] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """Run `command` until the block ends; ready when `ready_url` answers 200 (60 s at most)."""
    proc = subprocess.Popen(
        command,
        env={k: os.environ[k] for k in KEEP_ENV if k in os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"{what} exited early ({proc.returncode}):\n{out}\n{err}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not start")
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            if before_stop is not None:
                before_stop()
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
