"""GB/T 2260 division codes from the names registries write (pure)."""

from __future__ import annotations

import pytest

from haoban.places import divisions


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("郑州", "410100"),
        ("郑州市", "410100"),
        ("金水区", "410105"),
        ("中牟县", "410122"),
        ("河南省郑州市金水区花园路 66 号", "410105"),
        ("河南 郑州 金水区", "410105"),
        ("中国河南省开封市", "410200"),
        ("北京市朝阳区", "110105"),
        ("吉林省吉林市", "220200"),
        ("410105", "410105"),
    ],
)
def test_names_resolve_to_their_division(text: str, code: str) -> None:
    found = divisions.resolve(text)
    assert found is not None
    assert found.code == code


@pytest.mark.parametrize("text", ["郑东新区 8 号", "朝阳区", "金水路 1 号", "999999", "", "火星"])
def test_text_that_names_no_single_division_does_not_resolve(text: str) -> None:
    assert divisions.resolve(text) is None


def test_in_the_city_is_the_same_first_four_digits() -> None:
    assert divisions.same_city("410100", "410105")
    assert divisions.same_city("410122", "410105")
    assert not divisions.same_city("410200", "410105")
    assert not divisions.same_city("410000", "410105")  # a province is not a city
    zhengzhou = divisions.resolve("郑州市")
    chaoyang = divisions.resolve("北京市朝阳区")
    assert zhengzhou is not None
    assert chaoyang is not None
    assert zhengzhou.city_code == "410100"
    assert chaoyang.city_code == "110100"  # a municipality's districts are one city
    assert divisions.city_name(divisions.by_code("410105")) == "郑州市"  # type: ignore[arg-type]
