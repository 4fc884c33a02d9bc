"""A 3.0 view of our 3.1 document, for the bundled Swagger UI.

Litestar writes OpenAPI 3.1. The Swagger UI in the `swagger-ui-bundle` wheel is
4.x, which refuses any document whose `openapi` is not 3.0.n ("Unable to render
this definition"). This converts the 3.1 constructs Litestar emits into their
3.0 spellings. It serves only the docs page: the contract stays the 3.1 file.
Drop it when the bundled UI reads 3.1 (Swagger UI 5).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

OPENAPI_30 = "3.0.3"
_NULL: Mapping[str, str] = {"type": "null"}
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
# JSON Schema 2020-12 keywords that 3.0 does not know; Swagger UI 4 needs none of them.
_DROP = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
        "prefixItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "dependentRequired",
        "dependentSchemas",
        "propertyNames",
        "if",
        "then",
        "else",
    }
)


def downgrade(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Return a converted copy; `doc` is not changed."""
    out: dict[str, Any] = {k: v for k, v in doc.items() if k not in ("webhooks", "jsonSchemaDialect")}
    out["openapi"] = OPENAPI_30
    if isinstance(info := doc.get("info"), Mapping):
        out["info"] = {k: v for k, v in info.items() if k != "summary"}
        if isinstance(lic := info.get("license"), Mapping):
            out["info"]["license"] = {k: v for k, v in lic.items() if k != "identifier"}
    if isinstance(paths := doc.get("paths"), Mapping):
        out["paths"] = {path: _path_item(item) for path, item in paths.items()}
    if isinstance(components := doc.get("components"), Mapping):
        out["components"] = _components(components)
    return out


def _components(components: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in components.items() if k != "pathItems"}
    converters = {
        "schemas": schema,
        "responses": _response,
        "parameters": _parameter,
        "headers": _parameter,
        "requestBodies": _with_content,
    }
    for key, convert in converters.items():
        if isinstance(section := components.get(key), Mapping):
            out[key] = {name: convert(value) for name, value in section.items()}
    return out


def _path_item(item: Any) -> Any:
    if not isinstance(item, Mapping):
        return item
    out = dict(item)
    for key, value in item.items():
        if key in _METHODS:
            out[key] = _operation(value)
        elif key == "parameters":
            out[key] = [_parameter(p) for p in value]
    return out


def _operation(op: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in op.items() if k != "callbacks"}
    if "parameters" in op:
        out["parameters"] = [_parameter(p) for p in op["parameters"]]
    if "requestBody" in op:
        out["requestBody"] = _with_content(op["requestBody"])
    if isinstance(responses := op.get("responses"), Mapping):
        out["responses"] = {status: _response(r) for status, r in responses.items()}
    return out


def _with_content(obj: Any) -> Any:
    """A request body, header or parameter: convert the schema of each media type."""
    if not isinstance(obj, Mapping):
        return obj
    out = dict(obj)
    if isinstance(content := obj.get("content"), Mapping):
        out["content"] = {
            media: {**m, "schema": schema(m["schema"])} if isinstance(m, Mapping) and "schema" in m else m
            for media, m in content.items()
        }
    return out


def _parameter(param: Any) -> Any:
    out = _with_content(param)
    if isinstance(out, dict) and "schema" in out:
        out["schema"] = schema(out["schema"])
    return out


def _response(response: Any) -> Any:
    out = _with_content(response)
    if isinstance(out, dict) and isinstance(headers := out.get("headers"), Mapping):
        out["headers"] = {name: _parameter(h) for name, h in headers.items()}
    return out


def schema(node: Any) -> Any:
    """Convert one JSON Schema 2020-12 object to the OpenAPI 3.0 schema dialect."""
    if node is True:
        return {}
    if node is False:
        return {"not": {}}
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    nullable = False
    for key, value in node.items():
        if key in _DROP or (key == "required" and value == []) or (key == "examples" and "example" in node):
            continue  # 3.0 also wants `required` non-empty when present
        convert = _KEYWORDS.get(key)
        fragment, null = convert(key, value) if convert else ({key: value}, False)
        out.update(fragment)
        nullable = nullable or null
    if nullable:
        out["nullable"] = True
    return out


_Fragment = tuple[dict[str, Any], bool]  # converted keywords, and whether the value may be null


def _properties(key: str, value: Any) -> _Fragment:
    if not isinstance(value, Mapping):
        return {key: value}, False
    return {key: {name: schema(sub) for name, sub in value.items()}}, False


def _subschema(key: str, value: Any) -> _Fragment:
    return {key: schema(value) if isinstance(value, Mapping) else value}, False


def _combinator(key: str, value: Any) -> _Fragment:
    if not isinstance(value, list):
        return {key: value}, False
    subs = [schema(sub) for sub in value if sub != _NULL]
    nullable = len(subs) < len(value)
    if key != "allOf" and len(subs) == 1:
        # `X | None`: 3.0 says X with nullable; a $ref ignores its siblings, so wrap it.
        return ({"allOf": subs} if "$ref" in subs[0] else subs[0]), nullable
    return ({key: subs} if subs else {}), nullable


def _type(key: str, value: Any) -> _Fragment:
    if value == "null":
        return {"enum": [None]}, True
    if not isinstance(value, list):
        return {key: value}, False
    types = [t for t in value if t != "null"]
    nullable = len(types) < len(value)
    if len(types) == 1:
        return {key: types[0]}, nullable
    return ({"anyOf": [{"type": t} for t in types]} if types else {}), nullable


def _const(key: str, value: Any) -> _Fragment:
    return {"enum": [value]}, False


def _examples(key: str, value: Any) -> _Fragment:
    if not isinstance(value, list):
        return {key: value}, False
    return ({"example": value[0]} if value else {}), False


def _exclusive(key: str, value: Any) -> _Fragment:
    if isinstance(value, bool):
        return {key: value}, False
    return {"minimum" if key == "exclusiveMinimum" else "maximum": value, key: True}, False


_KEYWORDS: dict[str, Callable[[str, Any], _Fragment]] = {
    "properties": _properties,
    "items": _subschema,
    "additionalProperties": _subschema,
    "not": _subschema,
    "allOf": _combinator,
    "anyOf": _combinator,
    "oneOf": _combinator,
    "type": _type,
    "const": _const,
    "examples": _examples,
    "exclusiveMinimum": _exclusive,
    "exclusiveMaximum": _exclusive,
}
