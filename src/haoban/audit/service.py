"""The audit slice's public surface: other slices record and query the trail through here, never its repository."""

from __future__ import annotations

from haoban.audit.repository import has_event, record

__all__ = ["has_event", "record"]
