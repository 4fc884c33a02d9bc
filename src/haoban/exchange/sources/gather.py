"""Ask several sources at once; a slow or failing one becomes `unavailable`."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from haoban.exchange.sources import places
from haoban.exchange.sources.ports import Fetched, Sources, SourceUnavailable
from haoban.exchange.sources.records import MarriageRecord, PropertyRecord, SourceName
from haoban.kit.masking import mask_id_number

log = logging.getLogger("haoban.exchange")


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    source: SourceName
    fetched: Fetched[Any] | None = None
    reason: str | None = None
    # estate, for the household rule: the spouse's properties (the marriage registry's spouse),
    # [] when the registry shows no spouse, None when not asked or not known (`spouse_reason`).
    spouse_properties: list[PropertyRecord] | None = None
    spouse_reason: str | None = None


def _call(sources: Sources, source: SourceName, id_number: str) -> Callable[[], Awaitable[Fetched[Any]]]:
    calls: dict[SourceName, Callable[[], Awaitable[Fetched[Any]]]] = {
        "identity": lambda: sources.identity.lookup(id_number),
        "household": lambda: sources.household.lookup(id_number),
        "housing_fund": lambda: sources.housing_fund.lookup(id_number),
        "estate": lambda: sources.estate.properties_of(id_number),
        "marriage": lambda: sources.marriage.lookup(id_number),
        "social_security": lambda: sources.social_security.lookup(id_number),
    }
    return calls[source]


# Adapters with a deadline of their own (HTTP) give up at `timeout_s` and count
# the failure towards their circuit breaker; this outer bound only catches
# adapters that have none, so it must not fire first, even when a loaded event
# loop runs the adapter's own timer late (0.1 s was seen to lose that race).
OUTER_MARGIN_S = 0.5


async def _ask(sources: Sources, source: SourceName, id_number: str, timeout_s: float) -> Answer:
    try:
        async with asyncio.timeout(timeout_s + OUTER_MARGIN_S):
            fetched = await _call(sources, source, id_number)()
    except TimeoutError:
        reason = "timeout"
    except SourceUnavailable as exc:
        reason = exc.reason
    except Exception:  # a broken adapter must not fail the whole response
        log.exception("source adapter crashed", extra={"source": source})
        reason = "source_error"
    else:
        record = places.coded(fetched.record)  # every place with its GB/T 2260 code
        if record is not fetched.record:
            fetched = msgspec.structs.replace(fetched, record=record)
        return Answer(source=source, fetched=fetched)
    log.warning(
        "source unavailable", extra={"source": source, "reason": reason, "id_number": mask_id_number(id_number)}
    )
    return Answer(source=source, reason=reason)


async def gather(
    sources: Sources, id_number: str, wanted: list[SourceName], timeout_s: float, *, household: bool = False
) -> list[Answer]:
    """Every wanted source, concurrently, each bounded by `timeout_s`.

    With `household` (and both estate and marriage wanted), the estate answer also
    carries the spouse's properties: the marriage registry names the spouse, then
    the estate registry is asked for them.
    """
    answers = list(await asyncio.gather(*(_ask(sources, s, id_number, timeout_s) for s in wanted)))
    if household and "estate" in wanted and "marriage" in wanted:
        at = wanted.index("estate")
        answers[at] = await _with_spouse(sources, answers[at], answers[wanted.index("marriage")], timeout_s)
    return answers


async def _with_spouse(sources: Sources, estate: Answer, marriage: Answer, timeout_s: float) -> Answer:
    if estate.fetched is None:
        return estate
    if marriage.fetched is None:
        return msgspec.structs.replace(estate, spouse_reason=f"marriage {marriage.reason or 'unavailable'}")
    record = marriage.fetched.record
    if not isinstance(record, MarriageRecord) or record.status != "married":
        return msgspec.structs.replace(estate, spouse_properties=[])  # no registered spouse
    if not record.spouse_id_number:
        return msgspec.structs.replace(estate, spouse_reason="spouse not named")
    spouse = await _ask(sources, "estate", record.spouse_id_number, timeout_s)
    if spouse.fetched is None:
        return msgspec.structs.replace(estate, spouse_reason=spouse.reason or "unavailable")
    fetched = msgspec.structs.replace(
        estate.fetched,
        response_hash=hashlib.sha256(
            (estate.fetched.response_hash + spouse.fetched.response_hash).encode()
        ).hexdigest(),
    )
    return msgspec.structs.replace(estate, fetched=fetched, spouse_properties=list(spouse.fetched.record))
