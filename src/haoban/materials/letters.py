"""The letters an applicant signs in the app, and the tolerant-acceptance notice text (pure).

A signature stores the letter's version and the SHA-256 of its exact text, so
what was signed can be shown later even after the wording changes.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Literal

from haoban.catalog.schemas import Material, Service
from haoban.materials.requirements import how

LetterKind = Literal["authorization", "tolerant"]
KINDS: tuple[LetterKind, ...] = ("authorization", "tolerant")
VERSION = "2026-11"

_TEXTS: dict[LetterKind, tuple[str, str]] = {
    "authorization": (
        "授权及承诺书：本人授权好办向公安、民政、人社、不动产登记等部门查询办理本事项所需的本人信息，"
        "仅用于本次申请；本人承诺所填报信息和上传材料真实、准确、完整，如有虚假，愿承担相应法律责任。",
        "Authorization and commitment letter: I authorise Haoban to obtain my records needed for this "
        "application from the public security, civil affairs, human resources and real-estate registries, for "
        "this application only. I declare that what I enter and upload is true, accurate and complete, and I "
        "accept the legal consequences of any false statement.",
    ),
    "tolerant": (
        "容缺受理承诺书：本人申请容缺受理，承诺在容缺受理通知书载明的期限内补齐所列全部材料；"
        "逾期未补齐的，本申请不予受理（驳回），由此产生的后果由本人承担。",
        "Tolerant-acceptance commitment: I ask for my application to be accepted with secondary materials "
        "missing and I undertake to supply every item listed in the notice by its deadline; if I do not, the "
        "application is rejected and I bear the consequences.",
    ),
}


def text(kind: LetterKind) -> tuple[str, str]:
    return _TEXTS[kind]


def sha256(kind: LetterKind) -> str:
    zh, en = _TEXTS[kind]
    return hashlib.sha256(f"{VERSION}\n{zh}\n{en}".encode()).hexdigest()


def notice_texts(svc: Service, items: list[Material], deadline: date) -> tuple[str, str]:
    """容缺受理通知书: every missing item, how to supply it, the deadline and what missing it means."""
    when = deadline.isoformat()
    lines_zh = [f"{i}. {m.name_zh}（{how(m)[0]}）" for i, m in enumerate(items, 1)]
    lines_en = [f"{i}. {m.name_en} ({how(m)[1]})" for i, m in enumerate(items, 1)]
    zh = (
        f"容缺受理通知书\n您申请的“{svc.name_zh}”已容缺受理。请于 {when}（含）前补齐以下材料：\n"
        + "\n".join(lines_zh)
        + f"\n补齐方式：在好办 App 本申请页面上传。逾期未补齐的，申请将不予通过。"
        f"\n期限按工作日计算，不超过本事项承诺办结时限（{svc.sla_working_days} 个工作日）。"
    )
    en = (
        f"Notice of tolerant acceptance\nYour application for {svc.name_en} is accepted with materials missing. "
        f"Supply the following by the end of {when} (China time):\n"
        + "\n".join(lines_en)
        + "\nHow: upload each item on this application's page in the Haoban app. If anything is still missing after "
        "the deadline the application is refused."
        f"\nThe deadline counts working days and is within the service's promised time ({svc.sla_working_days} "
        "working days)."
    )
    return zh, en
