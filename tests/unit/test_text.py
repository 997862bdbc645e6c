import unicodedata

import pytest

from portal.text import fold, normalize, search_terms


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Uỷ ban nhân dân", "Ủy ban nhân dân"),
        ("hoà bình", "hòa bình"),
        ("Khoẻ", "Khỏe"),
        ("  Ủy   ban\tMTTQ ", "Ủy ban MTTQ"),
        (unicodedata.normalize("NFD", "Ủy ban Phường"), "Ủy ban Phường"),
    ],
)
def test_normalize_unifies_spelling(a, b):
    assert normalize(a) == normalize(b)


def test_normalize_leaves_other_syllables_alone():
    assert normalize("Hoàng Quyết Thuý") == "Hoàng Quyết Thúy"
    assert normalize("quý") == "quý"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Rác thải", "rac thai"),
        ("ĐƯỜNG Lê Quang Đạo", "duong le quang dao"),
        (unicodedata.normalize("NFD", "đường"), "duong"),
        ("Nhà văn hoá", "nha van hoa"),
    ],
)
def test_fold(text, key):
    assert fold(text) == key


def test_search_terms():
    assert search_terms("  Rác  THẢI ") == ["rac", "thai"]
    assert search_terms(None) == []
