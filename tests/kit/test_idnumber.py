from __future__ import annotations

from datetime import date

import pytest

from haoban.kit import idnumber


def test_known_valid_number() -> None:
    # The example from GB 11643-1999.
    assert idnumber.is_valid("11010519491231002X")
    assert idnumber.birth_date("11010519491231002X") == date(1949, 12, 31)
    assert idnumber.sex("11010519491231002X") == "F"


def full_width(text: str) -> str:
    """The characters a Chinese phone keyboard types in full-width mode."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "birth date"),
        ("1101051949123100", "17 digits"),
        ("01010519491231002X", "17 digits"),
        ("11010519491231002x", "17 digits"),
    ],
)
def test_invalid_numbers_say_why(value: str, reason: str) -> None:
    problem = idnumber.problem(value)
    assert problem is not None
    assert reason in problem


def test_make_builds_valid_numbers() -> None:
    for seq in ("001", "002", "123", "999"):
        value = idnumber.make("410105", date(1990, 1, 1), seq)
        assert idnumber.is_valid(value), value
        broken = value[:17] + ("0" if value[17] != "0" else "1")
        assert not idnumber.is_valid(broken)


@pytest.mark.parametrize(
    "typed", ["11010519491231002x", full_width("11010519491231002x"), " 110105 19491231 002X\u3000"]
)
def test_normalise_makes_what_a_person_typed_the_number_they_meant(typed: str) -> None:
    assert idnumber.normalise(typed) == "11010519491231002X"
