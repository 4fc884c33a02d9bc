"""Department ingestion: source systems push their records into the front-end database."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement
from litestar.params import Body, Parameter

from haoban.deps import Conn
from haoban.exchange import ingest
from haoban.exchange.ingest_schemas import RECORD_EXAMPLES, IngestBatch, IngestResult
from haoban.exchange.records import SourceName
from haoban.kit.errors import Unauthorized
from haoban.kit.openapi import example, problems, success
from haoban.runtime import Runtime
from haoban.settings import SOURCE_NAMES, DepartmentCredential

INGEST_MAX_BODY = 8 * 1_048_576
"""Room for identity records with photos; send those in smaller batches."""

DEPARTMENT_SECURITY: list[SecurityRequirement] = [{"departmentSecret": []}]
_KEY = "department"


async def department_authenticated(connection: ASGIConnection[Any, Any, Any, State], _: BaseRouteHandler) -> None:
    """401 for an unknown credential, 404 for an unknown source, 403 for a source not granted.

    A guard, so it runs before the body is read and before a connection is taken.
    """
    runtime: Runtime = connection.app.state.runtime
    credential = ingest.authenticate_department(
        runtime.settings.exchange.departments, connection.headers.get("authorization")
    )
    ingest.source_for(credential, str(connection.path_params.get("source", "")))
    connection.scope.setdefault("state", {})[_KEY] = credential


def _department(request: Request[Any, Any, Any]) -> DepartmentCredential:
    credential = request.scope.get("state", {}).get(_KEY)
    if not isinstance(credential, DepartmentCredential):  # the guard was not attached: fail closed
        raise Unauthorized("A department credential is required.")
    return credential


_BATCH_EXAMPLE = {"records": [RECORD_EXAMPLES["housing_fund"]]}


@post(
    "/ingest/{source:str}",
    operation_id="ingestSourceRecords",
    summary="Push a batch of source records (department systems)",
    description=(
        "A source department writes up to 500 records of one source into the front-end database. "
        f"`source` is one of {', '.join(f'`{s}`' for s in SOURCE_NAMES)}; each record has the shape of the "
        "sandbox route's body for that source (e.g. `sandboxPutFundAccount` for `housing_fund`). "
        "Authenticate with `Authorization: Bearer <department secret>` (HAOBAN_DEPARTMENT_CREDENTIALS); "
        "a department may write only the sources its credential lists. The OAuth issue will move this "
        "to client credentials.\n\n"
        "Every record is checked first; if any is invalid the answer is 422 listing each problem as "
        "`records[i].field` and nothing is written. Otherwise all records are upserted in one "
        "transaction (idempotent: the same batch twice leaves the same rows) with `updated_by` set to the "
        "department. Bodies may be up to 8 MiB."
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
        **problems(400, 401, 403, 404, 409, 413, 422),
    },
)
async def ingest_records(
    source: Annotated[SourceName, Parameter(description="The source the records belong to")],
    data: Annotated[IngestBatch, Body(examples=example("one housing fund account", _BATCH_EXAMPLE))],
    request: Request[Any, Any, Any],
    conn: Conn,
    state: State,
) -> IngestResult:
    runtime: Runtime = state.runtime
    credential = _department(request)
    name = ingest.source_for(credential, source)
    records = ingest.parse_batch(name, data.records)
    return await ingest.store(
        conn,
        name,
        records,
        by=credential.department,
        actor=ingest.department_actor(credential),
        now=runtime.clock.now(),
    )


router = Router(path="/v1", route_handlers=[ingest_records], guards=[department_authenticated])
