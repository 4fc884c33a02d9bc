"""Request bodies decoded strictly, and every decoding failure a 4xx problem.

Litestar decodes a JSON body to plain values and then converts it to the
handler's type with `strict=False`, so `0` passes as `false` and `"1"` as `1`;
it lets `UnicodeDecodeError` and `RecursionError` escape as 500s, and it reads
any Content-Type as JSON. `StrictRequest` (the app's `request_class`) replaces
`Request.json()`, which Litestar's body extractor calls:

1. the Content-Type must be `application/json` (charset, if given, UTF-8), else 415;
2. the bytes must be UTF-8 JSON, at most `MAX_DEPTH` deep, else 400 `malformed_body`;
3. integers must fit a signed 64-bit column and no string may hold NUL, else 422
   (PostgreSQL cannot store either, so they would fail later as a 500);
4. ID numbers (`IdNumberShape` fields) are normalised (kit/idnumber.py) and their
   shape, birth date and check digit verified, else 422 naming the field;
5. the value is decoded into the handler's declared type with `strict=True`, else 422.

The decoded value is the handler's Struct; Litestar's own lax conversion then
passes it through unchanged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache, partial
from typing import Any

import msgspec
from litestar import Request
from litestar.serialization import default_deserializer
from litestar.types import Empty
from litestar.utils.scope.state import ScopeState

from haoban.kit import idnumber
from haoban.kit.errors import FieldError, MalformedBody, UnsupportedMediaType, ValidationFailed

log = logging.getLogger("haoban.http")

MAX_DEPTH = 32
"""Deeper JSON is refused; our widest schema nests four levels."""

INT_MIN, INT_MAX = -(2**63), 2**63 - 1

_AT = re.compile(r" - at `\$(.*)`$")
_NAMED = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


def _json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    media, _, params = content_type.partition(";")
    if media.strip().lower() != "application/json":
        return False
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in {"utf-8", "utf8"}:
            return False
    return True


def _path(parts: list[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "$"


def _check_values(value: Any) -> None:
    """Depth, 64-bit integers and NUL-free strings, walked without recursion."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, where = stack.pop()
        if len(where) > MAX_DEPTH:
            raise MalformedBody(f"The JSON body nests deeper than {MAX_DEPTH} levels.")
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    raise _invalid(_path(where), "an object key contains a NUL character")
                stack.append((child, [*where, key]))
        elif isinstance(item, list):
            stack.extend((child, [*where, i]) for i, child in enumerate(item))
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int) and not INT_MIN <= item <= INT_MAX:
            raise _invalid(_path(where), "Number out of range (integers are signed 64-bit)")
        elif isinstance(item, str) and "\x00" in item:
            raise _invalid(_path(where), "The string contains a NUL character")


