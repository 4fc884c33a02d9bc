"""Each service's declaration agrees with its rule sets and with the sources, and a broken one is caught."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from haoban.applications.service import INPUTS
from haoban.exchange.sources.items import ITEMS
from haoban.exchange.sources.records import HouseholdRecord, HousingFundRecord, IdentityRecord, SocialSecurityRecord
from haoban.rules import declarations
from haoban.rules.declarations import DeclarationError, Declarations, InputDecl, ServiceDecl, check
from haoban.rules.explain import TEXTS
from haoban.rules.registry import load_files
from haoban.rules.schemas import RuleSetDoc
from tests.rules.factories import TODAY

DECLS = declarations.load()
DOCS = load_files()


def problems(decls: Declarations = DECLS, docs: list[RuleSetDoc] = DOCS, on: date = TODAY) -> list[str]:
    return check(decls, docs, on=on, reasons=TEXTS)


def changed(code: str, **changes: Any) -> Declarations:
    """The shipped declarations with one service changed (no validation: the check must catch it)."""
    return msgspec.structs.replace(
        DECLS,
        services=tuple(msgspec.structs.replace(s, **changes) if s.code == code else s for s in DECLS.services),
    )


def with_rule(code: str, fact: str, reason: str = "account_sealed") -> list[RuleSetDoc]:
    """The shipped rule sets, with one more rule reading `fact` in every version of `code`."""
    out = []
    for doc in DOCS:
        extra = msgspec.structs.replace(doc.rules[0], id="extra", facts=[fact], reason=reason)
        out.append(msgspec.structs.replace(doc, rules=[*doc.rules, extra]) if doc.service_code == code else doc)
    return out


def test_every_shipped_declaration_agrees_with_its_rule_sets_and_the_sources() -> None:
    assert problems() == []
    assert problems(on=datetime.now(UTC).date()) == []
    assert {s.code for s in DECLS.services} == {d.service_code for d in DOCS}


def test_declared_items_are_items_of_the_sources_typed_records() -> None:
    """The exchange's item table names what the typed records carry (plus the few it derives)."""
    derived = {"household.city_code", "social_security.city_code", "estate.spouse_properties", "marriage.spouse"}
    records: dict[str, type[msgspec.Struct]] = {
        "identity": IdentityRecord,
        "household": HouseholdRecord,
        "housing_fund": HousingFundRecord,
        "social_security": SocialSecurityRecord,
    }
    for s in DECLS.services:
        for source, items in s.reads.items():
            for item in items:
                assert item in ITEMS[source], (s.code, source, item)
                if source in records and f"{source}.{item}" not in derived:
                    assert item in records[source].__struct_fields__, (s.code, source, item)


def test_an_unknown_source_is_a_mismatch() -> None:
    broken = changed("hpf.withdraw.rent", reads={**DECLS.services[0].reads, "tax": ()})
    assert any("unknown source 'tax'" in p for p in problems(broken))


def test_an_unknown_item_is_a_mismatch() -> None:
    rent = next(s for s in DECLS.services if s.code == "hpf.withdraw.rent")
    broken = changed("hpf.withdraw.rent", reads={**rent.reads, "housing_fund": ("status", "salary_fen")})
    assert any("housing_fund has no item 'salary_fen'" in p for p in problems(broken))


def test_a_rule_reading_an_undeclared_fact_is_a_mismatch() -> None:
    found = problems(docs=with_rule("hpf.withdraw.retirement", "estate.properties"))
    assert any("reads estate.properties, which hpf.withdraw.retirement does not declare" in p for p in found)


def test_a_rule_reading_an_input_that_is_not_declared_is_a_mismatch() -> None:
    broken = changed("housing.public_rental.apply", inputs=())
    found = problems(broken)
    assert any("reads applicant.household_size, which housing.public_rental.apply does not declare" in p for p in found)
    assert any("applicant.monthly_income_fen" in p for p in found)


def test_a_declared_item_no_rule_reads_is_a_mismatch() -> None:
    retirement = next(s for s in DECLS.services if s.code == "hpf.withdraw.retirement")
    broken = changed("hpf.withdraw.retirement", reads={**retirement.reads, "housing_fund": ("status", "employer")})
    assert "hpf.withdraw.retirement: declares housing_fund.employer, which no rule set reads" in problems(broken)


def test_an_instant_service_without_a_rule_set_in_effect_is_a_mismatch() -> None:
    assert "hpf.withdraw.rent: no rule set is in effect on 2024-06-01" in problems(on=date(2024, 6, 1))
    orphan = changed("hpf.withdraw.rent", rule_set="hpf.withdraw.nothing")
    found = problems(orphan)
    assert "hpf.withdraw.rent: no rule set is in effect on 2026-11-28" in found
    assert "rule set hpf.withdraw.rent belongs to no declared service" in found


