"""The citizen's own linked data, consents and data-access log."""

from __future__ import annotations

from typing import Annotated, get_args
from uuid import UUID

from litestar import Router, delete, get, post
from litestar.params import Body, FromPath, QueryParameter

from haoban.audit.schemas import Actor
from haoban.deps import Conn, RuntimeDep
from haoban.exchange.consent import service
from haoban.exchange.consent.examples import ACCESS_LOG_EXAMPLE, CONSENT_CREATE_EXAMPLE, CONSENT_EXAMPLE, LINKED_EXAMPLE
from haoban.exchange.consent.schemas import AccessLogPage, Consent, ConsentCreate, ConsentList, LinkedData, Purpose
from haoban.exchange.sources.items import SOURCES
from haoban.exchange.sources.records import SourceName
from haoban.kit.errors import FieldError, ValidationFailed
from haoban.kit.openapi import example, problems, success
from haoban.tokens.guard import AUTH_DEPENDENCIES, AUTH_GUARDS, CurrentPrincipal


def _parse_sources(raw: str | None) -> list[SourceName]:
    if not raw:
        return list(SOURCES)
    wanted: list[SourceName] = []
    for name in raw.split(","):
        if name not in get_args(SourceName):
            raise ValidationFailed(
                errors=[FieldError(field="sources", reason=f"unknown source {name!r}", source="query")]
            )
        if name not in wanted:
            wanted.append(name)  # type: ignore[arg-type]  # checked against SourceName above
    return wanted


@get(
    "/me/linked-data",
    operation_id="getMyLinkedData",
    summary="What government systems hold about me, with provenance",
    description=(
        "Pulls every source concurrently under the citizen's `self_view` consent. Each value carries its source, "
        "trust level (A: provided by the issuing agency) and last update; a source that could not be asked gives "
        "`{unavailable: true, reason}` instead, never an error. Every pull is written to the data-access log."
    ),
    tags=["exchange"],
    responses={
        **success(200, LinkedData, "Linked data by source", example("demo citizen", LINKED_EXAMPLE)),
        **problems(400, 401, 403, 409, 422, codes={403: "consent_required"}),
    },
)
async def linked_data(
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    sources: Annotated[
        str | None,
        QueryParameter(
            name="sources",
            required=False,
            description="Comma-separated subset: " + ", ".join(SOURCES),
            examples=[],
        ),
    ] = None,
) -> LinkedData:
    pulled = await service.pull(
        runtime,
        citizen_id=principal.citizen_id,
        requester=Actor(type="citizen", id=str(principal.citizen_id)),
        purpose=Purpose(kind="self_view"),
        sources=_parse_sources(sources),
    )
    return pulled.data


@get(
    "/me/data-access-log",
    operation_id="getMyDataAccessLog",
    summary="Who pulled my data, when and why",
    description="Newest first. Page with `before` = the previous page's `next_before`.",
    tags=["exchange"],
    responses={
        **success(200, AccessLogPage, "One page of the access log", example("two pulls", ACCESS_LOG_EXAMPLE)),
        **problems(400, 401, 422),
    },
)
async def data_access_log(
    principal: CurrentPrincipal,
    conn: Conn,
    before: Annotated[int | None, QueryParameter(name="before", ge=1, required=False)] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=100)] = 20,
) -> AccessLogPage:
    return await service.access_log_page(conn, principal.citizen_id, before=before, limit=limit)


@get(
    "/me/consents",
    operation_id="listMyConsents",
    summary="My data-sharing consents",
    tags=["exchange"],
    responses={
        **success(200, ConsentList, "Every consent, newest first", example("one", {"consents": [CONSENT_EXAMPLE]})),
        **problems(401),
    },
)
async def list_consents(principal: CurrentPrincipal, conn: Conn, runtime: RuntimeDep) -> ConsentList:
    return ConsentList(consents=await service.list_consents(conn, runtime, principal.citizen_id))


@post(
    "/me/consents",
    operation_id="grantConsent",
    summary="Allow data to be pulled for a purpose",
    description=(
        "The authorization letter of the 1+1+N material rule. Items are `source.item` or `source.*`; "
        "purposes are `self_view`, a `service` code or one `application` id."
    ),
    tags=["exchange"],
    status_code=201,
    responses={
        **success(201, Consent, "The consent", example("self view", CONSENT_EXAMPLE)),
        **problems(400, 401, 422),
    },
)
async def grant_consent(
    principal: CurrentPrincipal,
    conn: Conn,
    runtime: RuntimeDep,
    data: Annotated[ConsentCreate, Body(examples=example("view my fund and estate data", CONSENT_CREATE_EXAMPLE))],
) -> Consent:
    return await service.grant_consent(conn, runtime, principal.citizen_id, data)


@delete(
    "/me/consents/{consent_id:uuid}",
    operation_id="revokeConsent",
    summary="Revoke a consent",
    description="Later pulls under it are refused at once. Revoking twice is harmless.",
    tags=["exchange"],
    status_code=204,
    responses=problems(400, 401, 404),
)
async def revoke_consent(
    principal: CurrentPrincipal, conn: Conn, runtime: RuntimeDep, consent_id: FromPath[UUID]
) -> None:
    await service.revoke_consent(conn, runtime, principal.citizen_id, consent_id)


router = Router(
    path="/v1",
    route_handlers=[linked_data, data_access_log, list_consents, grant_consent, revoke_consent],
    guards=AUTH_GUARDS,
    dependencies=AUTH_DEPENDENCIES,
)
