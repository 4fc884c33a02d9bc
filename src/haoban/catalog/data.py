"""The services Haoban offers, as data. Materials say what sharing covers."""

from __future__ import annotations

from haoban.catalog.schemas import Material, Service

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
_HPF = ("hpf", "住房公积金管理中心")
_HPF_LAW = ("《住房公积金管理条例》第二十四条", "《郑州市住房公积金提取管理办法》")

SERVICES: tuple[Service, ...] = (
    Service(
        code="hpf.withdraw.rent",
        name_zh="无房租房提取住房公积金",
        name_en="Housing fund withdrawal for rent (no own property)",
        department=_HPF[0],
        department_name=_HPF[1],
        legal_basis=_HPF_LAW,
        materials=(
            _ID,
            _FUND,
            _PROPERTY,
            Material(
                code="rental_contract",
                name_zh="房屋租赁合同",
                name_en="Rental contract",
                kind="not_needed",
                how_to_supply="无房职工租房提取免交租赁合同 / not needed for tenants without property",
            ),
        ),
        decision_mode="instant",
        rule_set="hpf.withdraw.rent",
        sla_working_days=1,
        tolerant_acceptance=False,
        period="calendar_year",
        pays_out=True,
    ),
    Service(
        code="hpf.withdraw.retirement",
        name_zh="退休提取住房公积金",
        name_en="Housing fund withdrawal on retirement",
        department=_HPF[0],
        department_name=_HPF[1],
        legal_basis=_HPF_LAW,
        materials=(
            _ID,
            _FUND,
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
        decision_mode="instant",
        rule_set="hpf.withdraw.retirement",
        sla_working_days=1,
        tolerant_acceptance=False,
        period="once",
        pays_out=True,
    ),
    Service(
        code="hpf.withdraw.loan_repayment",
        name_zh="偿还本市自住住房贷款提取住房公积金",
        name_en="Housing fund withdrawal to repay an own-city home loan",
        department=_HPF[0],
        department_name=_HPF[1],
        legal_basis=_HPF_LAW,
        materials=(
            _ID,
            _FUND,
            Material(
                code="mortgage_record",
                name_zh="不动产抵押登记信息",
                name_en="Mortgage registration record",
                kind="shared",
                items=("estate.properties",),
                trust_level="A",
            ),
        ),
        decision_mode="instant",
        rule_set="hpf.withdraw.loan_repayment",
        sla_working_days=1,
        tolerant_acceptance=False,
        period="calendar_year",
        pays_out=True,
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
            Material(
                code="income_proof",
                name_zh="家庭收入证明",
                name_en="Household income statement",
                kind="applicant",
                primary=True,
                trust_level="C",
                how_to_supply="在 App 内上传 / upload in the app",
            ),
            Material(
                code="labor_contract",
                name_zh="劳动合同",
                name_en="Employment contract",
                kind="applicant",
                primary=False,
                trust_level="C",
                how_to_supply="在 App 内上传 / upload in the app",
            ),
            Material(
                code="residence_photo",
                name_zh="现住房情况照片",
                name_en="Photo of current housing",
                kind="applicant",
                primary=False,
                trust_level="C",
                how_to_supply="在 App 内上传 / upload in the app",
            ),
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
