"""Masking helpers and the log scrubber, as pure functions."""

from __future__ import annotations

import pytest

from haoban.kit.masking import REDACTED, mask_id_number, mask_name, mask_phone, scrub

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


def test_id_number_keeps_region_and_last_four() -> None:
    assert mask_id_number("410105199001011234") == "410105********1234"


def test_id_number_with_x_check_digit() -> None:
    assert mask_id_number("41010519900101123X") == "410105********123X"


def test_phone_keeps_prefix_and_last_four() -> None:
    assert mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize(("name", "masked"), [("张三丰", "张**"), ("张三", "张*"), ("欧阳娜娜", "欧***"), ("张", "*")])
def test_name_keeps_only_the_first_character(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_short_values_are_fully_starred() -> None:
    assert mask_id_number("12345") == "*****"
    assert mask_phone("1234") == "****"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证号410105199001011234已核验", "身份证号410105********1234已核验"),
        ("id=41010519900101123x", "id=410105********123x"),
        ("call 13812345678 now", "call 138****5678 now"),
        ("手机13912345678", "手机139****5678"),
        ("tel +8613812345678", "tel +86138****5678"),
        ("Authorization: Bearer abc.DEF-123_x~", f"Authorization: Bearer {REDACTED}"),
        ("authorization: bearer opaque+token/==", f"authorization: bearer {REDACTED}"),
        (f"token {JWT} leaked", f"token {REDACTED} leaked"),
        ("refresh hbr_x0m1Yf3kQ2bq8Jw7W2VZ0ZxRk7h0qB9U", f"refresh {REDACTED}"),
    ],
)
def test_scrub_masks_personal_data_and_tokens(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "request 3f1c2a9e8b7d4c5a13812345678abcdef0",  # digits inside a hex id
        "order 1381234567890",  # 13 digits: not a mobile number
        "amount 12345678901 fen",  # 11 digits, not a 1[3-9] prefix
        "citizen 7c0f6f4e-2b1d-4c3a-9f8e-138123456780",
        "plain text with no secrets",
    ],
)
def test_scrub_leaves_other_text_alone(text: str) -> None:
    assert scrub(text) == text
