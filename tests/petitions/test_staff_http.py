"""Staff over HTTP: login, inbox, actions, and who may do what."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.petitions.models import Petition, Status
from tests import factories

ROLES = ["ward_staff", "unit_staff", "other_unit_staff", "mttq", "admin"]


def reload(petition):
    db.session.expire_all()
    return db.session.scalar(select(Petition).where(Petition.id == petition.id))


def act(client, petition, action, **fields):
    data = {f"{action}-version": petition.version}
    data.update({f"{action}-{k}": v for k, v in fields.items()})
    return client.post(f"/quan-ly/kien-nghi/{petition.code}/{action}", data=data)


def test_login_errors_in_vietnamese(client, world):
    response = client.post("/dang-nhap", data={"email": "canbo@example.vn", "password": "sai"})
    assert response.status_code == 422
    assert "Thư điện tử hoặc mật khẩu không đúng" in response.get_data(as_text=True)
    response = client.post("/dang-nhap", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "Hãy nhập thư điện tử" in response.get_data(as_text=True)


def test_login_goes_to_next_but_never_off_site(client, world):
    data = {"email": "canbo@example.vn", "password": factories.PASSWORD}
    response = client.post("/dang-nhap", data={**data, "next": "//evil.example/x"})
    assert response.headers["Location"] == "/quan-ly/"
    client.post("/dang-xuat")
    response = client.post("/dang-nhap", data={**data, "next": "/quan-ly/?status=received"})
    assert response.headers["Location"] == "/quan-ly/?status=received"


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}], indirect=True
)
def test_login_is_rate_limited(client, world):
    for _ in range(3):
        client.post("/dang-nhap", data={"email": "canbo@example.vn", "password": "sai"})
    response = client.post(
        "/dang-nhap", data={"email": "canbo@example.vn", "password": factories.PASSWORD}
    )
    assert response.status_code == 429


def test_inactive_account_cannot_log_in(client, world):
    world.users["ward_staff"].active = False
    db.session.commit()
    response = client.post(
        "/dang-nhap", data={"email": "canbo@example.vn", "password": factories.PASSWORD}
    )
    assert response.status_code == 422


def test_anonymous_is_sent_to_login(client, world):
    petition = factories.file(world)
    response = client.get("/quan-ly/")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]
    response = client.get(f"/quan-ly/kien-nghi/{petition.code}", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert "/dang-nhap" in response.headers["HX-Redirect"]
    response = act(client, petition, "reject", reason="x")
    assert response.status_code == 302
    assert reload(petition).status == Status.RECEIVED


@pytest.mark.parametrize("role", ROLES)
def test_inbox_per_role(client, auth, world, role):
    mine = factories.assign(world, factories.file(world, title="Cống tắc ngõ 4"), "infra")
    theirs = factories.assign(world, factories.file(world, title="Rác tồn đọng ngõ 9"), "waste")
    auth.as_role(world, role)
    body = client.get("/quan-ly/").get_data(as_text=True)
    sees_mine = mine.code in body
    sees_theirs = theirs.code in body
    expected = {
        "unit_staff": (True, False),
        "other_unit_staff": (False, True),
    }.get(role, (True, True))
    assert (sees_mine, sees_theirs) == expected


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("ward_staff", 200),
        ("admin", 200),
        ("mttq", 200),
        ("unit_staff", 200),
        ("other_unit_staff", 404),
    ],
)
def test_petition_page_per_role(client, auth, world, role, status):
    petition = factories.assign(
        world, factories.file(world, petitioner_phone="0987654321"), "infra"
    )
    auth.as_role(world, role)
    response = client.get(f"/quan-ly/kien-nghi/{petition.code}")
    assert response.status_code == status
    if status == 200:
        assert "0987654321" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "action", "fields", "status"),
    [
        ("mttq", "update", {"public_note": "x"}, 403),
        ("unit_staff", "update", {"public_note": "Đang nạo vét"}, 303),
        ("unit_staff", "reject", {"reason": "x"}, 403),
        ("unit_staff", "forward", {"to_body": "Sở"}, 403),
        ("other_unit_staff", "update", {"public_note": "x"}, 404),
        ("ward_staff", "update", {"public_note": "Đang nạo vét"}, 303),
        ("admin", "forward", {"to_body": "Sở Xây dựng"}, 303),
    ],
)
def test_actions_per_role(client, auth, world, role, action, fields, status):
    petition = factories.assign(world, factories.file(world), "infra")
    before = petition.status
    auth.as_role(world, role)
    response = act(client, petition, action, **fields)
    assert response.status_code == status
    if status != 303:
        assert reload(petition).status == before


def test_officer_takes_petition_to_closure(client, auth, world):
    petition = factories.file(world)
    auth.as_role(world, "ward_staff")
    assert (
        act(
            client,
            petition,
            "review",
            title="Điểm rác đầu ngõ 12",
            category_id=world.categories["ve-sinh-moi-truong"].id,
        ).status_code
        == 303
    )
    petition = reload(petition)
    response = act(
        client,
        petition,
        "assign",
        lead_unit_id=world.units["infra"].id,
        support_unit_ids=world.units["waste"].id,
        responsible_person="Đ/c Hoàng Minh Tuấn",
        roadmap="Tuần 1 khảo sát; tuần 2 thu dọn",
        expected_on="31/12/2026",
    )
    assert response.status_code == 303
    petition = reload(petition)
    assert petition.status == Status.ASSIGNED
    assert petition.expected_on.isoformat() == "2026-12-31"
    assert (
        act(
            client, petition, "update", public_note="Đã khảo sát", internal_note="Cần thêm xe"
        ).status_code
        == 303
    )
    petition = reload(petition)
    assert act(client, petition, "resolve", public_note="Đã thu dọn sạch").status_code == 303
    petition = reload(petition)
    assert act(client, petition, "close").status_code == 303
    petition = reload(petition)
    assert petition.status == Status.CLOSED
    public = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Đã thu dọn sạch" in public and "Đ/c Hoàng Minh Tuấn" in public
    assert "Cần thêm xe" not in public  # internal note stays internal
    staff_page = client.get(f"/quan-ly/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Cần thêm xe" in staff_page


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        ("assign", {"lead_unit_id": ""}, "Hãy chọn đơn vị chủ trì"),
        ("assign", {"lead_unit_id": "999999"}, "Lựa chọn không hợp lệ"),
        ("assign", {"lead_unit_id": "UNIT", "expected_on": "31/02/2026"}, "Ngày không hợp lệ"),
        ("reject", {"reason": ""}, "Hãy nêu lý do"),
        ("merge", {"into_code": "KN-1999-00001"}, "Không tìm thấy kiến nghị cần gộp vào"),
        ("resolve", {"public_note": "xong"}, "không áp dụng"),
    ],
)
def test_bad_action_input_is_422_and_changes_nothing(client, auth, world, action, fields, message):
    petition = factories.file(world)
    fields = {k: (world.units["infra"].id if v == "UNIT" else v) for k, v in fields.items()}
    auth.as_role(world, "ward_staff")
    response = act(client, petition, action, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    petition = reload(petition)
    assert petition.status == Status.RECEIVED and petition.version == 1


def test_cannot_resolve_requires_both_fields(client, auth, world):
    petition = factories.assign(world, factories.file(world))
    auth.as_role(world, "ward_staff")
    response = act(client, petition, "cannot", reason="Vượt thẩm quyền", recommendation="")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Hãy nêu kiến nghị, đề xuất" in body
    assert "Vượt thẩm quyền" in body  # kept in the form
    response = act(
        client, petition, "cannot", reason="Vượt thẩm quyền", recommendation="Đề nghị Thành phố"
    )
    assert response.status_code == 303
    public = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "không thực hiện được" in public and "Đề nghị Thành phố" in public


def test_htmx_action_swaps_workspace(client, auth, world):
    petition = factories.file(world)
    auth.as_role(world, "ward_staff")
    response = client.post(
        f"/quan-ly/kien-nghi/{petition.code}/review",
        data={"review-version": petition.version, "review-title": petition.title},
        headers={"HX-Request": "true", "HX-Target": "workspace"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="timeline"' in html and "đang xem xét" in html
    invalid = client.post(
        f"/quan-ly/kien-nghi/{petition.code}/reject",
        data={"reject-version": petition.version + 1, "reject-reason": ""},
        headers={"HX-Request": "true", "HX-Target": "workspace"},
    )
    assert invalid.status_code == 422 and "<html" not in invalid.get_data(as_text=True)


def test_unknown_action_is_404(client, auth, world):
    petition = factories.file(world)
    auth.as_role(world, "ward_staff")
    assert client.post(f"/quan-ly/kien-nghi/{petition.code}/explode").status_code == 404


def test_inbox_filters_counts_and_overdue(client, auth, world):
    late = factories.assign(
        world, factories.file(world, title="Đèn hỏng lâu ngày"), expected_on=None
    )
    late.expected_on = late.created_at.date().replace(year=late.created_at.year - 1)
    db.session.commit()
    factories.file(world, title="Cống tắc mới", category=world.categories["thoat-nuoc"])
    auth.as_role(world, "ward_staff")
    body = client.get("/quan-ly/?overdue=y").get_data(as_text=True)
    assert "Đèn hỏng lâu ngày" in body and "Cống tắc mới" not in body
    assert "quá hạn" in body
    body = client.get("/quan-ly/", query_string={"q": "cong tac"}).get_data(as_text=True)
    assert "Cống tắc mới" in body and "Đèn hỏng lâu ngày" not in body
    body = client.get("/quan-ly/", query_string={"unit": world.units["infra"].id}).get_data(
        as_text=True
    )
    assert "Đèn hỏng lâu ngày" in body and "Cống tắc mới" not in body
    body = client.get("/quan-ly/").get_data(as_text=True)
    assert "đã tiếp nhận <b>1</b>" in body and "đã giao xử lý <b>1</b>" in body
    part = client.get("/quan-ly/", headers={"HX-Request": "true", "HX-Target": "results"})
    assert "<html" not in part.get_data(as_text=True)


def test_photo_publish_is_ward_staff_only(client, auth, world):
    petition = factories.assign(world, factories.file(world))
    auth.as_role(world, "unit_staff")
    assert (
        client.post(f"/quan-ly/kien-nghi/{petition.code}/anh/1", data={"publish": "1"}).status_code
        == 403
    )
