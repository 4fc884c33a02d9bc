"""Resident ID numbers (GB 11643-1999): 18 characters, ISO 7064 MOD 11-2 check digit."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated

import msgspec

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")

TYPED_PATTERN = "^[\\s0-9\uff10-\uff19xX\uff58\uff38]+$"
"""What a person may type: digits (also full-width), x or X, and spaces; the strict shape comes after `normalise`."""

IdNumberShape = Annotated[
    str,
    msgspec.Meta(
        pattern=TYPED_PATTERN,
        max_length=64,
        description=(
            "18-character resident ID number (GB 11643). Typed forms are accepted: spaces are dropped, "
            "full-width digits read as ASCII and x as X; the result must be 17 digits and a digit or X "
            "whose check digit matches"
        ),
        examples=["11010519491231002X"],
        extra={"id_number": True},
    ),
]
"""The published pattern admits the typed forms; request bodies normalise the value (`normalise`)
and then check its shape, birth date and check digit (`problem`, kit/decoding.py)."""


def normalise(value: str) -> str:
    """What a person meant: spaces dropped, full-width characters made ASCII (NFKC), x made X."""
    return "".join(unicodedata.normalize("NFKC", value).split()).replace("x", "X")


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def birth_date(id_number: str) -> date | None:
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


SHAPE_PROBLEM = "must be 17 digits followed by a digit or X"


def problem(id_number: str) -> str | None:
    """Why `id_number` is not valid, or None when it is."""
    if not _SHAPE.match(id_number):
        return SHAPE_PROBLEM
    if birth_date(id_number) is None:
        return "contains an impossible birth date"
    if check_digit(id_number[:17]) != id_number[17]:
        return "check digit does not match"
    return None


def is_valid(id_number: str) -> bool:
    return problem(id_number) is None


def sex(id_number: str) -> str:
    """'M' or 'F' from the sequence code's parity."""
    return "M" if int(id_number[16]) % 2 else "F"


def make(prefix6: str, born: date, seq3: str) -> str:
    """Build a valid ID number (for tests and demo data)."""
    first17 = f"{prefix6}{born:%Y%m%d}{seq3}"
    return first17 + check_digit(first17)
