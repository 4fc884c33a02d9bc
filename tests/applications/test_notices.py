"""What a citizen reads in a notification: sentences, never codes, and no doubled words (issue 19, part 6)."""

from __future__ import annotations

import itertools
import re

import pytest

from haoban.applications import notices
from haoban.catalog.data import BY_CODE
from haoban.rules.explain import TEXTS

CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # snake_case: a reason code


@pytest.mark.parametrize("service_code", sorted(BY_CODE))
@pytest.mark.parametrize(
    "status", ["submitted", "approved", "pending_review", "pending_materials", "paid", "completed"]
)
def test_no_word_is_doubled(service_code: str, status: str) -> None:
    said = notices.texts(service_code, status, None)
    for text in (said["body_en"], said["body_zh"]):
        words = re.findall(r"\w+", text.lower())
        assert all(a != b for a, b in itertools.pairwise(words)), text
    assert "申请申请" not in said["body_zh"]


@pytest.mark.parametrize(
    "reason", [*sorted(TEXTS), "materials_deadline_missed", "cancelled_by_applicant", "payout_failed: card_closed"]
)
@pytest.mark.parametrize("status", ["rejected", "cancelled"])
def test_a_reason_reaches_the_citizen_as_words(reason: str, status: str) -> None:
    said = notices.texts("hpf.withdraw.rent", status, reason)
    for text in (said["body_zh"], said["body_en"]):
        assert not CODE.search(text), text


def test_a_reviewers_own_words_stay_as_written() -> None:
    said = notices.texts("housing.public_rental.apply", "rejected", "收入证明与社保记录不一致")
    assert "收入证明与社保记录不一致" in said["body_zh"]
