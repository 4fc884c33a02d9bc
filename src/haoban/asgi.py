"""Entry point for ASGI servers: build the app from the environment."""

from __future__ import annotations

import os

from litestar import Litestar

from haoban.app import create_app
from haoban.kit.settings_error import SettingsError
from haoban.observability.logging import configure_logging
from haoban.settings import load_settings


def create_from_env() -> Litestar:
    settings = load_settings(os.environ)
    configure_logging(settings.log_level)
    if not settings.database.url:
        raise SettingsError("DATABASE_URL is required to serve (haoban serve sets it for the embedded server)")
    return create_app(settings, database_url=settings.database.url)
