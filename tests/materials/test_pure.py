"""Working days, file sniffing and requirements: pure, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from haoban.catalog.data import BY_CODE
from haoban.materials import files, letters, requirements, workdays
from tests.staff.factories import jpeg, png

FRIDAY = date(2026, 11, 27)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (FRIDAY, 0, FRIDAY),
        (FRIDAY, 1, date(2026, 11, 30)),  # Monday
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # Saturday -> Monday
        (FRIDAY, 5, date(2026, 12, 4)),
        (FRIDAY, 10, date(2026, 12, 11)),
        (date(2026, 11, 30), 10, date(2026, 12, 14)),
    ],
)
def test_working_days_skip_weekends(start: date, days: int, expected: date) -> None:
    assert workdays.add_working_days(start, days) == expected


def test_deadlines_are_whole_days_in_china_time() -> None:
    # 23:30 UTC on Friday is already Saturday in Beijing.
    assert workdays.local_day(datetime(2026, 11, 27, 23, 30, tzinfo=UTC)) == date(2026, 11, 28)
    assert workdays.end_of_day(date(2026, 12, 11)) == datetime(2026, 12, 11, 16, 0, tzinfo=UTC)


def test_the_supplement_deadline_is_within_the_service_sla() -> None:
    svc = BY_CODE["housing.public_rental.apply"]
    days = requirements.supplement_days(svc)
    assert 1 <= days <= svc.sla_working_days


def test_public_rental_splits_primary_and_secondary_uploads() -> None:
    svc = BY_CODE["housing.public_rental.apply"]
    primary, secondary = requirements.missing(svc, set())
    assert [m.code for m in primary] == ["income_proof"]
    assert [m.code for m in secondary] == ["labor_contract", "residence_photo"]
    assert all(m.trust_level == "C" for m in (*primary, *secondary))
    assert requirements.missing(svc, {"income_proof", "labor_contract", "residence_photo"}) == ([], [])
    assert not requirements.takes_materials(BY_CODE["hpf.withdraw.rent"])


@pytest.mark.parametrize(
    ("content", "declared", "expected"),
    [
        (jpeg(), "image/jpeg", "image/jpeg"),
        (png(), "image/png", "image/png"),
        (png(), None, "image/png"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf", "application/pdf"),
    ],
)
def test_accepted_files(content: bytes, declared: str | None, expected: str) -> None:
    assert files.problem(content, declared) == (expected, None)


@pytest.mark.parametrize(
    ("content", "declared", "why"),
    [
        (b"", "image/jpeg", "empty"),
        (b"GIF89a" + b"\x00" * 20, "image/gif", "not a JPEG"),
        (b"<html><script>alert(1)</script>", "image/jpeg", "not a JPEG"),
        (png(), "image/jpeg", "Content-Type says image/jpeg"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "image/jpeg", "damaged"),
        (b"\xff" * (files.MAX_BYTES + 1), "image/jpeg", "larger"),
    ],
)
def test_refused_files(content: bytes, declared: str | None, why: str) -> None:
    content_type, reason = files.problem(content, declared)
    assert content_type is None
    assert reason is not None
    assert why in reason


def test_the_notice_names_every_item_and_the_deadline() -> None:
    svc = BY_CODE["housing.public_rental.apply"]
    _primary, secondary = requirements.missing(svc, {"income_proof"})
    zh, en = letters.notice_texts(svc, secondary, date(2026, 12, 11))
    for m in secondary:
        assert m.name_zh in zh
        assert m.name_en in en
    assert "2026-12-11" in zh
    assert "2026-12-11" in en
    assert "materials_deadline_missed" not in en  # what happens, in words, never the code
    assert "refused" in en
    assert "不予通过" in zh


def test_letter_hashes_cover_the_version_and_both_texts() -> None:
    assert letters.sha256("authorization") != letters.sha256("tolerant")
    assert len(letters.sha256("authorization")) == 64
