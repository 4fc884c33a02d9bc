"""What the citizen is told at each status (pure; Chinese and English).

A reason code never reaches a person: rule reasons become the sentence of
`rules.explain`, lifecycle reasons the words below, and a reviewer's own words
stay as written. The service name is quoted once, so no word is doubled
("application application").
"""

from __future__ import annotations

from datetime import date

from haoban.catalog.data import BY_CODE
from haoban.rules.explain import TEXTS as RULE_TEXTS
from haoban.rules.explain import explain

_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "submitted": ("申请已提交", "Application submitted", "您办理的「{zh}」已提交。", "“{en}”: submitted."),
    "approved": ("申请已通过", "Application approved", "您办理的「{zh}」已通过。", "“{en}”: approved."),
    "rejected": (
        "申请未通过",
        "Application refused",
        "您办理的「{zh}」未通过：{reason}。",
        "“{en}”: refused. {reason}.",
    ),
    "pending_review": (
        "申请待人工审核",
        "Application under review",
        "您办理的「{zh}」已受理，正在人工审核，无需到现场。",
        "“{en}”: accepted and being reviewed by a person; no visit is needed.",
    ),
    "pending_materials": (
        "请补充材料",
        "Materials needed",
        "您办理的「{zh}」还缺少材料，请在 App 内补充。",
        "“{en}”: some materials are missing; please add them in the app.",
    ),
    "paid": (
        "提取已到账",
        "Money sent",
        "您办理的「{zh}」款项 {{amount}} 元已转入您的银行卡。",
        "“{en}”: {{amount}} yuan was paid to your bank card.",
    ),
    "completed": ("办结", "Completed", "您办理的「{zh}」已办结。", "“{en}”: complete."),
    "cancelled": (
        "申请已撤销",
        "Application cancelled",
        "您办理的「{zh}」已撤销：{reason}。",
        "“{en}”: cancelled. {reason}.",
    ),
}

# Reasons the application's own lifecycle gives (not a rule's).
_LIFECYCLE: dict[str, tuple[str, str]] = {
    "materials_deadline_missed": ("补充材料的期限已过", "The deadline for the missing materials passed"),
    "cancelled_by_applicant": ("您已自行撤销", "You withdrew it"),
    "materials_supplied": ("材料已补齐", "The materials were supplied"),
    "materials_complete": ("材料已齐全", "The materials are complete"),
    "tolerant_acceptance": ("已容缺受理", "Accepted with materials to follow"),
    "payout_failed": (
        "款项未能转入您的银行卡，已退回您的公积金账户",
        "The bank could not pay your card; the money went back to your fund account",
    ),
}


def reason_words(reason: str | None) -> tuple[str, str]:
    """(zh, en) words for a status reason, without the closing stop."""
    if not reason:
        return "—", "—"
    code = reason.partition(":")[0]
    if code in _LIFECYCLE:
        return _LIFECYCLE[code]
    if reason in RULE_TEXTS or reason.startswith(("fund_centre", "missing:", "unevaluable:")):
        said = explain(reason, {})
        return said.message_zh.rstrip("。"), said.message_en.rstrip(".")
    return reason, reason  # a reviewer's own words


def reference(application_id: object, status: str) -> str:
    """One notification per application and status: redelivery reuses the reference."""
    return f"application:{application_id}:{status}"


def _names(service_code: str) -> tuple[str, str]:
    service = BY_CODE.get(service_code)
    return (service.name_zh, service.name_en) if service else (service_code, service_code)


def texts(service_code: str, status: str, reason: str | None, *, note: tuple[str, str] | None = None) -> dict[str, str]:
    zh_name, en_name = _names(service_code)
    title_zh, title_en, body_zh, body_en = _TEXTS[status]
    why_zh, why_en = reason_words(reason)
    said = {
        "title_zh": title_zh,
        "title_en": title_en,
        "body_zh": body_zh.format(zh=zh_name, reason=why_zh),
        "body_en": body_en.format(en=en_name, reason=why_en),
    }
    if note is not None:
        said["body_zh"] += note[0]
        said["body_en"] += " " + note[1]
    return said


def tolerant(service_code: str, deadline: date, missing: list[tuple[str, str]]) -> dict[str, str]:
    """The 已容缺受理 notice, sent when tolerant acceptance really happens: what is missing (zh, en) and by when."""
    zh_name, en_name = _names(service_code)
    when = deadline.isoformat()
    missing_zh = "、".join(zh for zh, _en in missing)
    missing_en = ", ".join(en for _zh, en in missing)
    return {
        "title_zh": "已容缺受理",
        "title_en": "Accepted, materials to follow",
        "body_zh": f"您办理的「{zh_name}」已容缺受理。请在 {when}（含）前在 App 内补齐：{missing_zh}。"
        "逾期未补齐，申请将不予通过。",
        "body_en": f"“{en_name}”: accepted with materials to follow. Add them in the app by the end of {when}:"
        f" {missing_en}. If they are still missing after that day, the application is refused.",
    }
