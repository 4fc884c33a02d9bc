"""Render the OpenAPI contract deterministically, without touching the environment."""

from __future__ import annotations

import base64
import json
import tempfile

import yaml

from haoban.app import create_app
from haoban.settings import load_settings

_DUMMY_KEY = base64.urlsafe_b64encode(bytes(32)).decode()


def document() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            {
                "HAOBAN_MODE": "demo",
                "HAOBAN_DATA_DIR": tmp,
                "HAOBAN_FIELD_KEYS": f"export:{_DUMMY_KEY}",
                "HAOBAN_TOKEN_HMAC_KEY": _DUMMY_KEY,
            }
        )
        app = create_app(settings, database_url="postgresql://unused/unused")
        schema: dict[str, object] = app.openapi_schema.to_schema()
    return schema


def render() -> dict[str, str]:
    doc = document()
    return {
        "openapi.json": json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        "openapi.yaml": yaml.safe_dump(doc, allow_unicode=True, sort_keys=True, width=120),
    }
