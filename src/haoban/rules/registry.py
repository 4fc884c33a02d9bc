"""Rule sets: from the YAML files into `rule_sets`, and out again compiled.

The files in `sets/` are the source of truth; `sync_rule_sets` copies new
versions into the database at migrate/serve time. A version is immutable: a
file whose document differs from the stored row of the same version is refused
by name (add a new version instead). Compiled rule sets are cached for the
process, keyed by the sha256 of the document itself, so an edited row is
never served from a stale cache.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import asyncpg
import msgspec
import yaml

from haoban.db.migrations import MigrationError
from haoban.db.pool import unit_of_work
from haoban.kit.errors import Unavailable
from haoban.places import divisions
from haoban.rules import repository as repo
from haoban.rules.display_names import deciding, display_name_reads
from haoban.rules.engine import CompiledRuleSet, compile_rule_set, document_sha256
from haoban.rules.schemas import RuleSetDoc, StoredDecision

__all__ = [
    "InEffect",
    "NoRuleSet",
    "RuleSetChanged",
    "compiled",
    "get_decision",
    "load_files",
    "rule_set_for",
    "sync_rule_sets",
]

SETS_DIR = Path(__file__).parent / "sets"
_CACHE: dict[str, CompiledRuleSet] = {}


class RuleSetChanged(MigrationError):
    """A rule-set file changed after its version was loaded."""


class NoRuleSet(Unavailable):
    code = "rule_set_missing"


def load_files(directory: Path = SETS_DIR, *, today: date | None = None) -> list[RuleSetDoc]:
    """Every rule-set file, parsed and checked (each one compiles; none that still decides reads a display name)."""
    docs: list[RuleSetDoc] = []
    names: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            doc = msgspec.convert(yaml.safe_load(path.read_text(encoding="utf-8")), RuleSetDoc)
        except msgspec.ValidationError as exc:
            raise MigrationError(f"rule-set file {path.name}: {exc}") from None
        _check_places(path, doc)
        compiled(doc)
        docs.append(doc)
        names[doc.version] = path.name
    versions = [d.version for d in docs]
    if len(set(versions)) != len(versions):
        raise MigrationError("two rule-set files share a version")
    for doc in deciding(docs, since=today or datetime.now(UTC).date()):
        if reads := display_name_reads(doc):
            raise MigrationError(
                f"rule-set file {names[doc.version]}: reads display names (compare division codes): {', '.join(reads)}"
            )
    return docs


def _check_places(path: Path, doc: RuleSetDoc) -> None:
    """A `city_code` (or `*_city_code`) parameter is a city-level GB/T 2260 code: rules compare prefectures."""
    for name, values in doc.parameters.items():
        if name != "city_code" and not name.endswith("_city_code"):
            continue
        for v in values:
            if not (isinstance(v.value, str) and divisions.is_city_code(v.value)):
                raise MigrationError(
                    f"rule-set file {path.name}: parameter {name} ({v.effective_from.isoformat()}) is {v.value!r}, "
                    "not a city-level GB/T 2260 division code (e.g. 410100)"
                )


def compiled(doc: RuleSetDoc) -> CompiledRuleSet:
    """Compile once per process and document."""
    sha = document_sha256(doc)
    hit = _CACHE.get(sha)
    if hit is None:
        hit = _CACHE[sha] = compile_rule_set(doc)
    return hit


async def sync_rule_sets(conn: asyncpg.Connection, *, directory: Path = SETS_DIR, at: datetime | None = None) -> int:
    """Load new rule-set versions into `rule_sets`; returns how many were added. Idempotent."""
    at = at or datetime.now(UTC)
    added = 0
    for doc in load_files(directory, today=at.date()):
        sha = document_sha256(doc)
        async with conn.transaction():
            stored = await repo.rule_set_sha(conn, doc.version)
            if stored is None and await repo.insert_rule_set(conn, doc, sha256=sha, at=at):
                added += 1
                continue
            stored = stored or await repo.rule_set_sha(conn, doc.version)
        if stored != sha:
            raise RuleSetChanged(
                f"rule set {doc.version} differs from the version already loaded; "
                "versions are immutable: give the change a new version"
            )
    return added


async def rule_set_for(conn: asyncpg.Connection, service_code: str, on: date) -> CompiledRuleSet:
    """The version of `service_code` in effect on `on`."""
    stored = await repo.rule_set_in_effect(conn, service_code, on)
    if stored is None:
        raise NoRuleSet(f"no rule set of {service_code} is in effect on {on.isoformat()}")
    return compiled(stored.document)


class InEffect:
    """`rule_set_for`, remembered per (service, day) for `ttl_s`.

    Rows are added only by `sync_rule_sets` at migrate/serve time, so a
    deployment's new version is served within `ttl_s` by servers already running.
    """

    def __init__(self, ttl_s: float = 60.0) -> None:
        self._ttl_s = ttl_s
        self._seen: dict[tuple[str, date], tuple[float, CompiledRuleSet]] = {}

    async def get(self, pool: asyncpg.Pool, service_code: str, on: date) -> CompiledRuleSet:
        now = time.monotonic()
        hit = self._seen.get((service_code, on))
        if hit is not None and now - hit[0] < self._ttl_s:
            return hit[1]
        async with unit_of_work(pool, transaction=False) as conn:
            found = await rule_set_for(conn, service_code, on)
        self._seen[(service_code, on)] = (now, found)
        return found


async def get_decision(conn: asyncpg.Connection, decision_id: UUID) -> StoredDecision | None:
    return await repo.get_decision(conn, decision_id)
