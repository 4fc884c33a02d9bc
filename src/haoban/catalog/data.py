"""The services Haoban offers, as data. Materials say what sharing covers."""

from __future__ import annotations

from haoban.catalog.schemas import Material, PeriodKind, Service

_ID = Material(
    code="id_card",
    name_zh="居民身份证",
    name_en="Resident ID card",
    kind="shared",
    items=("identity.name", "identity.sex", "identity.birth_date", "identity.status"),
    trust_level="A",
)
_FUND = Material(
    code="fund_account",
    name_zh="住房公积金账户信息",
    name_en="Housing fund account",
    kind="shared",
    items=("housing_fund.*",),
    trust_level="A",
)
_PROPERTY = Material(
    code="property_record",
    name_zh="不动产登记信息（无房证明）",
    name_en="Real-estate registration record (proof of no property)",
    kind="shared",
    items=("estate.properties",),
    trust_level="A",
)


def _withdrawal(code: str, name_zh: str, name_en: str, materials: tuple[Material, ...], period: PeriodKind) -> Service:
    """A housing-fund withdrawal: decided at once by its rule set (same code) and paid to the member's card."""
    return Service(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        department="hpf",
        department_name="住房公积金管理中心",
        legal_basis=("《住房公积金管理条例》第二十四条", "《郑州市住房公积金提取管理办法》"),
        materials=(_ID, _FUND, *materials),
        decision_mode="instant",
        rule_set=code,
        sla_working_days=1,
        tolerant_acceptance=False,
        period=period,
        pays_out=True,
    )


def _upload(code: str, name_zh: str, name_en: str, *, primary: bool) -> Material:
    """A self-certified upload (trust level C)."""
    return Material(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        kind="applicant",
        primary=primary,
        trust_level="C",
        how_to_supply="在 App 内上传 / upload in the app",
    )


SERVICES: tuple[Service, ...] = (
    _withdrawal(
        "hpf.withdraw.rent",
        "无房租房提取住房公积金",
        "Housing fund withdrawal for rent (no own property)",
        (
            _PROPERTY,
            Material(
                code="rental_contract",
                name_zh="房屋租赁合同",
                name_en="Rental contract",
                kind="not_needed",
                how_to_supply="无房职工租房提取免交租赁合同 / not needed for tenants without property",
            ),
        ),
        "calendar_year",
    ),
    _withdrawal(
        "hpf.withdraw.retirement",
        "退休提取住房公积金",
        "Housing fund withdrawal on retirement",
        (
            Material(
                code="retirement_certificate",
                name_zh="退休证",
                name_en="Retirement certificate",
                kind="not_needed",
                how_to_supply=(
                    "按身份证登记的出生日期认定法定退休年龄 / statutory age is read from the identity registry"
                ),
            ),
        ),
        "once",
    ),
    _withdrawal(
        "hpf.withdraw.loan_repayment",
        "偿还本市自住住房贷款提取住房公积金",
        "Housing fund withdrawal to repay an own-city home loan",
        (
            Material(
                code="mortgage_record",
                name_zh="不动产抵押登记信息",
                name_en="Mortgage registration record",
                kind="shared",
                items=("estate.properties",),
                trust_level="A",
            ),
        ),
        "calendar_year",
    ),
    Service(
        code="housing.public_rental.apply",
        name_zh="公共租赁住房申请",
        name_en="Public rental housing application",
        department="housing_security",
        department_name="住房保障局",
        legal_basis=("《公共租赁住房管理办法》（住房和城乡建设部令第11号）", "《郑州市公共租赁住房管理办法》"),
        materials=(
            _ID,
            Material(
                code="household_record",
                name_zh="户籍信息",
                name_en="Household registration",
                kind="shared",
                items=("household.city", "household.members"),
                trust_level="A",
            ),
            Material(
                code="social_security_record",
                name_zh="社保缴纳信息",
                name_en="Social security contributions",
                kind="shared",
                items=("social_security.*",),
                trust_level="A",
            ),
            _PROPERTY,
            Material(
                code="commitment_letter",
                name_zh="授权及承诺书",
                name_en="Authorization and commitment letter",
                kind="applicant",
                primary=True,
                trust_level="D",
                how_to_supply="在 App 内签署 / sign in the app",
            ),
            _upload("income_proof", "家庭收入证明", "Household income statement", primary=True),
            _upload("labor_contract", "劳动合同", "Employment contract", primary=False),
            _upload("residence_photo", "现住房情况照片", "Photo of current housing", primary=False),
        ),
        decision_mode="manual",
        rule_set="housing.public_rental.apply",
        sla_working_days=20,
        tolerant_acceptance=True,
        period="open",
        pays_out=False,
    ),
)

BY_CODE = {s.code: s for s in SERVICES}
