"""The committed Postman collection and TypeScript types are what the spec generates (docs/clients.md).

Like tests/test_openapi_contract.py, but one step further down: spec → clients. The npm tools come
from clients/package-lock.json; the fixture runs `npm ci` when they are missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from haoban import cli
from haoban.openapi_clients import COLLECTION_ID, POSTMAN, TYPESCRIPT, postman_text, requests_in

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "openapi" / "openapi.json"
TOOLS = ROOT / "clients"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NPM_TIMEOUT_S = 600


@pytest.fixture(scope="module")
def tools() -> Path:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the clients need Node.js 20 and npm (.ci/run installs them)")
    if not (TOOLS / "node_modules" / ".bin" / "openapi-typescript").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the clients need Node.js 20 and npm (.ci/run installs them)")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(TOOLS)], check=True, timeout=NPM_TIMEOUT_S
        )
    return TOOLS


def generate(out: Path, tools: Path, *extra: str) -> int:
    argv = ["openapi", "clients", "--spec", str(SPEC), "--tools", str(tools), "--clients-out", str(out), *extra]
    return cli.main(argv)


@pytest.fixture(scope="module")
def generated(tools: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clients")
    assert generate(out, tools) == 0
    return out


def test_committed_clients_match_the_spec(generated: Path) -> None:
    drifted = [
        name
        for name in (POSTMAN, TYPESCRIPT)
        if not (TOOLS / name).is_file()
        or (TOOLS / name).read_text(encoding="utf-8") != (generated / name).read_text(encoding="utf-8")
    ]
    assert not drifted, f"clients out of date: {', '.join(drifted)} (regenerate with `uv run haoban openapi clients`)"


def test_generation_gives_the_same_bytes_every_run(generated: Path, tools: Path, tmp_path: Path) -> None:
    """The converter fakes values with Math.random and the clock; clients/postman.cjs pins both."""
    assert generate(tmp_path, tools) == 0
    for name in (POSTMAN, TYPESCRIPT):
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes(), name


def test_check_fails_when_a_generated_file_differs(
    generated: Path, tools: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (POSTMAN, TYPESCRIPT):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(generated / name, tmp_path / name)
    assert generate(tmp_path, tools, "--check") == 0

    types = tmp_path / TYPESCRIPT
    types.write_text(types.read_text(encoding="utf-8").replace("createApplication", "createApplicatio"), "utf-8")
    capsys.readouterr()
    assert generate(tmp_path, tools, "--check") == 1
    assert TYPESCRIPT in capsys.readouterr().err


def test_the_collection_has_every_operation_and_the_tester_variables(generated: Path) -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    operations = {
        (method.upper(), path) for path, item in spec["paths"].items() for method in METHODS if method in item
    }
    collection = json.loads((generated / POSTMAN).read_text(encoding="utf-8"))
    requests = {
        (r["request"]["method"], "/" + "/".join(r["request"]["url"]["path"])) for r in requests_in(collection["item"])
    }
    assert len(requests) == len(operations)
    variables = {v["key"]: v["value"] for v in collection["variable"]}
    assert variables == {"baseUrl": "http://127.0.0.1:8000", "bearerToken": ""}
    assert collection["auth"] == {"type": "bearer", "bearer": [{"key": "token", "value": "{{bearerToken}}"}]}
    assert collection["info"]["_postman_id"] == COLLECTION_ID


def test_public_routes_send_no_token(generated: Path) -> None:
    collection = json.loads((generated / POSTMAN).read_text(encoding="utf-8"))
    by_name = {r["name"]: r["request"] for r in requests_in(collection["item"])}
    assert by_name["Public signing keys (JWKS)"]["auth"] == {"type": "noauth"}


def test_the_mini_program_example_type_checks(generated: Path, tools: Path, tmp_path: Path) -> None:
    """clients/ts/example.ts (docs/clients.md) compiles against the generated types, and a wrong body does not."""
    tsc = str(tools / "node_modules" / ".bin" / "tsc")
    example = (TOOLS / "ts" / "example.ts").read_text(encoding="utf-8")
    shutil.copyfile(generated / TYPESCRIPT, tmp_path / "haoban.d.ts")
    good, bad = tmp_path / "good.ts", tmp_path / "bad.ts"
    good.write_text(example, encoding="utf-8")
    bad.write_text(example.replace('service_code: "hpf.withdraw.rent"', "service_code: 19"), encoding="utf-8")

    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [tsc, "--noEmit", "--strict", str(path)], capture_output=True, text=True, timeout=300, check=False
        )

    assert check(good).returncode == 0, check(good).stdout
    failed = check(bad)
    assert failed.returncode != 0
    assert "service_code" in failed.stdout or "not assignable" in failed.stdout


def test_sandbox_token_requests_store_the_access_token(generated: Path) -> None:
    collection = json.loads((generated / POSTMAN).read_text(encoding="utf-8"))
    scripted = {
        "/".join(r["request"]["url"]["path"]): r["event"] for r in requests_in(collection["item"]) if r.get("event")
    }
    assert set(scripted) == {"sandbox/tokens", "sandbox/citizens/:citizen_id/tokens"}
    for events in scripted.values():
        (event,) = events
        assert event["listen"] == "test"
        script = "\n".join(event["script"]["exec"])
        assert "pm.collectionVariables.set('bearerToken', pm.response.json().access_token);" in script


def test_random_ids_are_dropped_and_the_collection_id_is_fixed() -> None:
    made_up = {
        "info": {"_postman_id": "4104a00a-c492-47aa-a0d8-72ab90b5bca8", "name": "Haoban API"},
        "item": [{"id": "8b6d9454-6fef-4140-9f41-9178618836ea", "name": "tokens", "item": []}],
        "variable": [{"key": "baseUrl", "value": "/"}],
    }
    out = json.loads(postman_text(made_up))
    assert out["info"]["_postman_id"] == COLLECTION_ID
    assert out["item"] == [{"name": "tokens", "item": []}]


def test_missing_generators_are_named_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generate(tmp_path / "out", tmp_path) == 1
    err = capsys.readouterr().err
    assert "npm ci --prefix" in err or "node is not installed" in err
    assert not (tmp_path / "out").exists()
