"""Domain events: one JSON log line each on `haoban.events`, and a count for the metrics.

Events carry codes and masked ids only (`kit.masking.mask_ref`), never personal
data. The listener (the app's metrics) is found through a context variable that
the request middleware and the app lifespan set, so slices emit without being
handed the metrics object and a test app counts only its own events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Literal

Event = Literal[
    "submitted", "decided", "paid", "refused", "locked_out", "face_verified", "reconciled", "reconcile_difference"
]
Listener = Callable[[Event, Mapping[str, str]], None]

listener_var: ContextVar[Listener | None] = ContextVar("event_listener", default=None)
log = logging.getLogger("haoban.events")


def emit(event: Event, *, code: str | None = None, **fields: str) -> None:
    """Log `event` with its problem or reason `code` and plain fields, and count it."""
    values = {"event": event, "code": code or "", **fields}
    log.info("%s%s", event, f" {code}" if code else "", extra=values)
    listener = listener_var.get()
    if listener is not None:
        listener(event, values)
