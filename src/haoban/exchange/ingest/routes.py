"""Department ingestion: source systems push their records into the front-end database."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Router, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement
from litestar.params import Body, Parameter

from haoban.audit.schemas import Actor
from haoban.deps import Conn, RuntimeDep
from haoban.exchange.ingest import service as ingest
from haoban.exchange.ingest.schemas import RECORD_EXAMPLES, IngestBatch, IngestResult
from haoban.exchange.sources.records import SourceName
from haoban.kit.errors import InvalidToken, NotFound, Unauthorized
from haoban.kit.openapi import example, problems, success
from haoban.oauth.machine import looks_like_jwt, verify_client_token
from haoban.oauth.scopes import ingest_scope
from haoban.runtime import Runtime
from haoban.settings import SOURCE_NAMES
from haoban.tokens.guard import InsufficientScope

INGEST_MAX_BODY = 8 * 1_048_576
"""Room for identity records with photos; send those in smaller batches."""

DEPARTMENT_SECURITY: list[SecurityRequirement] = [{"clientCredentials": []}, {"departmentSecret": []}]
_KEY = "department"


class Writer(msgspec.Struct, frozen=True, kw_only=True):
    """Who writes, and which source: an OAuth client or a configured department credential."""

    source: SourceName
    by: str  # stored as updated_by
    actor: Actor


def _source(raw: str) -> SourceName:
    if raw not in SOURCE_NAMES:
        raise NotFound(f"No source {raw!r}; sources are {', '.join(SOURCE_NAMES)}.")
    name: SourceName = next(s for s in ingest.RECORD_TYPES if s == raw)
    return name


async def _oauth_writer(runtime: RuntimeDep, token: str, raw_source: str) -> Writer:
    try:
        client = await verify_client_token(runtime, token)
    except InvalidToken as exc:
        exc.headers.update({"WWW-Authenticate": ingest.CHALLENGE["WWW-Authenticate"] + ', error="invalid_token"'})
        raise
    source = _source(raw_source)
    needed = ingest_scope(source)
    if needed not in client.scope:
        raise InsufficientScope(
            f"This call needs the scope {needed!r}.",
            headers={
                "WWW-Authenticate": ingest.CHALLENGE["WWW-Authenticate"]
                + f', error="insufficient_scope", scope="{needed}"'
            },
        )
    return Writer(source=source, by=client.client_id, actor=Actor(type="client", id=client.client_id))


async def department_authenticated(connection: ASGIConnection[Any, Any, Any, State], _: BaseRouteHandler) -> None:
    """401 for an unknown credential, 404 for an unknown source, 403 for a source not granted.

    A client-credentials access token (a JWT) is checked for `ingest.<source>`;
    anything else is compared with the configured department secrets (deprecated).
    A guard, so it runs before the body is read and before a connection is taken.
    """
    runtime: Runtime = connection.app.state.runtime
    authorization = connection.headers.get("authorization")
    scheme, _sep, token = (authorization or "").partition(" ")
    raw_source = str(connection.path_params.get("source", ""))
    if scheme.lower() == "bearer" and looks_like_jwt(token.strip()):
        writer = await _oauth_writer(runtime, token.strip(), raw_source)
    else:
        credential = ingest.authenticate_department(runtime.settings.exchange.departments, authorization)
        source = ingest.source_for(credential, raw_source)
        writer = Writer(source=source, by=credential.department, actor=ingest.department_actor(credential))
    connection.scope.setdefault("state", {})[_KEY] = writer


def _writer(request: Request[Any, Any, Any]) -> Writer:
    writer = request.scope.get("state", {}).get(_KEY)
    if not isinstance(writer, Writer):  # the guard was not attached: fail closed
        raise Unauthorized("A department credential is required.")
    return writer


_BATCH_EXAMPLE = {"records": [RECORD_EXAMPLES["housing_fund"]]}


@post(
    "/ingest/{source:str}",
    operation_id="ingestSourceRecords",
    summary="Push a batch of source records (department systems)",
    description=(
        "A source department writes up to 500 records of one source into the front-end database. "
        f"`source` is one of {', '.join(f'`{s}`' for s in SOURCE_NAMES)}; each record has the shape of the "
        "sandbox route's body for that source (e.g. `sandboxPutFundAccount` for `housing_fund`).\n\n"
        "Authenticate with `Authorization: Bearer <access token>` from `POST /oauth/token` "
        "(`grant_type=client_credentials`, a confidential client) holding the scope `ingest.<source>` "
        "(e.g. `ingest.housing_fund`); a token without it is 403 `insufficient_scope`. Deprecated: "
        "`Authorization: Bearer <department secret>` (HAOBAN_DEPARTMENT_CREDENTIALS) still works for the "
        "sources that credential lists.\n\n"
        "Every record is checked first; if any is invalid the answer is 422 listing each problem as "
        "`records[i].field` and nothing is written. Otherwise all records are upserted in one "
        "transaction (idempotent: the same batch twice leaves the same rows) with `updated_by` set to the "
        "client id (or the department). Bodies may be up to 8 MiB."
    ),
    tags=["exchange"],
    security=DEPARTMENT_SECURITY,
    status_code=200,
    request_max_body_size=INGEST_MAX_BODY,
    responses={
        **success(
            200,
            IngestResult,
            "Every record was upserted",
            example("accepted", {"source": "housing_fund", "accepted": 1, "created": 1}),
        ),
        **problems(400, 401, 403, 404, 409, 413, 422, codes={403: "insufficient_scope"}),
    },
)
async def ingest_records(
    source: Annotated[SourceName, Parameter(description="The source the records belong to")],
    data: Annotated[IngestBatch, Body(examples=example("one housing fund account", _BATCH_EXAMPLE))],
    request: Request[Any, Any, Any],
    conn: Conn,
    runtime: RuntimeDep,
) -> IngestResult:
    writer = _writer(request)
    if writer.source != source:  # the guard resolved the same path parameter
        raise NotFound(f"No source {source!r}.")
    records = ingest.parse_batch(writer.source, data.records)
    return await ingest.store(conn, writer.source, records, by=writer.by, actor=writer.actor, now=runtime.clock.now())


router = Router(path="/v1", route_handlers=[ingest_records], guards=[department_authenticated])
