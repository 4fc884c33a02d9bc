"""The documented command makes a Python client that imports and reads our answers (docs/clients.md).

Not committed: openapi-python-client runs from uvx on demand. Slow, and it needs the tool from PyPI
or the uv cache, so it skips when the tool cannot be had.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "openapi.json"
CONFIG = ROOT / "clients" / "python" / "config.yml"
TOOL = "openapi-python-client==0.29.1"  # the version docs/clients.md names
TIMEOUT_S = 600
RUNTIME = ("--with", "httpx", "--with", "attrs", "--with", "python-dateutil")  # what the client imports

pytestmark = pytest.mark.slow

IMPORT_CHECK = """
import importlib, json, pkgutil, sys
import haoban_client
from haoban_client import AuthenticatedClient
from haoban_client.api.applications import create_application
from haoban_client.models import ApplicationCreate, ApplicationView

modules = [m.name for m in pkgutil.walk_packages(haoban_client.__path__, "haoban_client.")]
for name in modules:
    importlib.import_module(name)
example = json.loads(sys.argv[1])
view = ApplicationView.from_dict(example)
body = ApplicationCreate.from_dict({"service_code": "hpf.withdraw.rent", "inputs": {}})
AuthenticatedClient(base_url="http://127.0.0.1:8000", token="t")
print(json.dumps({"modules": len(modules), "status": view.status, "id": str(view.application_id),
                  "body": body.to_dict(), "sync": callable(create_application.sync_detailed)}))
"""


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    return uv


def _run(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False, env=env, cwd=cwd)


def _paid_example() -> dict[str, object]:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    examples = spec["paths"]["/v1/applications"]["post"]["responses"]["201"]["content"]["application/json"]
    value: dict[str, object] = next(iter(examples["examples"].values()))["value"]
    return value


def test_the_documented_command_makes_a_client_that_imports(tmp_path: Path) -> None:
    uv = _uv()
    if _run([uv, "tool", "run", "--from", TOOL, "openapi-python-client", "--version"]).returncode != 0:
        pytest.skip(f"{TOOL} is not available (offline and not in the uv cache)")
    out = tmp_path / "haoban-client"
    made = _run(
        [
            uv,
            "tool",
            "run",
            "--from",
            TOOL,
            "openapi-python-client",
            "generate",
            "--path",
            str(SPEC),
            "--config",
            str(CONFIG),
            "--output-path",
            str(out),
        ]
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert (out / "haoban_client" / "client.py").is_file()

    example = _paid_example()
    env = {**os.environ, "PYTHONPATH": str(out)}
    script = ["python", "-c", IMPORT_CHECK, json.dumps(example)]
    checked = _run(
        [uv, "run", "--no-project", "--python", sys.executable, *RUNTIME, *script],
        env=env,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stderr
    result = json.loads(checked.stdout.strip().splitlines()[-1])
    assert result["modules"] > 20
    assert result["status"] == example["status"]
    assert result["id"] == example["application_id"]
    assert result["body"] == {"service_code": "hpf.withdraw.rent", "inputs": {}}
    assert result["sync"] is True
