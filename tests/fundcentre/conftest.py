"""The fund centre on the real app, sandbox bank and sandbox fund centre (the applications' fixtures)."""

from __future__ import annotations

from tests.applications.conftest import app

__all__ = ["app"]
