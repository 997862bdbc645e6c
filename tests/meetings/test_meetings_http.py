"""Meetings, bulk entry, item follow-up, linking and classification over HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.meetings import services
from portal.meetings.models import (
    ConclusionNotice,
    ItemStatus,
    Meeting,
    MeetingKind,
    NoticeItem,
    NoticeItemEvent,
    NoticeItemUnit,
)
from portal.petitions.models import AssignmentRole, Channel, Petition, Status
from tests import factories


@pytest.fixture
def meeting(world):
    meeting = Meeting(
        ward=world.ward,
        kind=MeetingKind.DIALOGUE,
        title="Hội nghị tiếp xúc, đối thoại năm 2026",
        held_on=date(2026, 9, 15),
        place="Hội trường UBND phường",
    )
    db.session.add(meeting)
    db.session.commit()
    return meeting


@pytest.fixture
def notice(world, meeting):
    notice = ConclusionNotice(
        meeting=meeting,
        number="15-TB/ĐU",
        issued_on=date(2026, 9, 20),
        title="Kết luận hội nghị tiếp xúc, đối thoại năm 2026",
        full_text="…",
    )
    item = NoticeItem(
        notice=notice,
        ref="2.(1)",
        position=0,
        text="Phòng Kinh tế, Hạ tầng và Đô thị xử lý dứt điểm điểm đen rác thải ngõ 12.",
        deadlines=[{"date": "2027-01-31", "kind": "by_date", "text": "trước ngày 31/01/2027"}],
    )
    item.units.append(NoticeItemUnit(unit=world.units["infra"], role=AssignmentRole.LEAD))
    item.units.append(NoticeItemUnit(unit=world.units["waste"], role=AssignmentRole.SUPPORT))
    db.session.add_all([notice, item])
    db.session.commit()
    return notice


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_and_edit_meeting(client, auth, world):
    auth.as_role(world, "ward_staff")
    bad = client.post(
        "/hoi-nghi/moi", data={"kind": "dialogue", "title": "", "held_on": "32/13/2026"}
    )
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Hãy nhập tên hội nghị" in body and "Ngày không hợp lệ" in body
    assert count(Meeting) == 0
    response = client.post(
        "/hoi-nghi/moi",
        data={
            "kind": "dialogue",
            "title": "Đối thoại năm 2026",
            "held_on": "15/09/2026",
            "place": "Nhà văn hóa",
        },
    )
    assert response.status_code == 303
    meeting = db.session.scalar(select(Meeting))
    assert meeting.held_on == date(2026, 9, 15)
    response = client.post(
        f"/hoi-nghi/{meeting.id}/sua",
        data={"kind": "voter_contact", "title": "Tiếp xúc cử tri 2026", "held_on": "2026-09-16"},
    )
    assert response.status_code == 303
    page = client.get(f"/hoi-nghi/{meeting.id}").get_data(as_text=True)
    assert "Tiếp xúc cử tri 2026" in page and "16/09/2026" in page


@pytest.mark.parametrize("role", ["unit_staff", "mttq"])
def test_only_ward_staff_edit_meetings(client, auth, world, role, meeting):
    auth.as_role(world, role)
    assert client.get("/hoi-nghi/moi").status_code == 403
    assert client.post(f"/hoi-nghi/{meeting.id}/kien-nghi", data={}).status_code == 403


def test_public_sees_meeting_with_items_and_statuses(client, world, meeting, notice):
    body = client.get(f"/hoi-nghi/{meeting.id}").get_data(as_text=True)
    assert "15-TB/ĐU" in body and "2.(1)" in body and "chưa thực hiện" in body
    assert client.get("/hoi-nghi/").status_code == 200
    assert client.get(f"/hoi-nghi/thong-bao/{notice.id}").status_code == 200
    assert client.get("/hoi-nghi/999999").status_code == 404


def test_bulk_entry_all_or_nothing(client, auth, world, meeting):
    auth.as_role(world, "ward_staff")
    rows = {
        "rows-0-raised_by": "Tổ dân phố Nhân Trạch",
        "rows-0-area_id": world.west.id,
        "rows-0-category_id": world.categories["ve-sinh-moi-truong"].id,
        "rows-0-text": "Đề nghị xử lý điểm rác tự phát đầu ngõ 12 phố Văn Khê.",
        "rows-1-raised_by": "Hội Cựu chiến binh",
        "rows-1-category_id": "",
        "rows-1-text": "Đèn đường ngõ 5 hỏng đã lâu, đề nghị thay mới.",
    }
    bad = client.post(f"/hoi-nghi/{meeting.id}/kien-nghi", data={**rows, "op": "save"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "Hãy chọn lĩnh vực" in body
    assert "Đề nghị xử lý điểm rác tự phát" in body  # the good row is still on screen
    assert "Hội Cựu chiến binh" in body
    assert count(Petition) == 0
    rows["rows-1-category_id"] = world.categories["chieu-sang"].id
    good = client.post(f"/hoi-nghi/{meeting.id}/kien-nghi", data={**rows, "op": "save"})
    assert good.status_code == 303
    petitions = db.session.scalars(select(Petition).order_by(Petition.id)).all()
    assert [p.raised_by for p in petitions] == ["Tổ dân phố Nhân Trạch", "Hội Cựu chiến binh"]
    assert all(p.channel == Channel.MEETING and p.meeting_id == meeting.id for p in petitions)
    page = client.get(f"/hoi-nghi/{meeting.id}").get_data(as_text=True)
    assert petitions[0].code in page


def test_bulk_entry_add_row_keeps_what_was_typed(client, auth, world, meeting):
    auth.as_role(world, "ward_staff")
    response = client.post(
        f"/hoi-nghi/{meeting.id}/kien-nghi",
        data={"rows-0-text": "Nội dung đã gõ dở", "op": "add"},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Nội dung đã gõ dở" in body and 'name="rows-5-text"' in body


def test_item_follow_up(client, auth, world, notice):
    item = notice.items[0]
    auth.as_role(world, "ward_staff")
    url = f"/hoi-nghi/muc/{item.id}/cap-nhat"
    base = {
        "status": "in_progress",
        "competence": "ward",
        "progress": "40",
        "note": "Đã khảo sát",
        "roadmap": "Tháng 10 thu dọn",
        "responsible_person": "Đ/c Lan",
    }
    assert client.post(url, data=base).status_code == 303
    db.session.expire_all()
    assert item.status == ItemStatus.IN_PROGRESS and item.progress == 40
    bad = client.post(url, data={**base, "status": "cannot", "outcome_note": "Không có kinh phí"})
    assert bad.status_code == 422
    assert "Hãy nêu kiến nghị, đề xuất" in bad.get_data(as_text=True)
    bad = client.post(url, data={**base, "progress": "140"})
    assert bad.status_code == 422 and "từ 0 đến 100" in bad.get_data(as_text=True)
    bad = client.post(url, data={**base, "competence": "higher"})
    assert bad.status_code == 422 and "cơ quan cấp trên" in bad.get_data(as_text=True)
    done = client.post(
        url, data={**base, "status": "done", "outcome_note": "Đã thu dọn, lắp biển cấm"}
    )
    assert done.status_code == 303
    db.session.expire_all()
    assert item.status == ItemStatus.DONE and item.progress == 100
    events = db.session.scalars(
        select(NoticeItemEvent).where(NoticeItemEvent.item_id == item.id)
    ).all()
    assert [e.to_status for e in events] == [ItemStatus.IN_PROGRESS, ItemStatus.DONE]
    page = client.get(f"/hoi-nghi/muc/{item.id}").get_data(as_text=True)
    assert "Đã thu dọn, lắp biển cấm" in page and "đã thực hiện xong" in page


def test_link_petition_to_item_and_carry_units(client, auth, world, notice):
    item = notice.items[0]
    petition = factories.file(world)
    auth.as_role(world, "ward_staff")
    unknown = client.post(f"/hoi-nghi/muc/{item.id}/lien-ket", data={"code": "KN-1999-00001"})
    assert unknown.status_code == 422 and "Không tìm thấy kiến nghị" in unknown.get_data(
        as_text=True
    )
    response = client.post(
        f"/hoi-nghi/muc/{item.id}/lien-ket",
        data={"code": petition.code.lower(), "carry_units": "y"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert petition.notice_items == [item]
    assert petition.status == Status.ASSIGNED
    assert [a.unit for a in petition.active_assignments] == [
        world.units["infra"],
        world.units["waste"],
    ]
    assert petition.expected_on == date(2027, 1, 31)
    public = client.get(f"/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "15-TB/ĐU 2.(1)" in public
    fragment = client.post(
        f"/hoi-nghi/muc/{item.id}/bo-lien-ket/{petition.code}",
        headers={"HX-Request": "true", "HX-Target": "item-petitions"},
    )
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    db.session.expire_all()
    assert petition.notice_items == []


def test_link_item_from_petition_page_with_search(client, auth, world, notice):
    petition = factories.file(world)
    auth.as_role(world, "ward_staff")
    results = client.get(
        "/hoi-nghi/muc/tim",
        query_string={"q": "diem den rac", "code": petition.code},
        headers={"HX-Request": "true", "HX-Target": "item-picker"},
    ).get_data(as_text=True)
    assert "2.(1)" in results and "<html" not in results
    assert "2.(1)" not in client.get(
        "/hoi-nghi/muc/tim", query_string={"q": "den duong", "code": petition.code}
    ).get_data(as_text=True)
    response = client.post(
        f"/quan-ly/kien-nghi/{petition.code}/muc", data={"item_id": notice.items[0].id}
    )
    assert response.status_code == 303
    page = client.get(f"/quan-ly/kien-nghi/{petition.code}").get_data(as_text=True)
    assert "15-TB/ĐU 2.(1)" in page


def test_themes_repeats_and_competence(client, auth, world):
    old = factories.file(world, title="Ngập úng ngõ 8 mùa mưa")
    with_clock = old.created_at.replace(year=old.created_at.year - 2)
    old.created_at = with_clock
    db.session.commit()
    middle = factories.file(world, title="Ngập úng ngõ 8 vẫn chưa xử lý")
    new = factories.file(world, title="Ngập úng ngõ 8 lần thứ ba")
    auth.as_role(world, "ward_staff")
    assert (
        client.post(
            f"/quan-ly/kien-nghi/{middle.code}/nhom",
            data={"theme": "Ngập úng", "repeat_code": old.code, "competence": "ward"},
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/quan-ly/kien-nghi/{new.code}/nhom",
            data={"theme": "ngập úng", "repeat_code": middle.code, "competence": "higher"},
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert new.theme is middle.theme and new.theme.name == "Ngập úng"
    assert services.raised_history(new) == (3, with_clock.year)
    public = client.get(f"/kien-nghi/{new.code}").get_data(as_text=True)
    assert f"Đã kiến nghị 3 lần từ năm {with_clock.year}" in public
    assert [p.id for p, _times, _year in services.repeatedly_raised()] == [new.id]
    # A loop is refused.
    client.post(
        f"/quan-ly/kien-nghi/{old.code}/nhom", data={"repeat_code": new.code, "competence": "ward"}
    )
    db.session.expire_all()
    assert old.repeat_of is None


def test_open_items_raised_again(world, notice):
    item = notice.items[0]
    first = factories.file(world)
    again = factories.file(world)
    services.mark_repeat(again, world.users["ward_staff"], first)
    item.petitions.append(again)
    db.session.commit()
    assert services.open_items_raised_again() == [item]
    item.status = ItemStatus.DONE
    db.session.commit()
    assert services.open_items_raised_again() == []


def test_carry_units_to_all_waiting_petitions(client, auth, world, notice):
    item = notice.items[0]
    waiting = factories.file(world)
    already = factories.assign(world, factories.file(world), "police")
    item.petitions.extend([waiting, already])
    db.session.commit()
    auth.as_role(world, "ward_staff")
    response = client.post(f"/hoi-nghi/muc/{item.id}/giao-don-vi")
    assert response.status_code == 303
    db.session.expire_all()
    assert waiting.lead_assignment.unit == world.units["infra"]
    assert already.lead_assignment.unit == world.units["police"]  # its unit is kept


def test_index_flags_problems_raised_again(client, world, notice):
    first = factories.file(world, title="Ngập úng ngõ 8 mùa mưa")
    again = factories.file(world, title="Ngập úng ngõ 8 vẫn chưa xử lý")
    services.mark_repeat(again, world.users["ward_staff"], first)
    notice.items[0].petitions.append(again)
    db.session.commit()
    body = client.get("/hoi-nghi/").get_data(as_text=True)
    assert "Đã kiến nghị 2 lần" in body and again.code in body
    assert "15-TB/ĐU 2.(1)" in body