def test_a_reason_without_a_sentence_is_a_mismatch() -> None:
    found = problems(docs=with_rule("hpf.withdraw.rent", "housing_fund.status", reason="no_such_reason"))
    assert any("reason 'no_such_reason' has no sentence" in p for p in found)


def test_payouts_name_a_withdrawal_kind_of_the_fund_centres_table() -> None:
    assert any("names its withdrawal kind" in p for p in problems(changed("hpf.withdraw.rent", withdrawal_kind=None)))
    found = problems(changed("hpf.withdraw.rent", withdrawal_kind="holiday"))
    assert any("'holiday' is not a withdrawal kind" in p for p in found)


def test_the_household_rule_needs_the_estate_and_marriage_registries() -> None:
    broken = changed("hpf.withdraw.retirement", household_rule=True)
    assert "hpf.withdraw.retirement: the household rule reads the estate and marriage registries" in problems(broken)


def test_an_unknown_material_or_material_item_is_a_mismatch() -> None:
    rent = next(s for s in DECLS.services if s.code == "hpf.withdraw.rent")
    found = problems(changed("hpf.withdraw.rent", materials=(*rent.materials, "no_such_material")))
    assert any("material 'no_such_material'" in p for p in found)
    odd = msgspec.structs.replace(DECLS.materials["id_card"], items=("identity.salary",))
    found = problems(msgspec.structs.replace(DECLS, materials={**DECLS.materials, "id_card": odd}))
    assert any("unknown item 'identity.salary'" in p for p in found)


def test_a_declaration_file_with_a_wrong_type_or_key_is_refused_by_name(tmp_path: Path) -> None:
    shutil.copytree(declarations.SERVICES_DIR, tmp_path / "services")
    assert declarations.read_dir(tmp_path / "services").services
    path = tmp_path / "services" / "hpf_withdraw_rent.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  estate: [properties", "  tax: [properties"), encoding="utf-8")
    with pytest.raises(DeclarationError, match=r"hpf_withdraw_rent\.yaml.*reads"):
        declarations.read_dir(tmp_path / "services")
    path.write_text(text + "colour: blue\n", encoding="utf-8")
    with pytest.raises(DeclarationError, match="colour"):
        declarations.read_dir(tmp_path / "services")
    path.write_text(text.replace("  - fund_account\n", "  - fund_acount\n"), encoding="utf-8")
    with pytest.raises(DeclarationError, match="fund_acount"):
        declarations.read_dir(tmp_path / "services")


def test_the_input_struct_from_a_declaration_names_the_field_as_before() -> None:
    rental = INPUTS["housing.public_rental.apply"]
    cases = [
        ({}, "Object missing required field `household_size`"),
        ({"household_size": 0, "monthly_income_fen": 1}, "Expected `int` >= 1 - at `$.household_size`"),
        (
            {"household_size": 1, "monthly_income_fen": 10**13},
            "Expected `int` <= 1000000000000 - at `$.monthly_income_fen`",
        ),
        ({"household_size": "3", "monthly_income_fen": 1}, "Expected `int`, got `str` - at `$.household_size`"),
        ({"household_size": 1, "monthly_income_fen": 1, "x": 1}, "Object contains unknown field `x`"),
    ]
    for raw, message in cases:
        with pytest.raises(msgspec.ValidationError) as caught:
            msgspec.convert(raw, rental)
        assert str(caught.value) == message
    with pytest.raises(msgspec.ValidationError, match="unknown field `amount_fen`"):
        msgspec.convert({"amount_fen": 1}, INPUTS["hpf.withdraw.rent"])


def test_optional_and_string_inputs_are_built_from_their_bounds() -> None:
    svc = ServiceDecl(
        code="x.demo",
        name_zh="示例",
        name_en="Demo",
        department="demo",
        department_name="示例",
        legal_basis=(),
        decision_mode="manual",
        sla_working_days=1,
        period="open",
        reads={},
        materials=(),
        inputs=(
            InputDecl(name="note", type="string", required=False, max_length=3),
            InputDecl(name="agreed", type="boolean"),
        ),
    )
    kind = declarations.input_struct(svc)
    assert msgspec.to_builtins(msgspec.convert({"agreed": True}, kind)) == {"agreed": True, "note": None}
    with pytest.raises(msgspec.ValidationError, match=r"length <= 3 - at `\$.note`"):
        msgspec.convert({"agreed": True, "note": "long"}, kind)
