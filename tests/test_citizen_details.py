"""A problem detail a citizen can meet is short in Chinese and says what to do next."""

from __future__ import annotations

from haoban.kit.messages import DETAILS

MAX_ZH = 40
NEXT_STEP = ("请", "可", "重新", "联系", "稍后", "再", "咨询", "先", "换", "改", "检查", "核对", "刷新")
"""Words that tell the reader what to do: a request, a retry, whom to ask."""

NOT_CITIZEN = frozenset(
    {
        # A staff member's sign-in and review lane.
        "invalid_credentials",
        "staff_login_locked",
        "own_application",
        "not_pending_review",
        "materials_incomplete",
        "payout_exists",
        "fund_centre_cannot_pay",
        "fund_centre_debit_outstanding",
        "fund_centre_refused",
        # The bank's callbacks.
        "bank_signature_invalid",
        "bank_mismatch",
        # Mistakes of an app's programmer, not of the person using the app.
        "method_not_allowed",
        "cors_refused",
        "invalid_client",
        "unauthorized_client",
        "unsupported_grant_type",
        "unsupported_response_type",
    }
)
"""Codes only staff, the bank or an app's developer meet; every other detail is citizen-facing."""


def short_with_next_step(zh: str) -> bool:
    return len(zh) <= MAX_ZH and any(word in zh for word in NEXT_STEP)


def test_every_citizen_facing_detail_is_short_and_says_what_to_do() -> None:
    bad = {code: zh for code, (zh, _) in DETAILS.items() if code not in NOT_CITIZEN and not short_with_next_step(zh)}
    assert not bad


def test_every_citizen_facing_detail_has_an_english_one() -> None:
    assert all(en.strip() for code, (_, en) in DETAILS.items() if code not in NOT_CITIZEN)


def test_the_excluded_codes_are_in_the_catalogue() -> None:
    assert DETAILS.keys() >= NOT_CITIZEN


def test_the_check_refuses_a_dead_end_or_a_long_text() -> None:
    assert not short_with_next_step("公积金余额不够，无法提取")
    assert not short_with_next_step("请" + "很" * MAX_ZH)
    assert short_with_next_step("余额有变化，请重新办理")
