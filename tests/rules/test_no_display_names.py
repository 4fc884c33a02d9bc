"""No rule that still decides reads a registry's display string; places are compared by division code."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import msgspec
import pytest
import yaml

from haoban.db.migrations import MigrationError
from haoban.rules.display_names import DISPLAY_NAMES, deciding, display_name_reads, expression_paths
from haoban.rules.registry import SETS_DIR, load_files
from haoban.rules.schemas import RuleSetDoc

TODAY = datetime.now(UTC).date()
RENT = SETS_DIR / "hpf_withdraw_rent_2026_2.yaml"


def _doc(**changes: object) -> RuleSetDoc:
    raw = yaml.safe_load(RENT.read_text(encoding="utf-8"))
    raw.update(changes)
    return msgspec.convert(raw, RuleSetDoc)


def _reading_city(version: str = "hpf.withdraw.rent@2099.1") -> RuleSetDoc:
    """The shipped rent rules, with the property rule back on the registry's city name."""
    doc = _doc(version=version)
    rules = [
        msgspec.structs.replace(r, expr="estate_properties.all(p, p.city != city)")
        if r.id == "no_property_in_city"
        else r
        for r in doc.rules
    ]
    return msgspec.structs.replace(doc, rules=rules)


def test_the_display_names_are_the_registry_strings() -> None:
    assert {"city", "district", "address", "name", "employer", "bank_name", "spouse_name"} <= DISPLAY_NAMES
    assert "city_code" not in DISPLAY_NAMES


def test_no_shipped_rule_set_that_still_decides_reads_a_display_name() -> None:
    docs = load_files(today=TODAY)
    live = deciding(docs, since=TODAY)
    assert {d.service_code for d in live} == {d.service_code for d in docs}
    assert {d.version: display_name_reads(d) for d in live} == {d.version: [] for d in live}


def test_the_checker_sees_the_old_versions_city_names() -> None:
    """The replay-only versions from before division codes are what the checker must catch."""
    docs = {d.version: d for d in load_files(today=TODAY)}
    assert display_name_reads(docs["hpf.withdraw.rent@2026.1"]) == ["no_property_in_city: estate.properties[].city"]
    assert "resident_in_city: household.city" in display_name_reads(docs["housing.public_rental.apply@2026.1"])
    assert docs["hpf.withdraw.rent@2026.1"] not in deciding(docs.values(), since=TODAY)


def test_a_rule_set_reading_p_city_is_reported() -> None:
    assert display_name_reads(_reading_city()) == ["no_property_in_city: estate.properties[].city"]


def test_a_rule_set_reading_p_city_is_refused_at_load(tmp_path: Path) -> None:
    doc = _reading_city()
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(msgspec.to_builtins(doc), allow_unicode=True), "utf-8")
    with pytest.raises(MigrationError, match=r"bad\.yaml.*estate\.properties\[\]\.city"):
        load_files(tmp_path, today=TODAY)


def test_a_version_already_superseded_or_ended_is_kept_for_replay(tmp_path: Path) -> None:
    old = _reading_city("hpf.withdraw.rent@2099.1")
    newer = _doc(version="hpf.withdraw.rent@2099.2")
    ended = msgspec.structs.replace(_reading_city("hpf.withdraw.rent@2099.3"), effective_to=date(2026, 6, 30))
    for doc in (old, newer, ended):
        name = doc.version.replace("@", "_").replace(".", "_") + ".yaml"
        (tmp_path / name).write_text(yaml.safe_dump(msgspec.to_builtins(doc), allow_unicode=True), "utf-8")
    assert len(load_files(tmp_path, today=TODAY)) == 3
    assert [d.version for d in deciding([old, newer, ended], since=TODAY)] == ["hpf.withdraw.rent@2099.2"]
    # the ended version decided in its own months, and is refused where those are still to come
    assert [d.version for d in deciding([old, newer, ended], since=date(2026, 3, 1))] == [
        "hpf.withdraw.rent@2099.2",
        "hpf.withdraw.rent@2099.3",
    ]
    with pytest.raises(MigrationError, match=r"2099_3\.yaml"):
        load_files(tmp_path, today=date(2026, 3, 1))


@pytest.mark.parametrize(
    ("expr", "facts", "path"),
    [
        ("household_city == city", ["household.city"], "household.city"),
        ('estate_properties.exists(p, p["city"] == "郑州")', ["estate.properties"], "estate.properties[].city"),
        ("estate_properties.all(p, p . address != '')", ["estate.properties"], "estate.properties[].address"),
        (
            "household_members.exists(m, m.relation_label == '配偶')",
            ["household.members"],
            "household.members[].relation_label",
        ),
        (
            "estate_properties.all(p, p.owners.all(o, o.name != ''))",
            ["estate.properties"],
            "estate.properties[].owners[].name",
        ),
        ("marriage_spouse.spouse_name != ''", ["marriage.spouse"], "marriage.spouse.spouse_name"),
        ("(housing_fund_withdrawals + haoban_withdrawals).all(w, w.kind_label != '')", [], "(...)[].kind_label"),
    ],
)
def test_every_kind_of_read_is_found(expr: str, facts: list[str], path: str) -> None:
    assert path in expression_paths(expr, facts)


def test_strings_method_calls_and_codes_are_not_reads() -> None:
    paths = expression_paths(
        'estate_properties.all(p, p.city_code != "p.city" && p.city_code.startsWith("41"))', ["estate.properties"]
    )
    assert paths == ["estate.properties", "estate.properties[].city_code"]
    assert not [p for p in paths if p.rsplit(".", 1)[-1] in DISPLAY_NAMES]
