"""Refusals a citizen understands: every reason code as one plain sentence and what to do next (pure).

The sentence names the registry the fact came from and when that registry last
updated it, so a citizen who thinks a record is wrong knows whom to ask. Every
reason a rule set can give has an entry here, or in the declaration of the one
service that gives it (tests/rules/test_explain.py checks the rule-set files
against this table), as do the fund centre's refusals of a debit and the
decisions left to a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from haoban.places import divisions
from haoban.rules import declarations
from haoban.rules.schemas import Decision, Fact


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    message_zh: str
    message_en: str
    next_zh: str
    next_en: str


class _Text(msgspec.Struct, frozen=True):
    zh: str
    en: str
    next_zh: str
    next_en: str
    fact: str | None = None  # whose provenance the sentence cites


_FUND_COUNTER = (
    "请携带身份证到住房公积金管理中心柜台或拨打 12329 咨询。",
    "Bring your ID card to a fund centre counter or call 12329.",
)
_ESTATE = (
    "如登记有误，请联系不动产登记中心更正后再申请。",
    "If the record is wrong, ask the real-estate registration centre to correct it, then apply again.",
)

TEXTS: dict[str, _Text] = {
    "account_sealed": _Text(
        "您的公积金账户已封存（住房公积金管理中心{when}）。",
        "Your housing fund account is sealed (housing fund centre{when_en}).",
        "请由新单位办理账户启封或转移后再申请。",
        "Ask your new employer to unseal or transfer the account, then apply again.",
        "housing_fund.status",
    ),
    "account_closed": _Text(
        "您的公积金账户已销户（住房公积金管理中心{when}）。",
        "Your housing fund account is closed (housing fund centre{when_en}).",
        *_FUND_COUNTER,
        "housing_fund.status",
    ),
    "contribution_too_short": _Text(
        "您连续足额缴存不满 3 个月（住房公积金管理中心{when}）。",
        "You have paid contributions for fewer than 3 months in a row (housing fund centre{when_en}).",
        "缴满 3 个月后可再次申请。",
        "Apply again once three months have been paid.",
        "housing_fund.contribution_months",
    ),
    "owns_property_in_city": _Text(
        "您名下在{city}有住房（不动产登记{when}），不能办理租房提取。",
        "You own a home in {city} (real-estate registry{when_en}), so rent withdrawal is not available.",
        *_ESTATE,
        "estate.properties",
    ),
    "spouse_owns_property_in_city": _Text(
        "您的配偶在{city}有住房（婚姻登记、不动产登记{when}）。",
        "Your spouse owns a home in {city} (marriage and real-estate registries{when_en}).",
        "如婚姻或房产登记有误，请联系民政婚姻登记处或不动产登记中心更正后再申请。",
        "If the marriage or property record is wrong, ask the civil affairs office or the real-estate "
        "registration centre to correct it, then apply again.",
        "estate.spouse_properties",
    ),
    "no_mortgaged_property_in_city": _Text(
        "不动产登记中没有您或配偶在{city}的、正在抵押且未被查封的住房（{when_zh_plain}）。",
        "The real-estate registry shows no mortgaged, unseized home of yours or your spouse's in {city}{when_en}.",
        *_ESTATE,
        "estate.properties",
    ),
    "fund_loan_outstanding": _Text(
        "您有未还清的住房公积金贷款（住房公积金管理中心{when}）。",
        "You have a housing fund loan still outstanding (housing fund centre{when_en}).",
        "还清贷款后可申请；偿还贷款请办理偿还住房贷款提取。",
        "Apply once the loan is repaid; to repay it, use the loan-repayment withdrawal.",
        "housing_fund.loan_outstanding_fen",
    ),
    "withdrawn_within_period": _Text(
        "近 12 个月内您已办理过同类提取（住房公积金管理中心{when}）。",
        "You made this kind of withdrawal in the last 12 months (housing fund centre{when_en}).",
        "距上次提取满 12 个月后可再次申请。",
        "Apply again 12 months after the last one.",
        "housing_fund.withdrawals",
    ),
    "balance_below_retained": _Text(
        "您的账户余额不超过需留存的金额，暂无可提取金额。",
        "Your balance does not exceed the amount that must stay in the account.",
        "账户余额增加后可再次申请。",
        "Apply again when the balance has grown.",
    ),
    "nothing_to_withdraw": _Text(
        "您的账户余额为零，没有可提取的金额（住房公积金管理中心{when}）。",
        "Your account balance is zero: there is nothing to withdraw (housing fund centre{when_en}).",
        *_FUND_COUNTER,
        "housing_fund.balance_fen",
    ),
    "retirement_age_not_reached": _Text(
        "按渐进式延迟退休规定，您将于 {retirement_on} 达到法定退休年龄（公安人口库{when}）。",
        "Under the gradual retirement-age reform you reach the statutory retirement age on {retirement_on}"
        " (identity registry{when_en}).",
        "届时可再次申请；如您已按规定提前退休，请携带退休证明到柜台办理。",
        "Apply again then; if you retired early under the rules, bring your retirement certificate to a counter.",
        "identity.retirement_on",
    ),
    "not_resident_in_city": _Text(
        "您的户籍和社保缴纳地都不在{city}（户籍、社保登记{when}）。",
        "Neither your household registration nor your social security is in {city}{when_en}.",
        "如登记有误，请联系公安户籍或社保部门更正。",
        "If a record is wrong, ask the household registration or social security office to correct it.",
        "household.city_code",
    ),
    "income_above_limit": _Text(
        "您申报的家庭人均月收入超过限额。",
        "The monthly income per person you declared is above the limit.",
        "如申报有误，请重新申请并如实申报。",
        "If you declared it wrongly, apply again with the right figure.",
    ),
    "household_size_invalid": _Text(
        "您申报的家庭人口数无效。",
        "The household size you declared is not valid.",
        "请重新申请并填写 1 到 20 之间的人数。",
        "Apply again with a household of 1 to 20 people.",
    ),
    # The fund centre refused the debit after the rules approved.
    "fund_centre_refused:balance_changed": _Text(
        "提交期间您的公积金余额发生了变化（例如柜台提取或新缴存），本次未扣款、未付款。",
        "Your fund balance changed while this was being decided (a counter withdrawal or a deposit); "
        "nothing was debited or paid.",
        "请重新提交，系统将按最新余额办理。",
        "Submit again: it will be decided on the new balance.",
    ),
    "fund_centre_refused:insufficient_funds": _Text(
        "住房公积金管理中心账户余额不足，本次未扣款、未付款。",
        "The fund centre's balance was too low; nothing was debited or paid.",
        *_FUND_COUNTER,
    ),
    "fund_centre_refused:account_not_normal": _Text(
        "住房公积金管理中心显示您的账户状态不正常，本次未扣款、未付款。",
        "The fund centre shows your account is not in normal status; nothing was debited or paid.",
        *_FUND_COUNTER,
    ),
    "fund_centre_refused:unknown_account": _Text(
        "住房公积金管理中心找不到您的账户，本次未扣款、未付款。",
        "The fund centre does not know your account; nothing was debited or paid.",
        *_FUND_COUNTER,
    ),
    "fund_centre_unavailable": _Text(
        "住房公积金管理中心暂时无法受理，本次未扣款、未付款。",
        "The fund centre could not be reached; nothing was debited or paid.",
        "请稍后重新提交。",
        "Please submit again later.",
    ),
}

# Reasons only one service's rules give are worded in its declaration (rules/services/*.yaml).
TEXTS.update(
    {
        reason: _Text(t.zh, t.en, t.next_zh, t.next_en, t.fact)
        for reason, t in declarations.explanation_texts(declarations.load(), TEXTS).items()
    }
)

_MISSING = _Text(
    "有一项登记信息暂时无法核实（{fact}），已转人工审核。",
    "A registry fact could not be checked just now ({fact}); a person will review your application.",
    "无需操作，审核结果会通知您。",
    "Nothing to do: you will be told the outcome.",
)
_UNKNOWN = _Text(
    "您的申请未通过（{reason}）。",
    "Your application was not approved ({reason}).",
    *_FUND_COUNTER,
)


def _when(fact: Fact | None) -> tuple[str, str]:
    stamp = fact.last_updated if fact is not None else None
    if not isinstance(stamp, datetime):
        return "", ""
    day = stamp.date().isoformat()
    return f"，更新于 {day}", f", updated {day}"


def _city(params: Mapping[str, object]) -> str | None:
    """The rule's city by name: from its GB/T 2260 code (郑州市 for 410100), else its display parameter."""
    code = params.get("city_code")
    found = divisions.by_code(code) if isinstance(code, str) else None
    if found is not None:
        return divisions.city_name(found)
    name = params.get("city")
    return name if isinstance(name, str) else None


