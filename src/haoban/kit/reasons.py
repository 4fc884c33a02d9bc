"""Field-error reasons in plain Chinese and English, never raw library text.

`translate` maps a msgspec/Litestar validation message (or one of our own
short reasons) to a (zh, en) pair that says what to do. A text not in the
catalogue gets a generic sentence; the raw text is only logged at DEBUG.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from haoban.kit import idnumber
from haoban.kit.messages import TITLES

log = logging.getLogger("haoban.messages")

Pair = tuple[str, str]

_ID_SHAPE: Pair = (
    "身份证号格式不对：应为 17 位数字加 1 位数字或 X",
    "The ID number is wrong: 17 digits, then a digit or X",
)
GENERIC: Pair = ("这一项填写有误，请检查后重新填写", "This entry is not right; check it and enter it again")

_KINDS: dict[str, Pair] = {
    "str": ("文字", "text"),
    "int": ("整数", "a whole number"),
    "float": ("数字", "a number"),
    "bool": ("是或否（true/false）", "yes or no (true/false)"),
    "array": ("列表", "a list"),
    "object": ("对象", "an object"),
    "null": ("空值", "nothing"),
    "uuid": ("编号（UUID）", "an ID (UUID)"),
    "date": ("日期，例如 2024-01-31", "a date such as 2024-01-31"),
    "datetime": ("日期时间，例如 2024-01-31T09:00:00+08:00", "a date and time such as 2024-01-31T09:00:00+08:00"),
    "time": ("时间，例如 09:00:00", "a time such as 09:00:00"),
    "decimal": ("数字", "a number"),
    "bytes": ("base64 编码的文件", "a base64-encoded file"),
}


def _kind(name: str) -> Pair:
    return _KINDS.get(name.split(" ", 1)[0].strip("`"), ("正确的类型", "the right kind of value"))


def _number(match: re.Match[str], what: Pair) -> Pair:
    op, n = match.group(2), match.group(3)
    zh_op, en_op = {
        ">=": ("不能小于", "at least"),
        ">": ("必须大于", "more than"),
        "<=": ("不能大于", "at most"),
        "<": ("必须小于", "less than"),
    }[op]
    return (f"{what[0]}{zh_op} {n}，请改正", f"Use {en_op} {n} {what[1]}".rstrip())


def _length(match: re.Match[str]) -> Pair:
    op, n = match.group(2), match.group(3)
    if match.group(1) == "array" or match.group(1) == "object":
        return _number(match, ("项目个数", "items"))
    if op.startswith(">"):
        return (f"内容太短，至少要 {n} 个字符", f"Too short; use at least {n} characters")
    return (f"内容太长，最多 {n} 个字符", f"Too long; use at most {n} characters")


def _wrong_type(match: re.Match[str]) -> Pair:
    zh, en = _kind(match.group(1).split("|")[0].strip(" `"))
    return (f"填写的类型不对，这里要填{zh}", f"Wrong kind of value; enter {en} here")


# Each pattern gives its sentences, or a function of the match that makes them.
_RULES: list[tuple[re.Pattern[str], Pair | Callable[[re.Match[str]], Pair]]] = [
    (
        re.compile(r"missing required field"),
        ("这一项必须填写，请补上", "This is required; please fill it in"),
    ),
    (
        re.compile(r"Missing required \w+ parameter"),
        ("缺少必填的参数，请补上", "A required parameter is missing; please add it"),
    ),
    (
        re.compile(r"unknown field"),
        ("多了一项无法识别的内容，请删掉它", "This field is not known; please remove it"),
    ),
    (
        re.compile(r"matching regex"),
        (
            "格式不对，请对照说明检查后重新填写",
            "The format is wrong; check the instructions and enter it again",
        ),
    ),
    (re.compile(r"Expected `(str|array|object|bytes)[^`]*` of length (>=|>|<=|<) (\d+)"), _length),
    (re.compile(r"Expected `(int|float|decimal)[^`]*` (>=|>|<=|<) (-?[\d.]+)"), lambda m: _number(m, ("数字", ""))),
    (
        re.compile(r"Expected `(int|float)` that's a multiple of"),
        ("数字不符合要求，请检查", "The number is not allowed; check it"),
    ),
    (
        re.compile(r"Invalid enum value"),
        ("不是可选的值，请从给出的选项中选一个", "Not one of the choices; pick one of the listed values"),
    ),
    (
        re.compile(r"Invalid (RFC3339 encoded )?(date|datetime|time)\b", re.IGNORECASE),
        ("日期或时间格式不对，请写成 2024-01-31 这样", "Wrong date or time; write it like 2024-01-31"),
    ),
    (
        re.compile(r"Invalid UUID", re.IGNORECASE),
        ("编号格式不对，请检查后重新填写", "This ID is not valid; check it and enter it again"),
    ),
    (
        re.compile(r"Invalid base64", re.IGNORECASE),
        ("文件内容无法读取，请重新上传", "The file could not be read; upload it again"),
    ),
    (
        re.compile(r"not valid base64"),
        ("照片无法读取，请重新拍摄", "The photo could not be read; take it again"),
    ),
    (
        re.compile(r"out of range|too large or a text too long", re.IGNORECASE),
        ("数字太大或内容太长，请改小一些", "The number is too large or the text too long; make it smaller"),
    ),
    (
        re.compile(r"NUL character"),
        (
            "内容里有无法识别的字符，请删掉后重新填写",
            "The text has a character that is not allowed; remove it",
        ),
    ),
    (re.compile(r"Expected `([^`]+)`, got `[^`]+`"), _wrong_type),
    (
        re.compile(re.escape(idnumber.SHAPE_PROBLEM)),
        _ID_SHAPE,
    ),
    (
        re.compile(r"impossible birth date"),
        ("身份证号里的出生日期不对，请核对", "The birth date in the ID number is not possible; check it"),
    ),
    (
        re.compile(r"check digit does not match"),
        ("身份证号最后一位不对，请核对后重新填写", "The last digit of the ID number is wrong; check it"),
    ),
    (
        re.compile(r"does not match the ID number"),
        ("与身份证号上的信息不一致，请核对", "Does not match the ID number; check it"),
    ),
    (re.compile(r"^is required when"), ("这一项必须填写", "This is required here; please fill it in")),
    (re.compile(r"^must be empty"), ("这一项应当留空", "Leave this empty")),
    (re.compile(r"^is listed twice"), ("重复填写了，请删掉一项", "Listed twice; remove one")),
    (re.compile(r"^must be in the future"), ("时间必须晚于现在", "Pick a time later than now")),
    (re.compile(r"^must be true"), ("请先勾选同意", "Please tick the box to agree first")),
    (
        re.compile(r"^must be 12 to 19 digits"),
        ("银行卡号应为 12 到 19 位数字", "The card number has 12 to 19 digits"),
    ),
    (re.compile(r"^> 0$"), ("金额必须大于 0", "The amount must be more than 0")),
    (
        re.compile(r"^unknown (service|scope|data item|source)"),
        ("没有这个选项，请检查", "No such choice; check it"),
    ),
    (
        re.compile(r"^not a cursor"),
        ("翻页位置无效，请从第一页重新查看", "This page marker is not valid; start from the first page"),
    ),
    (
        re.compile(r"used with another body"),
        (
            "这个请求编号已用于别的请求，请换一个",
            "This request key was used for another request; use a new one",
        ),
    ),
    (
        re.compile(r"printable ASCII"),
        ("请求编号应为 1 到 255 个英文字符", "The request key must be 1 to 255 plain characters"),
    ),
    (
        re.compile(r"^(.+) \((.+)\) is missing$"),
        lambda m: (f"缺少{m.group(2)}，请补交", f"{m.group(1)} is missing; please hand it in"),
    ),
    # Our own reasons, one each (tests/test_reason_catalogue.py finds every literal one).
    (re.compile(r"^names the service or application"), ("这里要填事项或申请的编号", "Name the service or application")),
    (re.compile(r"^must differ from"), ("这两项不能相同，请核对", "These two must differ; check them")),
    (
        re.compile(r"^is not a household relation"),
        ("家庭关系不对，请按代码表填写", "Not a known household relation; use the code table"),
    ),
    (
        re.compile(r"^is not a withdrawal kind"),
        ("提取类型不对，请按代码表填写", "Not a known withdrawal kind; use the code table"),
    ),
    (
        re.compile(r"administrative division table|division code"),
        ("地区填写有误，请按行政区划代码表填写", "Not a known place; use the division code table"),
    ),
    (
        re.compile(r"^already holds account"),
        ("此人已有另一个公积金账户，请核对", "This person already has another fund account; check it"),
    ),
    (
        re.compile(r"^is already this account's phone number"),
        ("这已经是您的手机号，不用更换", "This is already your phone number; nothing to change"),
    ),
    (
        re.compile(r"^The request body is not valid JSON"),
        ("提交的内容无法读取，请重新提交", "The request body is not valid JSON; send it again"),
    ),
    (re.compile(r"^the body is empty"), ("没有收到文件，请重新上传", "No file arrived; upload it again")),
    (
        re.compile(r"^the file is larger than (.+)$"),
        lambda m: (f"文件超过 {m.group(1)}，请换一个小一些的", f"The file is over {m.group(1)}; use a smaller one"),
    ),
    (
        re.compile(r"^not a JPEG, PNG or PDF file"),
        ("只能上传 JPEG、PNG 或 PDF 文件，请换一个", "Only JPEG, PNG or PDF files; use another file"),
    ),
    (
        re.compile(r"^Content-Type says"),
        ("文件类型与声明的不一致，请重新上传", "The Content-Type does not match the file; upload it again"),
    ),
    (
        re.compile(r"^must be a JPEG or PNG image"),
        ("照片要是 JPEG 或 PNG 格式，请换一张", "The photo must be a JPEG or PNG; use another one"),
    ),
    (
        re.compile(r"too many pixels|pixels; at most"),
        ("图片像素太多，请换一张小一些的", "The image has too many pixels; use a smaller one"),
    ),
    (
        re.compile(r"^the image is damaged or not readable"),
        ("图片已损坏或无法读取，请重新上传", "The image is damaged or unreadable; upload it again"),
    ),
    (
        re.compile(r"^must be one of: (.*)$"),
        lambda m: (f"请从这些里选一个：{m.group(1)}", f"Use one of: {m.group(1)}"),
    ),
    (
        re.compile(r"^the current version is (.+)$"),
        lambda m: (f"请签署最新版本（{m.group(1)}）", f"Sign the current version ({m.group(1)})"),
    ),
    (
        re.compile(r"P-256|public key only"),
        ("设备公钥不对，请只发送 P-256 公钥（JWK）", "Send only an EC P-256 public key (JWK)"),
    ),
]

# Our own plain reasons that are safe to show in English as they are.
_PLAIN = re.compile(r"^[A-Za-z0-9 ,.;:()'\-/+\u4e00-\u9fff（）]+$")
_LIBRARY = re.compile(r"`|Expected|regex|Object |\$\.|\^|\\")


def lookup(reason: str, field: str = "") -> Pair | None:
    """The catalogue's (zh, en) sentences for `reason` at `field`, or None when it has none."""
    if reason in TITLES:
        return TITLES[reason]
    if "matching regex" in reason and "id_number" in field.rsplit(".", 1)[-1]:
        return _ID_SHAPE
    for pattern, make in _RULES:
        if found := pattern.search(reason):
            return make(found) if callable(make) else make
    return None


def translate(reason: str, field: str = "") -> Pair:
    """The (zh, en) sentences for one field-error reason at `field`."""
    if (found := lookup(reason, field)) is not None:
        return found
    log.debug("field reason not in the catalogue: %s", reason)
    if _PLAIN.match(reason) and not _LIBRARY.search(reason):
        return (GENERIC[0], reason[:1].upper() + reason[1:])
    return GENERIC
