"""Ask several sources at once; a slow or failing one becomes `unavailable`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from haoban.exchange.ports import Fetched, Sources, SourceUnavailable
from haoban.exchange.records import SourceName
from haoban.kit.masking import mask_id_number

log = logging.getLogger("haoban.exchange")


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    source: SourceName
    fetched: Fetched[Any] | None = None
    reason: str | None = None


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
# adapters that have none, so it must not fire first.
OUTER_MARGIN_S = 0.1


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
        return Answer(source=source, fetched=fetched)
    log.warning(
        "source unavailable", extra={"source": source, "reason": reason, "id_number": mask_id_number(id_number)}
    )
    return Answer(source=source, reason=reason)


async def gather(sources: Sources, id_number: str, wanted: list[SourceName], timeout_s: float) -> list[Answer]:
    """Every wanted source, concurrently, each bounded by `timeout_s`."""
    return list(await asyncio.gather(*(_ask(sources, s, id_number, timeout_s) for s in wanted)))
