"""The committed OpenAPI files are the contract: in sync with the app, complete, and truthful.

Conventions the completeness tests enforce (see haoban.kit.openapi):
- Every operation has an operationId, a summary and tags; operationIds are unique.
- Who may call it is always declared. The document's default is the bearer token;
  a public route says `security=PUBLIC` (`[{}]`, one requirement needing no scheme).
  `security=[]` is refused: Litestar drops it and the route silently inherits bearer.
- A route that needs a token documents its 401.
- Every error response is application/problem+json, and every operation documents 500.
- Every JSON request body and every JSON success body has an example, and each example
  decodes into the type the handler declares and re-encodes to exactly itself.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import jsonschema_rs
import msgspec
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Example

from haoban import cli
from haoban.app import create_app
from haoban.kit.problems import PROBLEM_JSON
from haoban.openapi_export import document
from haoban.settings import load_settings

if TYPE_CHECKING:
    from litestar.params import KwargDefinition

    from haoban.kit.errors import AppError

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PUBLIC: list[dict[str, list[str]]] = [{}]

Operation = tuple[str, dict[str, Any]]  # ("POST /v1/auth/logout (logout)", operation)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return document()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    """The app as the export builds it; nothing connects to a database."""
    key = base64.urlsafe_b64encode(bytes(32)).decode()
    settings = load_settings(
        {
            "HAOBAN_MODE": "demo",
            "HAOBAN_DATA_DIR": str(tmp_path_factory.mktemp("data")),
            "HAOBAN_FIELD_KEYS": f"contract:{key}",
            "HAOBAN_TOKEN_HMAC_KEY": key,
        }
    )
    return create_app(settings, database_url="postgresql://unused/unused")


def operations(doc: dict[str, Any]) -> Iterator[Operation]:
    for path, item in sorted(doc["paths"].items()):
        for method in METHODS:
            if op := item.get(method):
                yield f"{method.upper()} {path} ({op.get('operationId', 'no operationId')})", op


def documented_handlers(app: Litestar) -> Iterator[HTTPRouteHandler]:
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if isinstance(handler, HTTPRouteHandler) and handler.resolve_include_in_schema():
                yield handler


def fail_naming(offenders: list[str], rule: str) -> None:
    if offenders:
        pytest.fail(f"{rule}:\n  " + "\n  ".join(offenders), pytrace=False)


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


# --- the committed files match the app ----------------------------------------------


def test_committed_contract_matches_the_app() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "haoban.cli", "openapi", "export", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"{result.stderr.strip()} (regenerate with `uv run haoban openapi export`)"


def test_check_fails_when_a_committed_file_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path)
    assert cli.main(["openapi", "export", "--out", out]) == 0
    assert cli.main(["openapi", "export", "--check", "--out", out]) == 0

    contract = tmp_path / "openapi.json"
    data = bytearray(contract.read_bytes())
    data[len(data) // 2] ^= 0x01  # one flipped bit in the middle of the file
    contract.write_bytes(bytes(data))
    capsys.readouterr()
    assert cli.main(["openapi", "export", "--check", "--out", out]) == 1
    assert "openapi.json" in capsys.readouterr().err


def test_check_fails_when_a_committed_file_is_missing(tmp_path: Path) -> None:
    out = str(tmp_path)
    assert cli.main(["openapi", "export", "--out", out]) == 0
    (tmp_path / "openapi.yaml").unlink()
    assert cli.main(["openapi", "export", "--check", "--out", out]) == 1


# --- completeness ----------------------------------------------------------------


def test_the_document_has_operations(doc: dict[str, Any]) -> None:
    """Guards the rules below against passing on an empty document."""
    assert doc["openapi"].startswith("3.1.")
    assert len(list(operations(doc))) >= 5


def test_every_operation_has_id_summary_and_tags(doc: dict[str, Any]) -> None:
    offenders = [
        f"{label}: missing {', '.join(k for k in ('operationId', 'summary', 'tags') if not op.get(k))}"
        for label, op in operations(doc)
        if not (op.get("operationId") and op.get("summary") and op.get("tags"))
    ]
    fail_naming(offenders, "every operation needs operation_id, summary and tags")


def test_operation_ids_are_unique(doc: dict[str, Any]) -> None:
    seen: dict[str, list[str]] = {}
    for label, op in operations(doc):
        seen.setdefault(op.get("operationId", ""), []).append(label)
    offenders = [f"{op_id!r}: {', '.join(labels)}" for op_id, labels in seen.items() if len(labels) > 1]
    fail_naming(offenders, "operationIds must be unique")


def test_every_operation_declares_who_may_call_it(doc: dict[str, Any]) -> None:
    schemes = set(doc.get("components", {}).get("securitySchemes", {}))
    default = doc.get("security")
    assert default == [{"bearer": []}], "the document's default must be the bearer token"
    offenders = []
    for label, op in operations(doc):
        effective = op.get("security", default)
        if not effective:
            offenders.append(f"{label}: no security requirement")
            continue
        unknown = {name for requirement in effective for name in requirement} - schemes
        if unknown:
            offenders.append(f"{label}: unknown security scheme(s) {sorted(unknown)}")
        if {} in effective and effective != PUBLIC:
            offenders.append(f"{label}: public routes say security=PUBLIC alone, got {effective}")
    fail_naming(offenders, "every operation is either PUBLIC ([{}]) or names a known scheme")


def test_no_route_says_security_empty_list(app: Litestar) -> None:
    """`security=[]` is dropped by Litestar, so the route would be documented as needing a token."""
    offenders = [
        f"{handler.operation_id or handler.handler_name}: security=[]; use haoban.kit.openapi.PUBLIC"
        for handler in documented_handlers(app)
        if handler.security is not None and len(handler.security) == 0
    ]
    fail_naming(offenders, "public routes use security=PUBLIC")


def test_routes_that_need_a_token_document_401(doc: dict[str, Any]) -> None:
    offenders = [
        label
        for label, op in operations(doc)
        if op.get("security", doc.get("security")) != PUBLIC and "401" not in op["responses"]
    ]
    fail_naming(offenders, "a route that needs a token documents 401 (responses=problems(401, ...))")


def test_every_error_response_is_problem_json(doc: dict[str, Any]) -> None:
    offenders = []
    for label, op in operations(doc):
        responses: dict[str, Any] = op["responses"]
        errors = {status: r for status, r in responses.items() if status[0] in "45"}
        if not errors:
            offenders.append(f"{label}: documents no 4xx/5xx response")
        if "500" not in responses:
            offenders.append(f"{label}: documents no 500")
        for status, response in errors.items():
            media = sorted((response.get("content") or {}).keys())
            if media != [PROBLEM_JSON]:
                offenders.append(f"{label}: {status} is {media or 'empty'}, not [{PROBLEM_JSON!r}]")
    fail_naming(offenders, "errors are documented as problem+json with problems(...), which always adds 500")


def _media_example(media: dict[str, Any]) -> bool:
    schema = media.get("schema") or {}
    return bool(media.get("example") or media.get("examples") or schema.get("examples") or schema.get("example"))


def test_every_request_body_has_an_example(doc: dict[str, Any]) -> None:
    offenders = [
        f"{label}: {media_type}"
        for label, op in operations(doc)
        for media_type, media in (op.get("requestBody", {}).get("content") or {}).items()
        if not _media_example(media)
    ]
    fail_naming(offenders, "request bodies need an example: Annotated[T, Body(examples=example(...))]")


def test_every_json_success_response_has_an_example(doc: dict[str, Any]) -> None:
    offenders = [
        f"{label}: {status} {media_type}"
        for label, op in operations(doc)
        for status, response in op["responses"].items()
        if status.startswith("2")
        for media_type, media in (response.get("content") or {}).items()
        if is_json(media_type) and not _media_example(media)
    ]
    fail_naming(offenders, "JSON success bodies need an example: responses={**success(status, T, ...), ...}")


def _check_example(where: str, example: Example, data_type: Any, *, exact: bool) -> str | None:
    try:
        decoded = msgspec.convert(example.value, data_type, strict=True)
    except msgspec.ValidationError as exc:
        return f"{where} example {example.summary!r} does not decode into {data_type}: {exc}"
    if exact and msgspec.to_builtins(decoded) != example.value:
        return (
            f"{where} example {example.summary!r} is not what the server would send: "
            f"{example.value} vs {msgspec.to_builtins(decoded)}"
        )
    return None


def test_examples_are_values_of_their_declared_types(app: Litestar) -> None:
    """Request examples must be accepted; response examples must match what the server encodes."""
    offenders: list[str | None] = []
    for handler in documented_handlers(app):
        name = handler.operation_id or handler.handler_name
        for status, spec in (handler.responses or {}).items():
            if spec.data_container is None:
                continue
            for example in spec.examples or ():
                offenders.append(_check_example(f"{name} {status}", example, spec.data_container, exact=True))
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None and data.kwarg_definition is not None:
            for example in cast("KwargDefinition", data.kwarg_definition).examples or ():
                offenders.append(_check_example(f"{name} request", example, data.annotation, exact=False))
    fail_naming([o for o in offenders if o], "examples must be real values")


def test_success_specs_declare_the_type_the_handler_returns(app: Litestar) -> None:
    """`success(status, T, ...)` replaces Litestar's own success schema, so T must be the handler's."""
    offenders = []
    for handler in documented_handlers(app):
        returns = handler.parsed_fn_signature.return_type
        declared = returns.inner_types[0].annotation if returns.inner_types else returns.annotation
        for status, spec in (handler.responses or {}).items():
            if 200 <= status < 300 and spec.data_container is not declared:
                offenders.append(
                    f"{handler.operation_id}: {status} documents {spec.data_container}, returns {declared}"
                )
    fail_naming(offenders, "success(...) must name the returned type")


# --- the spec tells the truth: what a route can answer is documented -------------------


def _codes(response: dict[str, Any]) -> set[str]:
    media = (response.get("content") or {}).get(PROBLEM_JSON) or {}
    return {e["value"]["code"] for e in (media.get("examples") or {}).values()}


def _documents(op: dict[str, Any], status: int, code: str) -> bool:
    response = op["responses"].get(str(status))
    return response is not None and code in _codes(response)


def test_json_body_operations_document_every_decoding_problem(doc: dict[str, Any]) -> None:
    """Bad bytes 400, too big 413, another Content-Type 415, a wrong type or field 422 (haoban.kit.decoding)."""
    wanted = {400: "malformed_body", 413: "payload_too_large", 415: "unsupported_media_type", 422: "validation_failed"}
    offenders = [
        f"{label}: {status} {code}"
        for label, op in operations(doc)
        if "application/json" in (op.get("requestBody", {}).get("content") or {})
        for status, code in wanted.items()
        if not _documents(op, status, code)
    ]
    fail_naming(offenders, "a JSON body can be malformed, too large, of another type or invalid")


def test_operations_with_parameters_document_422(doc: dict[str, Any]) -> None:
    offenders = [
        label for label, op in operations(doc) if op.get("parameters") and not _documents(op, 422, "validation_failed")
    ]
    fail_naming(offenders, "a query, path or header parameter can fail validation (422 validation_failed)")


def test_guarded_operations_document_a_missing_credential(doc: dict[str, Any]) -> None:
    offenders = [
        label
        for label, op in operations(doc)
        if op.get("security", doc.get("security")) != PUBLIC and not _documents(op, 401, "unauthorized")
    ]
    fail_naming(offenders, "a route that needs a credential answers 401 unauthorized without one")


def test_every_documented_problem_code_has_a_title(doc: dict[str, Any]) -> None:
    from haoban.kit.messages import TITLES

    offenders = [
        f"{label}: {status} {code}"
        for label, op in operations(doc)
        for status, response in op["responses"].items()
        if status[0] in "45"
        for code in _codes(response)
        if code not in TITLES
    ]
    fail_naming(offenders, "problem codes are the stable ones in haoban.kit.messages.TITLES")


def _raised_in(fn: Any) -> set[type[AppError]]:
    """AppError subclasses a handler raises in its own body (`raise NotFound(...)`)."""
    import ast
    import inspect
    import textwrap

    from haoban.kit.errors import AppError

    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError):
        return set()
    out: set[type[AppError]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name):
            found = fn.__globals__.get(node.exc.func.id)
            if isinstance(found, type) and issubclass(found, AppError):
                out.add(found)
    return out


def test_errors_a_handler_raises_are_documented(app: Litestar, doc: dict[str, Any]) -> None:
    by_id = {op["operationId"]: op for _, op in operations(doc)}
    offenders = []
    for handler in documented_handlers(app):
        op = by_id.get(handler.operation_id or "")
        if op is None:
            continue
        for error in _raised_in(handler.fn):
            if not _documents(op, error.status, error.code) and str(error.status) not in op["responses"]:
                offenders.append(f"{handler.operation_id}: raises {error.__name__} ({error.status} {error.code})")
    fail_naming(offenders, "document every status a handler raises: problems(..., codes=...)")


# --- ID numbers: the spec admits what people type ------------------------------------

FULL_WIDTH = "".join(chr(ord(c) + 0xFEE0) for c in "11010519491231002X")
TYPED_ID_NUMBERS = ("11010519491231002x", FULL_WIDTH, " 110105 19491231002X ", "11010519491231002X")


def committed_schema(name: str) -> dict[str, Any]:
    """A component of the committed spec as a JSON Schema, its `$ref`s resolvable."""
    spec = msgspec.json.decode((ROOT / "openapi" / "openapi.json").read_bytes())
    return {"components": spec["components"], "$ref": f"#/components/schemas/{name}"}


@pytest.mark.parametrize("typed", TYPED_ID_NUMBERS)
def test_the_spec_admits_typed_id_numbers(typed: str) -> None:
    """A client validating from the spec must not refuse what the server accepts (it normalises)."""
    marriage = jsonschema_rs.validator_for(committed_schema("MarriageIn"))
    assert marriage.is_valid({"id_number": typed, "status": "married", "spouse_id_number": typed})
    register = committed_schema("RegisterRequest")
    example = register["components"]["schemas"]["RegisterRequest"]["examples"][0]
    assert jsonschema_rs.validator_for(register).is_valid({**example, "id_number": typed})


@pytest.mark.parametrize("wrong", ["1101051949123100-2", "abc", "1" * 65, ""])
def test_the_spec_still_refuses_what_is_no_id_number(wrong: str) -> None:
    marriage = jsonschema_rs.validator_for(committed_schema("MarriageIn"))
    assert not marriage.is_valid({"id_number": wrong, "status": "unmarried"})
