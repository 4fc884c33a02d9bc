"""Structured JSON logs: one object per line, scrubbed of personal data.

Every line has `ts` (UTC), `level`, `logger`, `msg`, `request_id` (the
current request's id, null outside a request) and `trace_id` (W3C, haoban.kit.tracing); values passed with `extra=`
go under `extra`. The message, the extra strings and any traceback pass
through `kit.masking.scrub`, so an ID number or token logged by mistake is
masked before it is written.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec

from haoban.kit.context import request_id_var
from haoban.kit.masking import scrub
from haoban.kit.tracing import current_trace_id

# Attributes every LogRecord has; anything else came from `extra=`.
_STANDARD = {
    *logging.LogRecord("", 0, "", 0, "", None, None).__dict__,
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI copy of the message
}

_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.asgi", "uvicorn.access")


def _clean(value: Any) -> Any:
    """A JSON-safe copy of `value` with every string scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {scrub(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
            "request_id": request_id_var.get(),
            "trace_id": current_trace_id(),
        }
        extra = {k: _clean(v) for k, v in record.__dict__.items() if k not in _STANDARD}
        if extra:
            entry["extra"] = extra
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return msgspec.json.encode(entry).decode()


def configure_logging(level: str, *, stream: TextIO | None = None) -> None:
    """Send every logger, uvicorn's included, to one JSON handler on stderr (or `stream`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _UVICORN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    # Our middleware writes the access line (route template, no query string);
    # uvicorn's own would carry the raw path and query, so keep it quiet.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # httpx logs every request URL at INFO; source URLs carry ID numbers.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
