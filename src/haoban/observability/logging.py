"""Structured JSON logs (placeholder until the observability slice lands)."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr, force=True)
