"""What the citizen is told at each status (pure; Chinese and English)."""

from __future__ import annotations

from haoban.catalog.data import BY_CODE

_TEXTS: dict[str, tuple[str, str, str, str]] = {
    "submitted": (
        "申请已提交",
        "Application submitted",
        "您的「{zh}」申请已提交。",
        "Your {en} application was submitted.",
    ),
    "approved": (
        "申请已通过",
        "Application approved",
        "您的「{zh}」申请已通过。",
        "Your {en} application was approved.",
    ),
    "rejected": (
        "申请未通过",
        "Application refused",
        "您的「{zh}」申请未通过：{reason}。",
        "Your {en} application was refused: {reason}.",
    ),
    "pending_review": (
        "申请待人工审核",
        "Application under review",
        "您的「{zh}」申请已受理，正在人工审核，无需到现场。",
        "Your {en} application was accepted and is being reviewed; no visit is needed.",
    ),
    "pending_materials": (
        "请补充材料",
        "Materials needed",
        "您的「{zh}」申请已容缺受理，请在 App 内补充材料。",
        "Your {en} application was accepted; please supply the missing materials in the app.",
    ),
    "paid": (
        "提取已到账",
        "Money sent",
        "您的「{zh}」款项已转入您的银行卡。",
        "Your {en} money was paid to your bank card.",
    ),
    "completed": ("办结", "Completed", "您的「{zh}」事项已办结。", "Your {en} application is complete."),
    "cancelled": (
        "申请已撤销",
        "Application cancelled",
        "您的「{zh}」申请已撤销：{reason}。",
        "Your {en} application was cancelled: {reason}.",
    ),
}


def reference(application_id: object, status: str) -> str:
    """One notification per application and status: redelivery reuses the reference."""
    return f"application:{application_id}:{status}"


def texts(service_code: str, status: str, reason: str | None) -> dict[str, str]:
    service = BY_CODE.get(service_code)
    zh_name = service.name_zh if service else service_code
    en_name = service.name_en if service else service_code
    title_zh, title_en, body_zh, body_en = _TEXTS[status]
    why = reason or "—"
    return {
        "title_zh": title_zh,
        "title_en": title_en,
        "body_zh": body_zh.format(zh=zh_name, reason=why),
        "body_en": body_en.format(en=en_name, reason=why),
    }
