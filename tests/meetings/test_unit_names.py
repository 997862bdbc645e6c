"""Unit names: full names and abbreviations, any spelling, to one canonical name."""

from __future__ import annotations

import unicodedata

import pytest

from portal.meetings.unit_names import canonical_unit, find_units


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("UBND Phường", "Ủy ban nhân dân phường"),
        ("UBND", "Ủy ban nhân dân"),
        ("Ủy ban nhân dân Phường", "Ủy ban nhân dân phường"),
        ("Uỷ ban nhân dân xã", "Ủy ban nhân dân xã"),
        ("ủy   ban  NHÂN dân  phường Dương Nội", "Ủy ban nhân dân phường Dương Nội"),
        ("UBND thị trấn", "Ủy ban nhân dân thị trấn"),
        ("UBND Quận", "Ủy ban nhân dân quận"),
        ("Uỷ ban MTTQ Việt Nam xã", "Ủy ban Mặt trận Tổ quốc Việt Nam xã"),
        ("Ủy ban MTTQ Phường", "Ủy ban Mặt trận Tổ quốc phường"),
        ("Ủy ban Mặt trận Tổ quốc Phường", "Ủy ban Mặt trận Tổ quốc phường"),
        ("UBMTTQ phường", "Ủy ban Mặt trận Tổ quốc phường"),
        ("MTTQ", "Ủy ban Mặt trận Tổ quốc"),
        ("Công an thị trấn", "Công an thị trấn"),
        ("Công an Phường", "Công an phường"),
        ("công an phường 5", "Công an phường 5"),
        ("VPĐU", "Văn phòng Đảng ủy"),
        ("Văn phòng Đảng uỷ", "Văn phòng Đảng ủy"),
        ("UBKT Đảng ủy", "Ủy ban Kiểm tra Đảng ủy"),
        ("Ủy ban Kiểm tra Đảng ủy", "Ủy ban Kiểm tra Đảng ủy"),
        ("HĐND phường", "Hội đồng nhân dân phường"),
        ("Thường trực HĐND", "Thường trực Hội đồng nhân dân"),
        ("TTr HĐND thị trấn", "Thường trực Hội đồng nhân dân thị trấn"),
        ("Văn phòng HĐND - UBND", "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân"),
        ("Văn phòng HĐND và UBND phường", "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân phường"),
        ("Hội LHPN", "Hội Liên hiệp Phụ nữ"),
        ("Hội Liên hiệp Phụ nữ xã", "Hội Liên hiệp Phụ nữ xã"),
        ("Công ty CP Tập đoàn Nam Hà Nội", "Công ty CP Tập đoàn Nam Hà Nội"),
        ("Công ty TNHH Môi trường Xanh", "Công ty TNHH Môi trường Xanh"),
        ("Thường trực Đảng ủy", "Thường trực Đảng ủy"),
        ("Đoàn TNCS Hồ Chí Minh phường", "Đoàn Thanh niên Cộng sản Hồ Chí Minh phường"),
        ("Phòng Kinh tế, Hạ tầng và Đô thị", "Phòng Kinh tế, Hạ tầng và Đô thị"),
        ("Ủy ban nhân dân TT Sao Vàng", "Ủy ban nhân dân thị trấn Sao Vàng"),
    ],
)
def test_canonical_unit(written, canonical):
    assert canonical_unit(written) == canonical
    assert canonical_unit(unicodedata.normalize("NFD", written)) == canonical
    assert unicodedata.is_normalized("NFC", canonical_unit(written))


@pytest.mark.parametrize(
    "text",
    ["Ban Chỉ đạo", "Đảng ủy TT Sao Vàng", "UBND phường tổ chức", "tình hình", "", "Hội nghị"],
)
def test_not_one_unit(text):
    assert canonical_unit(text) is None


def test_find_units_offsets_and_symbols():
    text = "Theo Thông báo số 106/TB-UBND, UBND Phường chủ trì, phối hợp Công an phường."
    found = find_units(text)
    assert found == [
        ("Ủy ban nhân dân phường", "UBND Phường", text.index("UBND Phường")),
        ("Công an phường", "Công an phường", text.index("Công an")),
    ]
    for _canonical, written, start in found:
        assert text[start : start + len(written)] == written


def test_find_units_in_nfd_text_gives_nfc_offsets():
    text = unicodedata.normalize("NFD", "Giao Uỷ ban MTTQ phường kiểm tra.")
    ((canonical, written, start),) = find_units(text)
    assert canonical == "Ủy ban Mặt trận Tổ quốc phường"
    assert written == "Uỷ ban MTTQ phường"
    assert unicodedata.normalize("NFC", text)[start:].startswith(written)


def test_xa_hoi_is_not_a_level():
    assert find_units("MTTQ và các tổ chức chính trị - xã hội") == [
        ("Ủy ban Mặt trận Tổ quốc", "MTTQ", 0)
    ]
    assert find_units("Công an tình hình") == [("Công an", "Công an", 0)]
