"""/docs works offline: Swagger UI and everything it loads come from this server."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import yaml
from litestar import Litestar
from litestar.testing import AsyncTestClient
from swagger_ui.utils import SWAGGER_UI_PY_ROOT

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/vnd.oai.openapi+json",
}


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


async def test_docs_page_loads_the_31_contract(client: AsyncTestClient[Litestar]) -> None:
    """No converter: Swagger UI 5 reads the 3.1 contract as exported."""
    init_js = (await client.get("/docs/init.js")).text
    assert re.findall(r'url:\s*"([^"]+)"', init_js) == ["/openapi/openapi.json"]
    assert (await client.get("/docs/openapi-3.0.json")).status_code == 404


async def test_the_served_ui_is_swagger_ui_5_from_the_wheel(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert response.status_code == 200
    versions = re.findall(r'PACKAGE_VERSION:"(\d+)\.\d+\.\d+"', response.text)
    assert versions, "the bundle names its version"
    assert all(int(major) >= 5 for major in versions), versions
    assert "isOAS31" in response.text, "this Swagger UI reads OpenAPI 3.1"
    wheel = Path(SWAGGER_UI_PY_ROOT) / "static" / "swagger-ui-bundle.js"
    assert response.content == wheel.read_bytes()
