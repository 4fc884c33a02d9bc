"""Interactive API docs at /docs, served offline.

Swagger UI 5 comes from the `swagger-ui-py` wheel (its static files; its
framework handlers do not cover Litestar and its page uses an inline script), so
the page works with no internet access and loads nothing from another origin.
Swagger UI 5 reads OpenAPI 3.1, so the page loads the contract itself. The page's
own CSP enforces all that in the browser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from litestar import Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File
from swagger_ui.utils import SWAGGER_UI_PY_ROOT

BASE: Final = "/docs"
ASSETS: Final = f"{BASE}/assets"
SPEC_URL: Final = "/openapi/openapi.json"  # the 3.1 contract, as exported

# Only what the page uses; the wheel's own swagger-initializer.js points at a petstore on the internet.
_ASSET_TYPES: Final[dict[str, str]] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}

CSP: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes
        "img-src 'self' data:",  # its icons are data: SVGs
        "font-src 'self'",
        "connect-src 'self'",  # the spec, and "Try it out" against this origin
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

PAGE: Final = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Haoban API</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
  <link rel="icon" type="image/png" sizes="32x32" href="{ASSETS}/favicon-32x32.png">
  <link rel="icon" type="image/png" sizes="16x16" href="{ASSETS}/favicon-16x16.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{BASE}/init.js"></script>
</body>
</html>
"""

# A file, not an inline script, so the page can forbid inline scripts.
INIT_JS: Final = f"""window.ui = SwaggerUIBundle({{
  url: "{SPEC_URL}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
}});
"""


def _assets_dir() -> Path:
    return Path(SWAGGER_UI_PY_ROOT) / "static"


@get(BASE, include_in_schema=False)
async def page() -> Response[str]:
    return Response(
        PAGE,
        media_type="text/html",
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@get(f"{BASE}/init.js", include_in_schema=False)
async def init_js() -> Response[str]:
    return Response(INIT_JS, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@get(f"{ASSETS}/{{name:str}}", include_in_schema=False)
async def asset(name: FromPath[str]) -> File:
    media_type = _ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFoundException(f"no docs asset {name!r}")
    return File(
        _assets_dir() / name,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


router = Router(path="/", route_handlers=[page, init_js, asset], include_in_schema=False)
