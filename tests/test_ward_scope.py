"""One database, many wards: this deployment shows only its own ward's petitions.

A city runs every ward on one database; each deployment serves one ward
(``PORTAL_WARD_CODE``). Another ward's petitions must never show on the public list,
search, lookup, map, home page, staff inbox, monitoring dashboard, statistics or the
three-group report (page, .docx, .xlsx), and its codes are not found here (404). The
dashboard's supervision remarks and the outbox are this ward's; the commands that mail
staff (deadlines, weekly digest) or close petitions act on this ward only, and the
account and API key commands keep to it. Another ward's objects by id:
``tests/security/test_ward_objects.py``.
"""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role, User
from portal.accounts.services import AccountError, create_user
from portal.api import services as api
from portal.api.models import ApiClient
from portal.extensions import db
from portal.meetings.models import ConclusionNotice, Meeting, MeetingKind, NoticeItem
from portal.monitoring import services as monitoring
from portal.monitoring.models import RemarkTarget, SupervisionRemark
from portal.notifications import services as notifications
from portal.notifications.models import Notification, NotificationKind, NotificationStatus
from portal.petitions import services
from portal.petitions.models import Status
from portal.timeutil import frozen_clock, utcnow
from tests import factories

TITLE = "Cống thoát nước bị tắc gây ngập"


@pytest.fixture
def other_ward(world):
    """Phường Hoàn Kiếm in the same database, with staff of its own."""
    other = factories.build_other_ward(world)
    db.session.commit()
    return other


@pytest.fixture
def two_wards(world, other_ward):
    """Our petition and three of another ward, all with the same words and overdue."""
    long_ago = datetime.now() - timedelta(days=60)
    with frozen_clock(long_ago):
        ours = factories.file(world, title=TITLE)
    theirs = []
    for _ in range(3):
        with frozen_clock(long_ago):
            petition = factories.file(
                other_ward,
                category=world.categories["thoat-nuoc"],
                title=TITLE,
                description="Nước ngập đến đầu gối mỗi khi mưa.",
            )
        theirs.append(petition)
    db.session.commit()
    assert services.due_state(ours) == "overdue"
    assert all(p.ward_id == other_ward.ward.id for p in theirs)
    return ours, theirs


def _codes_absent(body: str, theirs) -> bool:
    """No link to any of ``theirs`` (a search box may still echo a code typed in it)."""
    return not any(f"kien-nghi/{p.code}" in body for p in theirs)


def test_public_list_and_search_show_only_this_ward(client, two_wards):
    ours, theirs = two_wards
    for url in ("/kien-nghi", "/kien-nghi?q=cong+thoat+nuoc", f"/kien-nghi?q={theirs[0].code}"):
        body = client.get(url).get_data(as_text=True)
        assert _codes_absent(body, theirs), url
    assert f"kien-nghi/{ours.code}" in client.get("/kien-nghi?q=cong+thoat+nuoc").get_data(
        as_text=True
    )


def test_another_wards_code_is_not_found(client, two_wards):
    ours, theirs = two_wards
    assert client.get(f"/tra-cuu?ma={ours.code}").status_code == 303
    assert client.get(f"/kien-nghi/{ours.code}").status_code == 200
    lookup = client.get(f"/tra-cuu?ma={theirs[0].code}")
    assert lookup.status_code == 404 and "Không tìm thấy" in lookup.get_data(as_text=True)
    assert client.get(f"/kien-nghi/{theirs[0].code}").status_code == 404
    assert client.get(f"/feeds/kien-nghi/{theirs[0].code}.atom").status_code == 404


def test_map_shows_only_this_ward(client, two_wards):
    ours, theirs = two_wards
    everywhere = "-180,-90,180,90"
    points = client.get(f"/ban-do/du-lieu.geojson?bbox={everywhere}&zoom=16").get_json()
    assert [f["properties"]["code"] for f in points["features"]] == [ours.code]
    cells = client.get(f"/ban-do/du-lieu.geojson?bbox={everywhere}&zoom=8").get_json()
    assert sum(f["properties"]["count"] for f in cells["features"]) == 1
    page = client.get("/ban-do/").get_data(as_text=True)
    assert ours.code in page and _codes_absent(page, theirs)


def test_home_page_shows_only_this_ward(client, two_wards):
    ours, theirs = two_wards
    body = client.get("/").get_data(as_text=True)
    assert ours.code in body and _codes_absent(body, theirs)


def test_staff_inbox_shows_only_this_ward(client, auth, world, two_wards):
    ours, theirs = two_wards
    auth.as_role(world, "ward_staff")
    for url in ("/quan-ly/", "/quan-ly/?overdue=y", "/quan-ly/?q=cong+thoat+nuoc"):
        body = client.get(url).get_data(as_text=True)
        assert ours.code in body and _codes_absent(body, theirs), url
    assert client.get(f"/quan-ly/kien-nghi/{theirs[0].code}").status_code == 404
    assert client.get(f"/quan-ly/kien-nghi/{ours.code}").status_code == 200


