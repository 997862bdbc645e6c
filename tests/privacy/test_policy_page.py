"""/quyen-rieng-tu: the privacy notice in plain Vietnamese, reachable from every page and
from the forms that collect personal data."""

from __future__ import annotations

from html import unescape

import pytest

from tests import factories


@pytest.fixture
def app_config():
    return {
        "PRIVACY_CONTACT_NAME": "Văn phòng HĐND và UBND Phường Dương Nội",
        "PRIVACY_CONTACT_EMAIL": "vanphong@duongnoi.example.vn",
        "PRIVACY_CONTACT_PHONE": "024 3355 1234",
        "PRIVACY_CONTACT_ADDRESS": "Số 1 đường Tố Hữu, Dương Nội",
    }


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def test_the_notice_says_what_why_who_how_long_and_how(client, world):
    response = client.get("/quyen-rieng-tu")
    assert response.status_code == 200
    body = text(response)
    for words in (
        "Cổng lưu những gì",
        "họ và tên, số điện thoại, thư điện tử, địa chỉ liên hệ",
        "Để làm gì",
        "Ai được xem",
        "Đơn vị được giao xử lý",
        "Lưu trong bao lâu",
        "thêm 2 năm (730 ngày) kể từ khi kiến nghị kết thúc",
        "Tải dữ liệu của tôi",
        "Sửa thông tin liên hệ",
        "Nghị định số 13/2023/NĐ-CP",
        "Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15",
        "ghi vào nhật ký",
        "tile.openstreetmap.org",
    ):
        assert words in body, words
    assert "lorem" not in body.lower()


def test_the_contact_comes_from_the_configuration(client, world):
    body = text(client.get("/quyen-rieng-tu"))
    assert "Văn phòng HĐND và UBND Phường Dương Nội" in body
    assert 'href="mailto:vanphong@duongnoi.example.vn"' in body
    assert 'href="tel:02433551234"' in body
    assert "Số 1 đường Tố Hữu, Dương Nội" in body


@pytest.mark.parametrize("app_config", [{"PERSONAL_DATA_RETENTION_DAYS": 400}])
def test_without_a_configured_contact_the_ward_is_named(client, world):
    body = text(client.get("/quyen-rieng-tu"))
    assert "Ủy ban nhân dân Phường Dương Nội" in body
    assert "bộ phận tiếp nhận" in body
    assert "thêm 400 ngày (400 ngày)" in body


@pytest.mark.parametrize(
    "app_config", [{"GEOCODER": "nominatim", "MAP_TILE_URL": "", "GEOCODER_URL": ""}]
)
def test_the_notice_follows_the_map_and_geocoder_settings(client, world):
    body = text(client.get("/quyen-rieng-tu"))
    assert "Bản đồ nền được tải từ" not in body
    assert "dịch vụ tìm địa chỉ" in body


def test_every_page_links_to_the_notice_in_its_footer(client, world):
    for path in ("/", "/kien-nghi", "/tra-cuu"):
        assert 'href="/quyen-rieng-tu" id="privacy-link"' in text(client.get(path)), path


def test_the_forms_that_collect_personal_data_link_to_it(client, world):
    filing = text(client.get("/kien-nghi/moi"))
    consent = filing.index('name="show_name_publicly"')
    note = filing.index('id="privacy-note"')
    assert consent < note < filing.index('href="/quyen-rieng-tu"', note)
    assert "được tự động xóa 2 năm sau khi kiến nghị kết thúc" in filing

    petition = factories.file(world)
    public = text(client.get(f"/kien-nghi/{petition.code}"))
    cosign = public[public.index('id="cosign-box"') :]
    assert 'href="/quyen-rieng-tu"' in cosign[: cosign.index("</section>")]
    follow = text(client.get("/theo-doi"))
    assert 'href="/quyen-rieng-tu">Chính sách quyền riêng tư' in follow