def _invalid(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed("One or more fields are invalid.", errors=[FieldError(field=field, reason=reason)])


def field_error(message: str, *, source: str = "body") -> FieldError:
    """A msgspec validation message (`Expected bool, got int - at $.a`) as a field error."""
    reason, field = message, ""
    if found := _AT.search(message):
        reason = message[: found.start()]
        field = found.group(1).lstrip(".")
    if named := _NAMED.search(reason):
        field = f"{field}.{named.group(1)}" if field else named.group(1)
    return FieldError(field=field or "$", reason=reason, source=source)


Walk = tuple[tuple[str, "Walk | None"], ...]
"""Where ID numbers sit in a type: (key, inner walk) pairs; `None` marks the ID number itself."""


def _id_paths(info: msgspec.inspect.Type, seen: frozenset[type] = frozenset()) -> Walk | None:
    """The places of `IdNumberShape` values inside `info`, or None when it is one."""
    inspect = msgspec.inspect
    if isinstance(info, inspect.Metadata):
        if (info.extra or {}).get("id_number"):
            return None
        return _id_paths(info.type, seen)
    if isinstance(info, inspect.StructType) and info.cls not in seen:
        out: list[tuple[str, Walk | None]] = []
        for f in info.fields:
            inner = _id_paths(f.type, seen | {info.cls})
            if inner is None or inner:
                out.append((f.encode_name, inner))
        return tuple(out)
    if isinstance(info, inspect.ListType | inspect.SetType | inspect.FrozenSetType | inspect.VarTupleType):
        inner = _id_paths(info.item_type, seen)
        return (("[]", inner),) if inner is None or inner else ()
    if isinstance(info, inspect.UnionType):
        for member in info.types:
            inner = _id_paths(member, seen)
            if inner is None or inner:
                return inner
    return ()


@cache
def _id_walk(target: Any) -> Walk | None:
    try:
        return _id_paths(msgspec.inspect.type_info(target))
    except (TypeError, ValueError):
        return ()


def _normalise_ids(value: Any, walk: Walk | None, where: list[str | int], errors: list[FieldError]) -> Any:
    """`value` with its ID numbers normalised; a wrong shape, birth date or check digit noted in `errors`.

    The type's own pattern is loose (it admits what people type), so this is the strict check."""
    if walk is None:
        if not isinstance(value, str):
            return value
        fixed = idnumber.normalise(value)
        if (why := idnumber.problem(fixed)) is not None:
            errors.append(FieldError(field=_path(where), reason=why))
        return fixed
    if isinstance(value, dict):
        for key, inner in walk:
            if key in value:
                value[key] = _normalise_ids(value[key], inner, [*where, key], errors)
    elif isinstance(value, list) and walk and walk[0][0] == "[]":
        return [_normalise_ids(v, walk[0][1], [*where, i], errors) for i, v in enumerate(value)]
    return value


def normalise_ids(raw: Any, target: Any) -> Any:
    """`raw` (decoded JSON) with the ID numbers that `target` declares normalised, for values
    decoded outside a request body (an ingestion batch's records); the caller checks them."""
    walk = _id_walk(target)
    return _normalise_ids(raw, walk, [], []) if walk is None or walk else raw


_BYTE = re.compile(r"\(byte (\d+)\)")


def _decode_problem(message: str) -> str:
    """Our own sentence for a msgspec decode error: its text never reaches a person."""
    log.debug("JSON body not decodable: %s", message)
    at = f" (byte {found.group(1)})" if (found := _BYTE.search(message)) else ""
    if "out of range" in message:
        return f"A number in the JSON body is out of range{at}."
    if "truncated" in message:
        return "The request body is not valid JSON: it ends too early."
    return f"The request body is not valid JSON{at}."


def decode_json_body(
    body: bytes, content_type: str | None, target: Any, *, dec_hook: Callable[[type, Any], Any] | None = None
) -> Any:
    """Decode a request body for a JSON route, or raise the problem that says what is wrong."""
    if not _json_media_type(content_type):
        raise UnsupportedMediaType(
            f"Send this body as application/json, not {content_type or 'without a Content-Type'}."
        )
    try:
        raw = msgspec.json.decode(body)
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"The body is not valid UTF-8 (byte {exc.start}).") from None
    except RecursionError:
        raise MalformedBody(f"The JSON body nests deeper than {MAX_DEPTH} levels.") from None
    except msgspec.DecodeError as exc:  # also ValidationError("Number out of range")
        raise MalformedBody(_decode_problem(str(exc))) from None
    _check_values(raw)
    if target is None:
        return raw
    walk = _id_walk(target)
    if walk is None or walk:
        errors: list[FieldError] = []
        raw = _normalise_ids(raw, walk, [], errors)
        if errors:
            raise ValidationFailed("One or more fields are invalid.", errors=errors)
        body = msgspec.json.encode(raw)
    try:
        return msgspec.json.decode(body, type=target, strict=True, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise ValidationFailed("One or more fields are invalid.", errors=[field_error(str(exc))]) from None


class StrictRequest(Request[Any, Any, Any]):
    """The app's request class: `json()` goes through `decode_json_body` with the handler's body type."""

    async def json(self) -> Any:
        if self._json is Empty:
            state = ScopeState.from_scope(self.scope)
            if state.json is not Empty:
                self._json = state.json
            else:
                body = await self.body()
                self._json = state.json = decode_json_body(
                    body,
                    self.headers.get("content-type"),
                    self._body_type(),
                    dec_hook=partial(default_deserializer, type_decoders=self.route_handler.resolve_type_decoders()),
                )
        return self._json

    def _body_type(self) -> Any:
        """The handler's declared `data` type (Litestar has stripped `Annotated`), or None."""
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        return None if data is None else data.annotation


def _int_typed(annotation: Any) -> bool:
    if annotation is int:
        return True
    return int in getattr(annotation, "__args__", ()) and bool not in getattr(annotation, "__args__", ())


async def bounded_integers(request: Request[Any, Any, Any]) -> None:
    """Integer query, header and path parameters must fit a signed 64-bit column (the app's `before_request`).

    Litestar converts `?before=225634419236650024960` to a Python int without a bound, and
    the database then fails on it as a 500. Runs after the guards, before any dependency.
    """
    for name, field in request.route_handler.parsed_fn_signature.parameters.items():
        if not _int_typed(field.annotation):
            continue
        kwarg = field.kwarg_definition
        header = getattr(kwarg, "header", None)
        if header:
            raw, alias, source = request.headers.get(header), header, "header"
        elif name in request.path_params:
            raw, alias, source = str(request.path_params[name]), name, "path"
        else:
            alias = getattr(kwarg, "query", None) or name
            raw, source = request.query_params.get(alias), "query"
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            continue  # not a number: Litestar's own validation says so
        if not INT_MIN <= value <= INT_MAX:
            raise ValidationFailed(
                "One or more fields are invalid.",
                errors=[
                    FieldError(field=alias, reason="Number out of range (integers are signed 64-bit)", source=source)
                ],
            )