def explain(reason: str, facts: Mapping[str, Fact], params: Mapping[str, object] | None = None) -> Explanation:
    """One reason as the citizen reads it."""
    if reason.startswith(("missing:", "unevaluable:")):
        name = reason.partition(":")[2]
        return Explanation(
            reason=reason,
            message_zh=_MISSING.zh.format(fact=name),
            message_en=_MISSING.en.format(fact=name),
            next_zh=_MISSING.next_zh,
            next_en=_MISSING.next_en,
        )
    text = TEXTS.get(reason)
    if text is None:
        return Explanation(
            reason=reason,
            message_zh=_UNKNOWN.zh.format(reason=reason),
            message_en=_UNKNOWN.en.format(reason=reason),
            next_zh=_UNKNOWN.next_zh,
            next_en=_UNKNOWN.next_en,
        )
    when_zh, when_en = _when(facts.get(text.fact) if text.fact else None)
    retirement = facts.get("identity.retirement_on")
    city = _city(params or {})
    values = {
        "city": city or "本市",
        "when": when_zh,
        "when_en": when_en,
        "when_zh_plain": when_zh.lstrip("，") or "不动产登记",
        "retirement_on": retirement.value if retirement is not None and retirement.value else "—",
    }
    city_en = city or "the city"
    return Explanation(
        reason=reason,
        message_zh=text.zh.format(**values),
        message_en=text.en.format(**{**values, "city": city_en}),
        next_zh=text.next_zh,
        next_en=text.next_en,
    )


def explain_all(
    decision: Decision, facts: Mapping[str, Fact], *, status_reason: str | None = None
) -> list[Explanation]:
    """Every reason of a refusal (or of a decision left to a person), and a fund-centre refusal."""
    params: dict[str, object] = {}
    for step in decision.trace:
        params.update({k: v for k, v in step.inputs.items() if "." not in k})
    reasons = list(decision.reasons)
    if status_reason and status_reason.startswith("fund_centre"):
        reasons.append(status_reason)
    return [explain(r, facts, params) for r in reasons]