def test_dashboard_and_statistics_count_only_this_ward(app, client, auth, world, two_wards):
    ours, theirs = two_wards
    data = monitoring.build_dashboard(monitoring.Scope())
    assert data.total == 1 and [p.code for p in data.overdue] == [ours.code]
    assert sum(row.total for row in data.categories) == 1
    auth.as_role(world, "mttq")
    page = client.get("/giam-sat").get_data(as_text=True)
    assert ours.code in page and _codes_absent(page, theirs)
    auth.logout()
    statistics = client.get("/thong-ke").get_data(as_text=True)
    assert '<span class="stat-n">1</span> kiến nghị' in statistics


# --- the three-group report ----------------------------------------------------------------


def _docx_text(body: bytes) -> str:
    from docx import Document

    document = Document(io.BytesIO(body))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def _xlsx_text(body: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body))
    return "\n".join(
        str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v
    )


def test_report_and_its_documents_show_only_this_ward(client, auth, world, other_ward, two_wards):
    ours, theirs = two_wards
    their_meeting = Meeting(
        ward=other_ward.ward, kind=MeetingKind.DIALOGUE, title="Đối thoại", held_on=date.today()
    )
    db.session.add(their_meeting)
    db.session.commit()
    auth.as_role(world, "ward_staff")
    page = client.get("/bao-cao?ca_nhan=1").get_data(as_text=True)
    documents = {
        "docx": _docx_text(client.get("/bao-cao.docx").data),
        "xlsx": _xlsx_text(client.get("/bao-cao.xlsx?ca_nhan=1").data),
    }
    assert ours.code in page and not any(p.code in page for p in theirs)
    for name, text in documents.items():
        assert ours.code in text and not any(p.code in text for p in theirs), name
    for url in ("/bao-cao", "/bao-cao.docx", "/bao-cao.xlsx", "/giam-sat"):
        assert client.get(f"{url}?meeting={their_meeting.id}").status_code == 404, url


# --- supervision remarks and the outbox ----------------------------------------------------


def test_recent_remarks_are_this_wards(client, auth, world, other_ward, two_wards):
    waste = world.units["waste"]  # a company of no ward: both wards remark on it
    db.session.add(
        SupervisionRemark(
            ward_id=other_ward.ward.id,
            target=RemarkTarget.UNIT,
            unit_id=waste.id,
            author=other_ward.users["mttq"],
            remark="Ý kiến của Mặt trận phường khác về công ty.",
        )
    )
    db.session.commit()
    auth.as_role(world, "mttq")
    assert (
        client.post(
            "/giam-sat/y-kien", data={"unit_id": waste.id, "remark": "Thu gom rác chưa đúng giờ."}
        ).status_code
        == 303
    )
    assert [r.remark for r in monitoring.build_dashboard(monitoring.Scope()).remarks] == [
        "Thu gom rác chưa đúng giờ."
    ]
    page = client.get("/giam-sat").get_data(as_text=True)
    assert "Thu gom rác chưa đúng giờ." in page
    assert "phường khác về công ty" not in page


def test_outbox_shows_this_wards_messages(client, auth, world, other_ward, two_wards):
    ours, theirs = two_wards
    for name, petition in (("chung-toi", ours), ("ho", theirs[0])):
        notifications.request_follow(f"{name}@example.vn", petition=petition)
    db.session.commit()
    auth.as_role(world, "admin")
    page = client.get("/quan-ly/thu-di").get_data(as_text=True)
    assert "chung-toi@example.vn" in page and "ho@example.vn" not in page
    assert notifications.queue_counts() == {NotificationStatus.QUEUED: 1}


# --- commands ------------------------------------------------------------------------------


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["portal", *args])


def _sent_to(*kinds) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kinds:
        query = query.where(Notification.kind.in_(kinds))
    return list(db.session.scalars(query))


def _of_other_ward(email: str) -> bool:
    return email.endswith("@hoankiem.example.vn")


def test_deadline_reminders_are_this_wards(app, world, other_ward, two_wards):
    ours, theirs = two_wards
    # Both wards give a petition to the same company of no ward; each has staff in it.
    factories.assign(world, ours, "waste", expected_on=date.today() - timedelta(days=3))
    factories.assign(other_ward, theirs[0], "waste", expected_on=date.today() - timedelta(days=3))
    factories.assign(other_ward, theirs[1], "own", expected_on=date.today() - timedelta(days=3))
    notice = ConclusionNotice(
        ward_id=other_ward.ward.id, number="9-TB/ĐU", title="Kết luận", full_text="…"
    )
    db.session.add(
        NoticeItem(
            notice=notice,
            ref="1.",
            text="Nạo vét hồ của phường khác.",
            expected_on=date.today() - timedelta(days=5),
        )
    )
    db.session.commit()
    before = len(_sent_to())
    result = _run(app, "deadlines")
    assert result.exit_code == 0, result.output
    assert "1 kiến nghị và 0 mục thông báo mới quá hạn" in result.output
    sent = _sent_to()[before:]
    assert sent and not any(_of_other_ward(n.recipient) for n in sent)
    assert {n.recipient for n in _sent_to(NotificationKind.OVERDUE)} == {
        world.users["other_unit_staff"].email
    }
    for message in sent:
        assert not any(p.code in message.body_text for p in theirs)
        assert "hồ của phường khác" not in message.body_text
        assert message.ward_id == world.ward.id


