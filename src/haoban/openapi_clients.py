"""Generate the Postman collection and the TypeScript types from the committed OpenAPI file.

Both generators are npm packages pinned in clients/package-lock.json (`npm ci --prefix clients`).
The output is the same bytes on every run, so a test can diff it like the spec (docs/clients.md).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

from haoban.cli_errors import CliError

POSTMAN = "postman/haoban.postman_collection.json"
TYPESCRIPT = "ts/haoban.d.ts"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
# A fixed collection id: re-importing the file into Postman replaces the old copy.
COLLECTION_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "urn:haoban:postman:collection"))
TIMEOUT_S = 300
# Sending a sandbox-token request stores the answer's access token in {{bearerToken}}.
TOKEN_ROUTES = (("POST", ("sandbox", "tokens")), ("POST", ("sandbox", "citizens", ":citizen_id", "tokens")))
STORE_TOKEN = [
    "if (pm.response.code === 201) {",
    "    pm.collectionVariables.set('bearerToken', pm.response.json().access_token);",
    "}",
]
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def render(spec: Path, tools: Path) -> dict[str, str]:
    """The generated files by their path under the clients folder."""
    spec, tools = spec.resolve(), tools.resolve()
    bin_dir = tools / "node_modules" / ".bin"
    node = shutil.which("node")
    if node is None:
        raise CliError("node is not installed; the clients need Node.js 20 and npm")
    if not (bin_dir / "openapi-typescript").exists():
        raise CliError(f"the generators are not installed; run `npm ci --prefix {tools}`")
    collection = json.loads(_run("openapi-to-postmanv2", [node, str(tools / "postman.cjs"), str(spec)], tools))
    types = _run("openapi-typescript", [str(bin_dir / "openapi-typescript"), str(spec)], tools)
    return {POSTMAN: postman_text(collection), TYPESCRIPT: types}


def postman_text(collection: dict[str, Any]) -> str:
    """Fix what the converter makes up on each run, and give testers the variables they set."""
    _drop_random_ids(collection)
    collection["info"]["_postman_id"] = COLLECTION_ID
    collection["variable"] = [
        {"key": "baseUrl", "type": "string", "value": DEFAULT_BASE_URL},
        {"key": "bearerToken", "type": "string", "value": ""},
    ]
    for item in requests_in(collection.get("item", [])):
        request = item["request"]
        if (request["method"], tuple(request["url"]["path"])) in TOKEN_ROUTES:
            item["event"] = [{"listen": "test", "script": {"type": "text/javascript", "exec": STORE_TOKEN}}]
    return json.dumps(collection, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def requests_in(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every request of a collection, through its folders."""
    found = []
    for item in items:
        if "request" in item:
            found.append(item)
        found.extend(requests_in(item.get("item", [])))
    return found


def _drop_random_ids(node: object) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("id"), str) and _UUID.match(node["id"]):
            del node["id"]
        for value in node.values():
            _drop_random_ids(value)
    elif isinstance(node, list):
        for value in node:
            _drop_random_ids(value)


def _run(name: str, argv: list[str], cwd: Path) -> str:
    result = subprocess.run(  # noqa: S603 - fixed programs, paths we built
        argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False, encoding="utf-8"
    )
    if result.returncode != 0:
        raise CliError(f"{name} failed: {result.stderr.strip()}")
    return result.stdout


def stale(files: dict[str, str], out_dir: Path) -> list[str]:
    return [
        name
        for name, text in files.items()
        if not (out_dir / name).is_file() or (out_dir / name).read_text(encoding="utf-8") != text
    ]


def write(files: dict[str, str], out_dir: Path) -> list[Path]:
    written = []
    for name, text in files.items():
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
