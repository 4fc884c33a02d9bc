"""The housing fund account summary: the one exchange read an OAuth client may make (`hpf.read`).

A mini-program gets four values, not the whole record (no account number, bank
card, employer or withdrawals) and never the internal citizen id. The wire
Struct lives here because it is this route's alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from litestar import Router, get

from haoban.deps import RuntimeDep
from haoban.exchange.consent import service
from haoban.exchange.consent.schemas import Purpose, SourceData, TrustLevel
from haoban.exchange.sources.records import SourceName
from haoban.kit.openapi import example, problems, success
from haoban.oauth.guard import SCOPED_GUARDS, is_delegated, requester
from haoban.tokens.guard import AUTH_DEPENDENCIES, CurrentPrincipal, require_scope
from haoban.tokens.schemas import Principal

SCOPE = "hpf.read"


class FundProvenance(msgspec.Struct, frozen=True, kw_only=True):
    source: SourceName
    agency: str
    system: str | None
    trust_level: TrustLevel | None


class FundSummary(msgspec.Struct, frozen=True, kw_only=True):
    """`outcome` is the source's answer; the values are null unless it is `ok`."""

    outcome: Literal["ok", "no_record", "unavailable"]
    status: str | None
    balance_fen: int | None
    contribution_months: int | None
    updated_at: datetime | None
    provenance: FundProvenance
    reason: str | None


_EXAMPLE = {
    "outcome": "ok",
    "status": "normal",
    "balance_fen": 3_650_000,
    "contribution_months": 36,
    "updated_at": "2026-11-01T08:00:00Z",
    "provenance": {
        "source": "housing_fund",
        "agency": "住房公积金管理中心",
        "system": "frontdb:shared.hpf_accounts",
        "trust_level": "A",
    },
    "reason": None,
}


def purpose_for(principal: Principal) -> Purpose:
    """The citizen's own app views under `self_view`; a client under its own service purpose."""
    if is_delegated(principal):
        return Purpose(kind="service", ref=f"oauth:{principal.client_id}")
    return Purpose(kind="self_view")


def summarise(data: SourceData) -> FundSummary:
    def value(name: str) -> object:
        return data.items[name].value if data.status == "ok" else None

    balance, months, status = value("balance_fen"), value("contribution_months"), value("status")
    first = data.items["balance_fen"]
    updated = first.last_updated if data.status == "ok" and isinstance(first.last_updated, datetime) else None
    trust = first.trust_level if isinstance(first.trust_level, str) else None
    reason = first.reason if data.status == "unavailable" and isinstance(first.reason, str) else None
    return FundSummary(
        outcome=data.status,
        status=status if isinstance(status, str) else None,
        balance_fen=balance if isinstance(balance, int) else None,
        contribution_months=months if isinstance(months, int) else None,
        updated_at=updated,
        provenance=FundProvenance(source=data.source, agency=data.agency, system=data.system, trust_level=trust),
        reason=reason,
    )


@get(
    "/me/housing-fund",
    operation_id="getMyHousingFundSummary",
    summary="My housing fund account summary (scope hpf.read)",
    description=(
        "Status, balance, contribution months and last update of the citizen's housing fund account, with "
        "provenance. Accepts the citizen's own app token (purpose `self_view`) and an OAuth access token with "
        "`hpf.read` (purpose `{kind: service, ref: oauth:<client_id>}`; the citizen must have granted a consent "
        "for that purpose covering `housing_fund.*`, else 403 `consent_required`). The pull is written to the "
        "citizen's data-access log with the OAuth client as requester. A source that cannot be asked gives "
        "`outcome: unavailable`, not an error."
    ),
    tags=["exchange"],
    responses={
        **success(200, FundSummary, "The summary", example("an account", _EXAMPLE)),
        **problems(401, 403, codes={403: "insufficient_scope"}),
    },
)
async def housing_fund_summary(principal: CurrentPrincipal, runtime: RuntimeDep) -> FundSummary:
    require_scope(principal, SCOPE)
    pulled = await service.pull(
        runtime,
        citizen_id=principal.citizen_id,
        requester=requester(principal),
        purpose=purpose_for(principal),
        sources=["housing_fund"],
    )
    return summarise(pulled.data.sources[0])


router = Router(path="/v1", route_handlers=[housing_fund_summary], guards=SCOPED_GUARDS, dependencies=AUTH_DEPENDENCIES)
