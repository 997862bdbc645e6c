"""A resident files, looks up and follows a petition over HTTP, without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.petitions import services
from portal.petitions.models import Petition, PetitionEvent
from tests import factories


def count(model=Petition):
    return db.session.scalar(select(func.count()).select_from(model))


def form_data(world, **overrides):
    data = {
        "category_id": world.categories["ve-sinh-moi-truong"].id,
        "title": "Điểm rác tự phát đầu ngõ 12 phố Văn Khê",
        "description": "Rác thải sinh hoạt đổ thành đống, bốc mùi.",
        "latitude": factories.INSIDE_WEST[0],
        "longitude": factories.INSIDE_WEST[1],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_form_offers_categories_and_residential_groups(client, world):
    body = client.get("/kien-nghi/moi").get_data(as_text=True)
    assert "Vệ sinh môi trường" in body
    assert "Tổ dân phố La Dương" in body
    assert 'name="website"' in body  # honeypot present


def test_file_with_pin_gets_code_and_private_link(client, world):
    response = client.post(
        "/kien-nghi/moi", data=form_data(world, petitioner_phone="+84 912 345 678")
    )
    assert response.status_code == 303
    assert re.search(r"/cua-toi/[\w-]{32,}\?moi=1$", response.headers["Location"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    petition = db.session.scalar(select(Petition))
    assert petition.code in page
    assert petition.private_token in page
    assert petition.area == world.west
    assert petition.petitioner_phone == "0912345678"
    assert "Đã tiếp nhận kiến nghị của bạn" in page


def test_file_without_javascript_with_residential_group(client, world):
    response = client.post(
        "/kien-nghi/moi",
        data=form_data(
            world, latitude="", longitude="", area_id=world.east.id, address_text="Ngõ 5"
        ),
    )
    assert response.status_code == 303
    petition = db.session.scalar(select(Petition))
    assert petition.area == world.east and petition.latitude is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": "", "description": ""}, "Hãy nhập tiêu đề"),
        ({"title": "ab"}, "Cần từ 5 đến 200 ký tự"),
        ({"category_id": ""}, "Hãy chọn lĩnh vực"),
        ({"category_id": "abc"}, "Lựa chọn không hợp lệ"),
        ({"category_id": "99999"}, "Lựa chọn không hợp lệ"),
        ({"petitioner_phone": "12345"}, "Số điện thoại không hợp lệ"),
        ({"petitioner_email": "khong-phai-email"}, "thư điện tử không hợp lệ"),
        ({"latitude": "abc"}, "Tọa độ không hợp lệ"),
        ({"latitude": "", "longitude": ""}, "Hãy chọn vị trí trên bản đồ hoặc chọn tổ dân phố"),
        ({"latitude": factories.OUTSIDE[0], "longitude": factories.OUTSIDE[1]}, "ngoài địa bàn"),
        ({"area_id": "42424"}, "Lựa chọn không hợp lệ"),
    ],
)
def test_bad_input_is_422_with_vietnamese_message_and_nothing_saved(
    client, world, overrides, message
):
    response = client.post("/kien-nghi/moi", data=form_data(world, **overrides))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert count() == 0 and count(PetitionEvent) == 0
    # What the resident typed is still there.
    if overrides.get("title") != "":
        assert "Rác thải sinh hoạt đổ thành đống" in body


def test_honeypot_saves_nothing(client, world):
    response = client.post("/kien-nghi/moi", data=form_data(world, website="http://spam"))
    assert response.status_code == 400
    assert count() == 0


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "PETITION_RATE_LIMIT": "2 per hour"}], indirect=True
)
def test_submissions_are_limited_per_ip(client, world):
    for _ in range(2):
        assert client.post("/kien-nghi/moi", data=form_data(world)).status_code == 303
    response = client.post("/kien-nghi/moi", data=form_data(world))
    assert response.status_code == 429
    assert "Quá nhiều yêu cầu" in response.get_data(as_text=True)
    assert count() == 2


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}], indirect=True)
def test_csrf_is_required(client, world):
    response = client.post("/kien-nghi/moi", data=form_data(world))
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)
    assert count() == 0
    page = client.get("/kien-nghi/moi").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/kien-nghi/moi", data=form_data(world, csrf_token=token))
    assert response.status_code == 303


def test_inline_validation_of_one_field(client, world):
    headers = {"HX-Request": "true", "HX-Trigger-Name": "title", "HX-Target": "title-field"}
    bad = client.post("/kien-nghi/moi/kiem-tra", data={"title": "ab"}, headers=headers)
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert "Cần từ 5 đến 200 ký tự" in html and "<html" not in html
    assert "Hãy chọn lĩnh vực" not in html  # only the field being edited
    good = client.post("/kien-nghi/moi/kiem-tra", data={"title": "Đèn đường hỏng"}, headers=headers)
    assert good.status_code == 200 and "field-errors" not in good.get_data(as_text=True)


def test_lookup_tolerates_case_and_spaces(client, world):
    petition = factories.file(world)
    number = int(petition.code[-5:])
    response = client.get(f"/tra-cuu?ma= {petition.code.lower().replace('-', ' ')} ")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/kien-nghi/{petition.code}")
    assert client.get(f"/tra-cuu?ma=kn-{petition.code[3:7]}-{number}").status_code == 303


def test_lookup_unknown_code_is_friendly_404(client, world):
    response = client.get("/tra-cuu?ma=KN-2020-99999")
    assert response.status_code == 404
    assert "Không tìm thấy kiến nghị có mã" in response.get_data(as_text=True)
    assert client.get("/tra-cuu?ma=").status_code == 422
    assert client.get("/kien-nghi/KN-2020-99999").status_code == 404


def test_non_canonical_code_in_url_redirects(client, world):
    petition = factories.file(world)
    response = client.get(f"/kien-nghi/{petition.code.lower()}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(petition.code)


def test_public_page_shows_status_timeline_and_dates(client, world):
    petition = factories.assign(world, factories.file(world), responsible_person="Đ/c Phạm Thị Lan")
    body = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "đã giao xử lý" in body
    assert "Phòng Kinh tế, Hạ tầng và Đô thị" in body
    assert "Đ/c Phạm Thị Lan" in body
    assert re.search(r"\d{2}/\d{2}/\d{4}", body)


def test_public_page_shows_the_deadline_its_overdue_badge_means(client, world):
    """While only received, the first reply's deadline is what counts (and what the
    "overdue" badge is about): the page says it, beside the time limit to resolve."""
    from datetime import datetime, timedelta

    from portal.timeutil import frozen_clock

    with frozen_clock(datetime.now() - timedelta(days=20)):
        petition = factories.file(world)
    body = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "quá hạn" in body
    reply = petition.reply_due_on.strftime("%d/%m/%Y")
    assert re.search(rf"Hạn xem xét, phản hồi</dt><dd>{reply}</dd>", body), body
    assert petition.resolve_due_on.strftime("%d/%m/%Y") in body
    # Once reviewed, the first reply is behind: only the time limit to resolve is shown.
    services.review(petition, world.users["ward_staff"])
    db.session.commit()
    body = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Hạn xem xét, phản hồi" not in body


def test_private_page_add_information(client, world):
    petition = factories.file(world)
    url = f"/cua-toi/{petition.private_token}"
    assert client.get(url).status_code == 200
    assert client.get(url).headers["Referrer-Policy"] == "no-referrer"
    empty = client.post(url, data={"text": "  "})
    assert empty.status_code == 422
    assert "Hãy nhập nội dung bổ sung" in empty.get_data(as_text=True)
    ok = client.post(url, data={"text": "Rác lại bị đổ thêm tối qua"})
    assert ok.status_code == 303
    assert "Rác lại bị đổ thêm tối qua" in client.get(f"/kien-nghi/{petition.code}").get_data(
        as_text=True
    )
    assert client.get("/cua-toi/sai-ma-bi-mat").status_code == 404


def test_search_ignores_diacritics_and_case(client, world):
    factories.file(world, title="Rác thải ùn ứ trên đường Lê Quang Đạo")
    factories.file(world, title="Đèn chiếu sáng hỏng", description="Ngõ tối om từ 3 hôm nay")
    for query in ("rac thai", "RÁC THẢI", "duong", "le quang dao"):
        body = client.get("/kien-nghi", query_string={"q": query}).get_data(as_text=True)
        assert "Rác thải ùn ứ" in body, query
        assert "Đèn chiếu sáng hỏng" not in body, query
    body = client.get("/kien-nghi", query_string={"q": "den chieu sang"}).get_data(as_text=True)
    assert "Đèn chiếu sáng hỏng" in body and "Rác thải ùn ứ" not in body


def test_list_filters_and_paging(app, client, world):
    app.config["PAGE_SIZE"] = 2
    for i in range(3):
        factories.file(world, title=f"Rác thải số {i}")
    drain = factories.file(
        world,
        title="Cống tắc",
        category=world.categories["thoat-nuoc"],
        point=factories.INSIDE_EAST,
    )
    factories.assign(world, drain)
    body = client.get(
        "/kien-nghi", query_string={"category": world.categories["thoat-nuoc"].id}
    ).get_data(as_text=True)
    assert "Cống tắc" in body and "Rác thải số" not in body
    body = client.get("/kien-nghi", query_string={"status": "assigned"}).get_data(as_text=True)
    assert "Cống tắc" in body and "Rác thải số" not in body
    body = client.get("/kien-nghi", query_string={"area": world.east.id}).get_data(as_text=True)
    assert "Cống tắc" in body and "Rác thải số" not in body
    first = client.get("/kien-nghi").get_data(as_text=True)
    assert "Trang 1 / 2" in first
    second = client.get("/kien-nghi?page=2").get_data(as_text=True)
    assert "Trang 2 / 2" in second
    # Nonsense filters are ignored, not a 500.
    assert client.get("/kien-nghi?status=bogus&category=x&page=-4&sort=evil").status_code == 200


def test_list_answers_htmx_with_fragment(client, world):
    factories.file(world)
    full = client.get("/kien-nghi")
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]
    part = client.get("/kien-nghi", headers={"HX-Request": "true", "HX-Target": "results"})
    html = part.get_data(as_text=True)
    assert "<html" not in html and "Điểm rác tự phát" in html
    assert "HX-Request" in part.headers["Vary"]
    other = client.get("/kien-nghi", headers={"HX-Request": "true", "HX-Target": "somewhere"})
    assert "<html" in other.get_data(as_text=True)
