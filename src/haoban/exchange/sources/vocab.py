"""Registry labels as closed sets (pure): household relations and fund withdrawal kinds.

Registries write 户主, 长子 or the GB/T 4761 code 22 for a relation, and 租房提取 or
偿还商业贷款 for a withdrawal. Rules must never compare those raw strings, so
every adapter's record comes out with a code from a closed set, and the label
as written beside it for display. An ingested label outside the table is
refused naming the field; one read from a source is an unreadable answer, so
the facts it would give are missing (a person decides) and never read as
"some other kind".
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal, get_args

import msgspec

Relation = Literal["head", "spouse", "child", "grandchild", "parent", "grandparent", "sibling", "other"]
WithdrawalKind = Literal["rent", "retirement", "loan_repayment", "purchase", "build", "leave_city", "medical", "other"]
RELATIONS: frozenset[str] = frozenset(get_args(Relation))
WITHDRAWAL_KINDS: frozenset[str] = frozenset(get_args(WithdrawalKind))
UNKNOWN_RELATION = "is not a household relation the registry table knows (GB/T 4761)"
UNKNOWN_KIND = "is not a withdrawal kind of the fund centre's table"

# GB/T 4761 家庭关系代码: the first digit is the group.
_RELATION_GROUP: dict[str, Relation] = {
    "0": "head", "1": "spouse", "2": "child", "3": "child", "4": "grandchild",
    "5": "parent", "6": "grandparent", "7": "sibling", "8": "other", "9": "other",
}  # fmt: skip
_RELATION_WORDS: dict[Relation, tuple[str, ...]] = {
    "head": ("户主", "本人"),
    "spouse": ("配偶", "夫", "妻", "丈夫", "妻子"),
    "child": ("子女", "子", "女", "儿子", "女儿", "长子", "次子", "三子", "长女", "次女", "三女",
              "独生子", "独生女", "养子", "养女", "继子", "继女", "儿媳", "女婿"),
    "grandchild": ("孙子", "孙女", "外孙", "外孙子", "外孙女", "曾孙子", "曾孙女"),
    "parent": ("父亲", "母亲", "父母", "公公", "婆婆", "岳父", "岳母", "继父", "继母", "养父", "养母"),
    "grandparent": ("祖父", "祖母", "外祖父", "外祖母", "祖父母"),
    "sibling": ("兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟姐妹", "嫂", "弟媳", "姐夫", "妹夫"),
    "other": ("其他", "其他亲属", "非亲属", "保姆", "集体户成员"),
}  # fmt: skip
_KIND_WORDS: dict[WithdrawalKind, tuple[str, ...]] = {
    "rent": ("租房", "租赁", "房租", "租房提取", "租赁住房提取", "支付房租"),
    "retirement": ("退休", "离休", "离退休", "退休提取", "离退休提取"),
    "loan_repayment": ("偿还贷款", "偿贷", "还贷", "偿还住房贷款", "偿还商业贷款", "偿还公积金贷款", "偿还贷款提取"),
    "purchase": ("购房", "购买住房", "购房提取", "购买自住住房"),
    "build": ("建造", "翻建", "大修", "建造翻建大修"),
    "leave_city": ("离职", "户口迁出", "离开本市", "离职提取", "户口迁出提取"),
    "medical": ("重大疾病", "医疗", "大病"),
    "other": ("其他",),
}  # fmt: skip


def _index(table: dict[Any, tuple[str, ...]]) -> dict[str, Any]:
    return {word: code for code, words in table.items() for word in words}


_RELATION_INDEX: dict[str, Relation] = _index(_RELATION_WORDS)
_KIND_INDEX: dict[str, WithdrawalKind] = _index(_KIND_WORDS)
_SUFFIX = re.compile(r"(提取|关系)$")


def _clean(label: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", label)).lower()


def relation(label: str) -> Relation | None:
    """The relation code of a registry label (户主, 长子, 22, spouse), or None."""
    text = _clean(label)
    if text in RELATIONS:
        return text  # type: ignore[return-value]
    if re.fullmatch(r"\d{2}", text):
        return None if text == "00" else _RELATION_GROUP[text[0]]
    return _RELATION_INDEX.get(text) or _RELATION_INDEX.get(_SUFFIX.sub("", text))


def withdrawal_kind(label: str) -> WithdrawalKind | None:
    """The withdrawal kind of a fund-centre label (租房提取, rent), or None."""
    text = _clean(label)
    if text in WITHDRAWAL_KINDS:
        return text  # type: ignore[return-value]
    return _KIND_INDEX.get(text) or _KIND_INDEX.get(_SUFFIX.sub("", text))


def wire(source: str, obj: Any) -> Any:
    """A decoded JSON answer with codes in place of labels (the label kept beside); raises on an unknown one."""
    if not isinstance(obj, dict):
        return obj
    if source == "household" and isinstance(obj.get("members"), list):
        for i, m in enumerate(obj["members"]):
            if isinstance(m, dict) and isinstance(m.get("relation"), str):
                m["relation_label"] = m.get("relation_label") or m["relation"]
                m["relation"] = _known(relation(m["relation"]), f"$.members[{i}].relation", UNKNOWN_RELATION)
    if source == "housing_fund" and isinstance(obj.get("withdrawals"), list):
        for i, w in enumerate(obj["withdrawals"]):
            if isinstance(w, dict) and isinstance(w.get("kind"), str):
                w["kind_label"] = w.get("kind_label") or w["kind"]
                w["kind"] = _known(withdrawal_kind(w["kind"]), f"$.withdrawals[{i}].kind", UNKNOWN_KIND)
    return obj


def _known(code: str | None, where: str, reason: str) -> str:
    if code is None:
        raise msgspec.ValidationError(f"{reason} - at `{where}`")
    return code
