"""Sandbox routes that fill the front-end database, as a source department would.

Each route upserts one record through the same use case as department
ingestion (`haoban.exchange.ingest.service`), with `updated_by = "sandbox"`. 404 unless
sandbox mode is on.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, Router, post
from litestar.params import Body

from haoban.deps import Conn, RuntimeDep
from haoban.exchange.ingest import service as ingest
from haoban.exchange.ingest.schemas import (
    RECORD_EXAMPLES,
    HouseholdIn,
    HousingFundIn,
    IdentityIn,
    MarriageIn,
    PropertyIn,
    SocialSecurityIn,
    SourceRecord,
    Upserted,
)
from haoban.exchange.sources.records import SourceName
from haoban.kit.openapi import PUBLIC, example, problems, success
from haoban.sandbox.guard import sandbox_only
from haoban.sandbox.service import SANDBOX_ACTOR

IDENTITY_MAX_BODY = 2 * 1_048_576
"""A 1 MiB photo is about 1.4 MB in base64, more than the app's default body limit."""

_KEYS: dict[SourceName, str] = {
    "identity": RECORD_EXAMPLES["identity"]["id_number"],
    "household": RECORD_EXAMPLES["household"]["household_no"],
    "housing_fund": RECORD_EXAMPLES["housing_fund"]["account_no"],
    "estate": RECORD_EXAMPLES["estate"]["certificate_no"],
    "marriage": RECORD_EXAMPLES["marriage"]["id_number"],
    "social_security": RECORD_EXAMPLES["social_security"]["id_number"],
}

_DESCRIPTION = (
    "Upserts one {what} record into the front-end database, as the source department would "
    "(`updated_by` is `sandbox`). Idempotent: 201 when the record is new, 200 when it replaced the "
    "stored one. Every ID number must carry a valid GB 11643 check digit; a 422 names the field."
)


def _responses(source: SourceName) -> dict[int, Any]:
    key = _KEYS[source]
    return {
        **success(201, Upserted, "Created", example("created", {"source": source, "key": key, "created": True})),
        **success(200, Upserted, "Replaced", example("replaced", {"source": source, "key": key, "created": False})),
        **problems(400, 404, 409, 413, 422),
    }


def _body(source: SourceName) -> Any:
    return Body(examples=example(f"a {source} record", RECORD_EXAMPLES[source]))


async def _put(runtime: RuntimeDep, conn: Conn, source: SourceName, key: str, rec: SourceRecord) -> Response[Upserted]:
    created = await ingest.put(conn, source, rec, by="sandbox", actor=SANDBOX_ACTOR, now=runtime.clock.now())
    return Response(Upserted(source=source, key=key, created=created), status_code=201 if created else 200)


@post(
    "/identities",
    operation_id="sandboxPutIdentity",
    summary="Upsert an identity record (公安人口库) with its ID photo",
    description=_DESCRIPTION.format(what="identity")
    + " `photo` is base64 of a JPEG or PNG, at most 1 MiB decoded and 40 megapixels; `sex` and `birth_date`"
    " must agree with the ID number. This route accepts bodies up to 2 MiB.",
    responses=_responses("identity"),
    request_max_body_size=IDENTITY_MAX_BODY,
)
async def put_identity(
    data: Annotated[IdentityIn, _body("identity")], conn: Conn, runtime: RuntimeDep
) -> Response[Upserted]:
    return await _put(runtime, conn, "identity", data.id_number, data)


@post(
    "/households",
    operation_id="sandboxPutHousehold",
    summary="Upsert a household (户籍) and its members",
    description=_DESCRIPTION.format(what="household")
    + " Members not listed leave the household; a member registered elsewhere moves here.",
    responses=_responses("household"),
)
async def put_household(
    data: Annotated[HouseholdIn, _body("household")], conn: Conn, runtime: RuntimeDep
) -> Response[Upserted]:
    return await _put(runtime, conn, "household", data.household_no, data)


@post(
    "/housing-fund/accounts",
    operation_id="sandboxPutFundAccount",
    summary="Upsert a housing provident fund account (公积金)",
    description=_DESCRIPTION.format(what="housing fund account")
    + " Money is integer fen. `withdrawals`, when given, replaces the account's withdrawal history."
    " A person holds one account: 409 when the ID number already holds another.",
    responses=_responses("housing_fund"),
)
async def put_fund_account(
    data: Annotated[HousingFundIn, _body("housing_fund")], conn: Conn, runtime: RuntimeDep
) -> Response[Upserted]:
    return await _put(runtime, conn, "housing_fund", data.account_no, data)


@post(
    "/estate/properties",
    operation_id="sandboxPutProperty",
    summary="Upsert a registered property (不动产) and its owners",
    description=_DESCRIPTION.format(what="property") + " Owners not listed are removed from the property.",
    responses=_responses("estate"),
)
async def put_property(
    data: Annotated[PropertyIn, _body("estate")], conn: Conn, runtime: RuntimeDep
) -> Response[Upserted]:
    return await _put(runtime, conn, "estate", data.certificate_no, data)


@post(
    "/marriages",
    operation_id="sandboxPutMarriage",
    summary="Upsert a person's marriage registration (婚姻)",
    description=_DESCRIPTION.format(what="marriage")
    + " `married` needs the spouse and `registered_on`; `unmarried` allows none of them.",
    responses=_responses("marriage"),
)
async def put_marriage(
    data: Annotated[MarriageIn, _body("marriage")], conn: Conn, runtime: RuntimeDep
) -> Response[Upserted]:
    return await _put(runtime, conn, "marriage", data.id_number, data)


@post(
    "/social-security",
    operation_id="sandboxPutSocialSecurity",
    summary="Upsert a person's social security contributions (社保)",
    description=_DESCRIPTION.format(what="social security"),
    responses=_responses("social_security"),
)
async def put_social_security(
    data: Annotated[SocialSecurityIn, _body("social_security")], conn: Conn, runtime: RuntimeDep
) -> Response[Upserted]:
    return await _put(runtime, conn, "social_security", data.id_number, data)


router = Router(
    path="/sandbox",
    route_handlers=[put_identity, put_household, put_fund_account, put_property, put_marriage, put_social_security],
    guards=[sandbox_only],
    tags=["sandbox"],
    security=PUBLIC,
)
