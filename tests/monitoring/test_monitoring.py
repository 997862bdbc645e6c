"""Deadlines in working days, the dashboard's numbers, remarks, rating and closing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.monitoring import services
from portal.monitoring.models import CalendarOverride, SupervisionRemark
from portal.petitions import services as petitions
from portal.petitions.models import EventKind, Petition, PetitionEvent, Status
from portal.timeutil import frozen_clock
from tests import factories

# Friday 13/02/2026, 09:00 in Hà Nội (02:00 UTC): the last working day before Tết.
BEFORE_TET = datetime(2026, 2, 13, 2, 0)


def file_at(world, moment, **kwargs):
    with frozen_clock(moment):
        return factories.file(world, **kwargs)


def test_due_dates_count_working_days_across_tet(app, world):
    world.categories["thoat-nuoc"].reply_days = 2
    world.categories["thoat-nuoc"].resolve_days = 10
    db.session.commit()
    petition = file_at(world, BEFORE_TET, category=world.categories["thoat-nuoc"])
    assert petition.reply_due_on == date(2026, 2, 24)  # Tết week off
    assert petition.resolve_due_on == date(2026, 3, 6)
    default = file_at(world, BEFORE_TET)
    assert default.reply_due_on == date(2026, 2, 27)  # 5 working days by default


def test_admin_override_changes_due_dates(app, world):
    db.session.add(CalendarOverride(day=date(2026, 2, 14), is_working=True, note="làm bù"))
    db.session.commit()
    petition = file_at(world, BEFORE_TET)
    assert petition.reply_due_on == date(2026, 2, 26)  # Saturday 14/02 counts: a day earlier


def test_due_states_and_filters(client, auth, world):
    # Filed 30 days ago with a 20-working-day limit: overdue now.
    late = file_at(world, datetime.now() - timedelta(days=40), title="Ngập úng lâu ngày")
    soon = factories.file(world, title="Cống tắc sắp đến hạn")
    factories.assign(world, soon, expected_on=petitions.due_soon_limit())
    fine = factories.file(world, title="Đèn hỏng mới báo")
    assert petitions.due_state(late) == "overdue"
    assert petitions.due_state(soon) == "due_soon"
    assert petitions.due_state(fine) is None
    auth.as_role(world, "ward_staff")
    body = client.get("/quan-ly/?overdue=y").get_data(as_text=True)
    assert late.code in body and soon.code not in body and fine.code not in body
    body = client.get("/quan-ly/?due_soon=y").get_data(as_text=True)
    assert soon.code in body and late.code not in body and fine.code not in body
    assert "sắp đến hạn" in body
    public = client.get(f"/kien-nghi/{late.code}").get_data(as_text=True)
    assert "quá hạn" in public


@pytest.fixture
def history(world):
    """Four petitions with known outcomes, hand-computed below."""
    staff = world.users["ward_staff"]
    # A: filed Mon 02/03/2026, assigned to infra with 10/03 promised, resolved Mon 09/03.
    a = file_at(world, datetime(2026, 3, 2, 2), title="A")
    with frozen_clock(datetime(2026, 3, 2, 3)):
        petitions.assign(
            a,
            staff,
            petitions.AssignmentPlan(lead_unit=world.units["infra"], expected_on=date(2026, 3, 10)),
        )
    with frozen_clock(datetime(2026, 3, 9, 3)):
        petitions.resolve(a, staff, public_note="xong")
    # B: infra, promised 05/03, resolved 12/03: late (8 working days).
    b = file_at(world, datetime(2026, 3, 2, 2), title="B", point=factories.INSIDE_EAST)
    with frozen_clock(datetime(2026, 3, 2, 3)):
        petitions.assign(
            b,
            staff,
            petitions.AssignmentPlan(lead_unit=world.units["infra"], expected_on=date(2026, 3, 5)),
        )
    with frozen_clock(datetime(2026, 3, 12, 3)):
        petitions.resolve(b, staff, public_note="xong")
    # C: infra, promised 06/03/2026, still in progress: overdue.
    c = file_at(world, datetime(2026, 3, 2, 2), title="C", category=world.categories["thoat-nuoc"])
    with frozen_clock(datetime(2026, 3, 2, 3)):
        petitions.assign(
            c,
            staff,
            petitions.AssignmentPlan(lead_unit=world.units["infra"], expected_on=date(2026, 3, 6)),
        )
    # D: police, resolved the same week, on time (3 working days).
    d = file_at(world, datetime(2026, 3, 2, 2), title="D", category=world.categories["thoat-nuoc"])
    with frozen_clock(datetime(2026, 3, 2, 3)):
        petitions.assign(d, staff, petitions.AssignmentPlan(lead_unit=world.units["police"]))
    with frozen_clock(datetime(2026, 3, 5, 3)):
        petitions.resolve(d, staff, public_note="xong")
    db.session.commit()
    return a, b, c, d


def test_dashboard_numbers_match_hand_computed(app, world, history):
    _a, _b, c, _d = history
    data = services.build_dashboard(services.Scope())
    assert data.total == 4
    assert data.by_status[Status.RESOLVED] == 3 and data.by_status[Status.ASSIGNED] == 1
    assert [p.code for p in data.overdue] == [c.code]
    units = {row.unit.name: row for row in data.units}
    infra = units["Phòng Kinh tế, Hạ tầng và Đô thị"]
    assert (infra.assigned, infra.resolved, infra.on_time, infra.overdue) == (3, 2, 1, 1)
    assert infra.on_time_rate == 50.0
    assert sorted(infra.days) == [5, 8] and infra.median_days == 6.5
    police = units["Công an Phường"]
    assert (police.assigned, police.resolved, police.on_time_rate, police.median_days) == (
        1,
        1,
        100.0,
        3,
    )
    areas = {row.name: row for row in data.areas}
    assert areas["Tổ dân phố Nhân Trạch"].total == 3 and areas["Tổ dân phố La Dương"].total == 1
    categories = {row.name: row for row in data.categories}
    assert (categories["Thoát nước"].total, categories["Thoát nước"].overdue) == (2, 1)
    # Scope by period: only what was filed in it.
    empty = services.build_dashboard(services.Scope(start=date(2026, 4, 1)))
    assert empty.total == 0


def test_dashboard_page_and_links(client, auth, world, history):
    auth.as_role(world, "mttq")
    response = client.get("/giam-sat")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "50.0%" in body and "<svg" in body
    assert f"/quan-ly/?unit={world.units['infra'].id}&amp;overdue=y" in body or "overdue=y" in body
    xlsx = client.get("/giam-sat.xlsx")
    assert xlsx.status_code == 200
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(xlsx.data))
    units = {row[0]: row for row in book["Đơn vị"].iter_rows(min_row=2, values_only=True)}
    assert units["Phòng Kinh tế, Hạ tầng và Đô thị"][4] == 50.0


def test_dashboard_is_for_staff(client, world):
    response = client.get("/giam-sat")
    assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"]


def test_supervision_remarks(client, auth, world):
    petition = factories.file(world)
    auth.as_role(world, "mttq")
    response = client.post(
        "/giam-sat/y-kien",
        data={
            "petition_code": petition.code,
            "remark": "Đề nghị đẩy nhanh tiến độ",
            "next": f"/quan-ly/kien-nghi/{petition.code}",
        },
    )
    assert response.status_code == 303
    staff_page = client.get(f"/quan-ly/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Đề nghị đẩy nhanh tiến độ" in staff_page
    assert "Đề nghị đẩy nhanh tiến độ" not in client.get(f"/kien-nghi/{petition.code}").get_data(
        as_text=True
    )
    client.post(
        "/giam-sat/y-kien",
        data={
            "petition_code": petition.code,
            "remark": "Kết quả đã được MTTQ kiểm tra",
            "is_public": "y",
        },
    )
    public = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "Kết quả đã được MTTQ kiểm tra" in public and "Ý kiến giám sát của Mặt trận" in public
    client.post(
        "/giam-sat/y-kien",
        data={"unit_id": world.units["infra"].id, "remark": "Đơn vị chậm trả lời"},
    )
    rows = db.session.scalars(select(SupervisionRemark)).all()
    assert len(rows) == 3 and rows[-1].unit_id == world.units["infra"].id
    empty = client.post("/giam-sat/y-kien", data={"petition_code": petition.code, "remark": ""})
    assert empty.status_code == 303
    assert len(db.session.scalars(select(SupervisionRemark)).all()) == 3


def test_unit_staff_cannot_add_remarks(client, auth, world):
    petition = factories.assign(world, factories.file(world))
    auth.as_role(world, "unit_staff")
    assert client.get("/giam-sat").status_code == 200  # read
    assert (
        client.post(
            "/giam-sat/y-kien", data={"petition_code": petition.code, "remark": "abc def"}
        ).status_code
        == 403
    )


def resolved(world):
    petition = factories.assign(world, factories.file(world))
    petitions.resolve(petition, world.users["ward_staff"], public_note="Đã xử lý xong")
    db.session.commit()
    return petition


def test_satisfied_closes(client, world):
    petition = resolved(world)
    url = f"/cua-toi/{petition.private_token}"
    assert "Đánh giá kết quả giải quyết" in client.get(url).get_data(as_text=True)
    response = client.post(f"{url}/danh-gia", data={"satisfied": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert petition.status == Status.CLOSED and petition.satisfied is True
    assert "Đánh giá kết quả giải quyết" not in client.get(url).get_data(as_text=True)
    again = client.post(f"{url}/danh-gia", data={"satisfied": "0", "comment": "x"})
    assert again.status_code == 422


def test_not_satisfied_reopens_with_reason(client, world):
    petition = resolved(world)
    url = f"/cua-toi/{petition.private_token}/danh-gia"
    missing = client.post(url, data={"satisfied": "0", "comment": ""})
    assert missing.status_code == 422 and "vì sao bạn chưa hài lòng" in missing.get_data(
        as_text=True
    )
    assert client.post(url, data={}).status_code == 422
    response = client.post(url, data={"satisfied": "0", "comment": "Rác vẫn còn"})
    assert response.status_code == 303
    db.session.expire_all()
    assert petition.status == Status.IN_PROGRESS and petition.satisfied is False
    kinds = [
        e.kind
        for e in db.session.scalars(
            select(PetitionEvent).where(PetitionEvent.petition_id == petition.id)
        )
    ]
    assert EventKind.RATED in kinds
    data = services.build_dashboard(services.Scope())
    assert data.reopened_unsatisfied == 1 and data.rated == 1 and data.satisfaction_rate == 0.0


def test_close_expired(app, world):
    petition = resolved(world)
    fresh = resolved(world)
    petition.resolved_at = petition.resolved_at - timedelta(days=31)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "close-expired"])
    assert result.exit_code == 0 and "Đã đóng 1" in result.output
    db.session.expire_all()
    assert petition.status == Status.CLOSED and fresh.status == Status.RESOLVED
    assert not services.rating_open(petition)


def test_calendar_admin(client, auth, world):
    auth.as_role(world, "ward_staff")
    assert client.get("/quan-ly/lich").status_code == 403
    auth.logout()
    auth.as_role(world, "admin")
    page = client.get("/quan-ly/lich?nam=2027").get_data(as_text=True)
    assert "Tết Nguyên Đán" in page
    bad = client.post("/quan-ly/lich", data={"day": "31/02/2027", "kind": "working"})
    assert bad.status_code == 422
    assert (
        client.post(
            "/quan-ly/lich", data={"day": "06/02/2027", "kind": "working", "note": "Làm bù"}
        ).status_code
        == 303
    )
    row = db.session.scalar(
        select(CalendarOverride).where(CalendarOverride.day == date(2027, 2, 6))
    )
    assert row.is_working is True and row.ward_id == world.ward.id  # the ward's own
    assert "06/02/2027 — làm việc (Làm bù)" in client.get("/quan-ly/lich").get_data(as_text=True)
    assert client.post("/quan-ly/lich/2027-02-06/xoa").status_code == 303
    assert db.session.scalars(select(CalendarOverride)).all() == []
    assert client.post("/quan-ly/lich/2027-02-06/xoa").status_code == 404  # nothing left


def test_petitions_filed_have_due_dates_in_list(client, auth, world):
    petition = factories.file(world)
    assert petition.resolve_due_on is not None
    assert isinstance(db.session.scalar(select(Petition.resolve_due_on)), date)


def test_remarks_on_a_notice_item(client, auth, world):
    from datetime import date as day

    from portal.meetings.models import ConclusionNotice, NoticeItem

    notice = ConclusionNotice(
        number="15-TB/ĐU", issued_on=day(2026, 9, 1), title="Kết luận", full_text="…"
    )
    item = NoticeItem(notice=notice, ref="1.(1)", text="Xử lý điểm đen rác thải")
    db.session.add_all([notice, item])
    db.session.commit()
    auth.as_role(world, "mttq")
    client.post(
        "/giam-sat/y-kien",
        data={
            "item_id": item.id,
            "remark": "Chậm so với kế hoạch",
            "next": f"/hoi-nghi/muc/{item.id}",
        },
    )
    client.post(
        "/giam-sat/y-kien",
        data={"item_id": item.id, "remark": "Đã kiểm tra thực địa", "is_public": "y"},
    )
    assert "Chậm so với kế hoạch" in client.get(f"/hoi-nghi/muc/{item.id}").get_data(as_text=True)
    auth.logout()
    public = client.get(f"/hoi-nghi/muc/{item.id}").get_data(as_text=True)
    assert "Đã kiểm tra thực địa" in public and "Chậm so với kế hoạch" not in public