def test_weekly_digest_is_this_wards(app, world, other_ward, two_wards):
    ours, theirs = two_wards
    late = date.today() - timedelta(days=3)
    factories.assign(world, ours, "waste", expected_on=late)
    factories.assign(other_ward, theirs[0], "waste", expected_on=late)
    result = _run(app, "digest", "--weekly")
    assert result.exit_code == 0, result.output
    sent = _sent_to(NotificationKind.DIGEST)
    assert {n.recipient for n in sent} >= {
        world.users["ward_staff"].email,
        world.users["other_unit_staff"].email,
    }
    assert not any(_of_other_ward(n.recipient) for n in sent)
    for message in sent:
        assert not any(p.code in message.body_text for p in theirs)


def test_close_expired_closes_this_wards_only(app, world, other_ward):
    long_ago = utcnow() - timedelta(days=60)
    resolved = []
    for place, unit in ((world, "infra"), (other_ward, "own")):
        petition = factories.assign(place, factories.file(place), unit)
        services.resolve(petition, place.users["ward_staff"], public_note="Đã xử lý xong")
        petition.resolved_at = long_ago
        resolved.append(petition)
    db.session.commit()
    result = _run(app, "close-expired")
    assert result.exit_code == 0 and "Đã đóng 1 " in result.output, result.output
    db.session.expire_all()
    assert [p.status for p in resolved] == [Status.CLOSED, Status.RESOLVED]


def test_create_user_refuses_a_unit_of_another_ward(app, world, other_ward):
    own_unit = other_ward.unit.name
    base = ["create-user", "--role", "unit_staff", "--password", "mot-mat-khau-dai"]
    refused = _run(app, *base, "--email", "a@example.vn", "--name", "A", "--unit", own_unit)
    assert refused.exit_code != 0
    assert f"Đơn vị “{own_unit}” thuộc phường/xã khác" in refused.output
    assert db.session.scalar(select(User).where(User.email == "a@example.vn")) is None
    there = _run(
        app, *base, "--email", "b@example.vn", "--name", "B", "--unit", own_unit, "--ward", "00070"
    )
    assert there.exit_code == 0, there.output
    # A unit of no ward (a company) serves both wards.
    shared = world.units["waste"].name
    here = _run(app, *base, "--email", "c@example.vn", "--name", "C", "--unit", shared)
    assert here.exit_code == 0, here.output
    # The service says so too, whoever calls it.
    with pytest.raises(AccountError, match="thuộc phường/xã khác"):
        create_user(
            email="d@example.vn",
            full_name="D",
            password="mot-mat-khau-dai",
            role=Role.UNIT_STAFF,
            unit=other_ward.unit,
            ward=world.ward,
        )


def test_api_key_commands_keep_to_this_ward(app, world, other_ward):
    api.issue_key("Ứng dụng của phường", ward=world.ward)
    theirs, their_key = api.issue_key("Ứng dụng phường khác", ward=other_ward.ward)
    db.session.commit()
    listed = _run(app, "api-key", "list")
    assert "Ứng dụng của phường" in listed.output and "phường khác" not in listed.output
    refused = _run(app, "api-key", "revoke", str(theirs.id))
    assert refused.exit_code != 0 and f"Không có hệ thống số {theirs.id}" in refused.output
    db.session.expire_all()
    assert theirs.revoked_at is None
    assert api.client_for_key(their_key) is None  # files nothing here
    created = _run(app, "api-key", "create", "Tổng đài")
    assert created.exit_code == 0, created.output
    assert db.session.scalar(select(ApiClient).where(ApiClient.name == "Tổng đài")).ward_id == (
        world.ward.id
    )


def test_import_notice_refuses_a_meeting_of_another_ward(app, world, other_ward, tmp_path):
    meeting = Meeting(
        ward=other_ward.ward, kind=MeetingKind.DIALOGUE, title="Đối thoại", held_on=date.today()
    )
    db.session.add(meeting)
    db.session.commit()
    path = tmp_path / "thong-bao.txt"
    path.write_text("THÔNG BÁO KẾT LUẬN\n1. Phòng Văn hóa - Xã hội rà soát hồ sơ.\n")
    result = _run(app, "import-notice", str(path), "--meeting", str(meeting.id))
    assert result.exit_code != 0 and f"Không có hội nghị số {meeting.id}" in result.output
    assert db.session.scalar(select(func.count()).select_from(ConclusionNotice)) == 0
    # Without a meeting: this ward's notice; the other ward's unit is not matched, a unit
    # of this ward is made for the name.
    saved = _run(app, "import-notice", str(path))
    assert saved.exit_code == 0, saved.output
    notice = db.session.scalar(select(ConclusionNotice))
    assert notice.ward_id == world.ward.id
    (unit,) = [u.unit for u in notice.items[0].units]
    assert unit.id != other_ward.unit.id and unit.ward_id == world.ward.id
