"""The audit slice's public surface: other slices record and query the trail through here, never its repository."""

from __future__ import annotations

from haoban.audit.repository import ROW_COLUMNS, add_rows, has_event, record

__all__ = ["ROW_COLUMNS", "add_rows", "has_event", "record"]
