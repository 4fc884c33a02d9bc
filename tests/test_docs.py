"""/docs works offline: Swagger UI and everything it loads come from this server."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import swagger_ui_bundle
import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient

from haoban.docs.oas30 import downgrade, schema
from haoban.openapi_export import document

CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".json": "application/json"}


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def referenced_urls(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.urls


def is_same_origin_path(url: str) -> bool:
    return url.startswith("/") and not url.startswith("//")


async def test_docs_page_loads_nothing_from_another_origin(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "swagger-ui" in html
    assert "http://" not in html
    assert "https://" not in html
    urls = referenced_urls(html)
    assert urls, "the page references its assets"
    assert all(is_same_origin_path(url) for url in urls), urls
    # The browser holds the page to it too: scripts and fetches only from this origin.
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self';" in csp
    assert "connect-src 'self';" in csp


async def test_every_asset_the_page_uses_is_served(client: AsyncTestClient[Litestar]) -> None:
    page = (await client.get("/docs")).text
    scripts = [u for u in referenced_urls(page) if u.endswith(".js")]
    init = next(u for u in scripts if u.startswith("/docs/") and not u.startswith("/docs/assets/"))
    init_js = (await client.get(init)).text
    spec_urls = re.findall(r'url:\s*"([^"]+)"', init_js)
    assert spec_urls, "the initializer names the spec it loads"
    assert "http://" not in init_js
    assert "https://" not in init_js

    for url in [*referenced_urls(page), *spec_urls]:
        assert is_same_origin_path(url), url
        response = await client.get(url)
        assert response.status_code == 200, url
        assert response.content, url
        expected = CONTENT_TYPES[Path(url).suffix]
        assert response.headers["content-type"].startswith(expected), (url, response.headers["content-type"])


async def test_only_the_assets_the_page_needs_are_served(client: AsyncTestClient[Litestar]) -> None:
    """The bundle's own index.html would load a demo spec from the internet."""
    for name in ("index.html", "swagger-initializer.js", "..%2F__init__.py"):
        response = await client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_openapi_json_and_yaml_serve_the_31_contract(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/openapi/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert re.fullmatch(r"3\.1\.\d+", doc["openapi"])
    assert doc["paths"]
    assert not any(path.startswith(("/docs", "/openapi")) for path in doc["paths"])

    as_yaml = await client.get("/openapi/openapi.yaml")
    assert as_yaml.status_code == 200
    assert yaml.safe_load(as_yaml.text) == doc


async def test_no_cdn_based_schema_viewers_are_mounted(client: AsyncTestClient[Litestar]) -> None:
    for viewer in ("swagger", "redoc", "elements", "rapidoc", "scalar"):
        assert (await client.get(f"/openapi/{viewer}")).status_code == 404, viewer


async def test_docs_spec_is_the_contract_in_30_spelling(client: AsyncTestClient[Litestar]) -> None:
    served = (await client.get("/docs/openapi-3.0.json")).json()
    contract = (await client.get("/openapi/openapi.json")).json()
    assert served["openapi"].startswith("3.0.")
    assert served == downgrade(contract)
    assert {p: sorted(i) for p, i in served["paths"].items()} == {p: sorted(i) for p, i in contract["paths"].items()}


def test_bundled_swagger_ui_still_reads_only_30() -> None:
    """Why haoban.docs.oas30 exists. If this fails, the bundled UI changed: when it reads 3.1,
    point /docs at /openapi/openapi.json and delete the converter."""
    bundle = (Path(str(swagger_ui_bundle.swagger_ui_path)) / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    assert "openapi: 3.0.n" in bundle


# --- the 3.1 -> 3.0 conversion, as pure functions ----------------------------------


def test_optional_becomes_nullable() -> None:
    assert schema({"oneOf": [{"type": "string"}, {"type": "null"}]}) == {"type": "string", "nullable": True}
    assert schema({"anyOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]}) == {
        "allOf": [{"$ref": "#/components/schemas/X"}],
        "nullable": True,
    }
    assert schema({"type": ["integer", "null"]}) == {"type": "integer", "nullable": True}
    assert schema({"type": ["integer", "string"]}) == {"anyOf": [{"type": "integer"}, {"type": "string"}]}


def test_31_keywords_get_their_30_spelling() -> None:
    assert schema({"type": "string", "const": "a"}) == {"type": "string", "enum": ["a"]}
    assert schema({"type": "object", "examples": [{"a": 1}, {"a": 2}]}) == {"type": "object", "example": {"a": 1}}
    assert schema({"type": "number", "exclusiveMinimum": 0}) == {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
    }
    assert schema({"type": "object", "required": []}) == {"type": "object"}
    assert schema({"type": "string", "contentMediaType": "image/png"}) == {"type": "string"}


def test_property_names_are_not_mistaken_for_keywords() -> None:
    converted = schema(
        {
            "type": "object",
            "properties": {
                "const": {"type": "string"},
                "examples": {"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "null"}]}},
            },
        }
    )
    assert converted["properties"] == {
        "const": {"type": "string"},
        "examples": {"type": "array", "items": {"type": "integer", "nullable": True}},
    }


def test_example_values_are_left_alone() -> None:
    value = {"type": "null", "const": 1, "examples": [1]}
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"type": "object"}, "examples": {"e": {"value": value}}}
                        }
                    },
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"example": value}}}},
                }
            }
        },
    }
    before = copy.deepcopy(doc)
    out = downgrade(doc)
    assert doc == before, "the input is not changed"
    op = out["paths"]["/x"]["post"]
    assert op["requestBody"]["content"]["application/json"]["examples"]["e"]["value"] == value
    assert op["responses"]["200"]["content"]["application/json"]["example"] == value


def _schemas(node: Any, in_schema: bool = False) -> Iterator[dict[str, Any]]:
    """Every schema object in a document, skipping example values."""
    if isinstance(node, list):
        for item in node:
            yield from _schemas(item, in_schema)
    elif isinstance(node, dict):
        if in_schema:
            yield node
        for key, value in node.items():
            if key in ("example", "examples", "value") and not in_schema:
                continue
            if key == "schema":
                yield from _schemas(value, True)
            elif key == "schemas" or (in_schema and key == "properties"):
                for sub in value.values():
                    yield from _schemas(sub, True)
            elif not (in_schema and key in ("example", "enum", "default")):
                yield from _schemas(value, in_schema)


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    return document()


def test_the_served_30_document_has_no_31_constructs(contract: dict[str, Any]) -> None:
    converted = downgrade(contract)
    assert converted["openapi"] == "3.0.3"
    found = list(_schemas(converted))
    assert found, "the walk finds schemas"
    for s in found:
        assert s.get("type") != "null", s
        assert not isinstance(s.get("type"), list), s
        assert "const" not in s, s
        assert not isinstance(s.get("examples"), list), s
        assert s.get("required") != [], s
