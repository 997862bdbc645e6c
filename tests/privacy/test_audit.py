"""The audit log: every time staff see or export personal data, one append-only entry; an
admin page with filters, pages and a CSV export that is itself logged."""

from __future__ import annotations

import csv
import io
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.extensions import db
from portal.notifications.models import Notification
from portal.petitions.models import Petition, Status
from portal.privacy import services as privacy
from portal.privacy.models import AuditEntry
from tests import factories
from tests.privacy.conftest import (
    EMAIL,
    NAME,
    PHONE,
    at,
    audit_entries,
    co_sign,
    count,
    file_with_contact,
)


@pytest.fixture
def app_config():
    return {"PAGE_SIZE": 3}


# --- what gets logged -------------------------------------------------------------------


def test_each_staff_view_of_a_petition_with_personal_data_is_logged(client, auth, world):
    petition = file_with_contact(world)
    auth.as_role(world, "mttq")
    for _ in range(2):
        page = client.get(f"/quan-ly/kien-nghi/{petition.code}")
        assert page.status_code == 200
        assert PHONE in page.get_data(as_text=True)

    entries = audit_entries(action="view")
    assert len(entries) == 2
    entry = entries[0]
    assert entry.actor_id == world.users["mttq"].id
    assert entry.actor_kind == "staff"
    assert (entry.subject_type, entry.subject_id) == ("petition", petition.id)
    assert entry.ip_address == "127.0.0.1"
    assert entry.data["code"] == petition.code
    assert entry.created_at is not None
    # The log says who looked, never what they saw.
    assert not {NAME, PHONE, EMAIL} & set(map(str, entry.data.values()))


def test_co_signers_contacts_alone_are_personal_data(client, auth, world):
    petition = factories.file(world)  # filed without contact details
    auth.as_role(world, "ward_staff")
    client.get(f"/quan-ly/kien-nghi/{petition.code}")
    assert audit_entries() == []

    co_sign(petition, name=None, phone="0987654321", email=None)
    client.get(f"/quan-ly/kien-nghi/{petition.code}")
    [entry] = audit_entries()
    assert entry.data["co_signers"] == 1


def test_a_workspace_rendered_again_after_a_failed_action_is_logged(client, auth, world):
    petition = file_with_contact(world)
    auth.as_role(world, "ward_staff")
    response = client.post(
        f"/quan-ly/kien-nghi/{petition.code}/reject",
        data={"reject-version": str(petition.version), "reject-reason": ""},
        headers={"HX-Request": "true", "HX-Target": "workspace"},
    )
    assert response.status_code == 422
    assert PHONE in response.get_data(as_text=True)
    assert len(audit_entries(action="view", subject_id=petition.id)) == 1


@contextmanager
def commits():
    """The sessions committed inside the block, one item per commit."""
    seen = []

    def count(session):
        seen.append(session)

    event.listen(Session, "after_commit", count)
    try:
        yield seen
    finally:
        event.remove(Session, "after_commit", count)


def test_the_staff_page_and_its_actions_commit_once_with_the_entry(client, auth, world):
    petition = file_with_contact(world)
    code, title = petition.code, petition.title
    auth.as_role(world, "ward_staff")
    with commits() as seen:
        assert client.get(f"/quan-ly/kien-nghi/{code}").status_code == 200
    assert len(seen) == 1
    assert len(audit_entries(action="view", subject_id=petition.id)) == 1

    # An action with htmx answers with the workspace, contact details included: the action
    # and the entry of who saw them are one commit.
    with commits() as seen:
        response = client.post(
            f"/quan-ly/kien-nghi/{code}/review",
            data={"review-version": petition.version, "review-title": title},
            headers={"HX-Request": "true", "HX-Target": "workspace"},
        )
    assert response.status_code == 200
    assert PHONE in response.get_data(as_text=True)
    assert len(seen) == 1
    assert len(audit_entries(action="view", subject_id=petition.id)) == 2
    db.session.expire_all()
    assert db.session.get(Petition, petition.id).status == Status.REVIEWING

    # Without JavaScript the action redirects: one commit, nothing shown, nothing logged.
    with commits() as seen:
        response = client.post(
            f"/quan-ly/kien-nghi/{code}/edit",
            data={"edit-version": petition.version, "edit-title": title + " (đã sửa)"},
        )
    assert response.status_code == 303
    assert len(seen) == 1
    assert len(audit_entries(action="view", subject_id=petition.id)) == 2


def test_unit_staff_are_logged_for_their_petitions_and_see_nothing_else(client, auth, world):
    mine = factories.assign(world, file_with_contact(world), "infra")
    other = factories.assign(world, file_with_contact(world), "waste")
    auth.as_role(world, "unit_staff")
    assert client.get(f"/quan-ly/kien-nghi/{mine.code}").status_code == 200
    assert client.get(f"/quan-ly/kien-nghi/{other.code}").status_code == 404
    assert [e.subject_id for e in audit_entries()] == [mine.id]


def test_reports_with_contact_details_are_logged_and_reports_without_are_not(client, auth, world):
    file_with_contact(world)
    file_with_contact(world, title="Cống thoát nước bị tắc ở ngõ 5")
    auth.as_role(world, "ward_staff")

    assert client.get("/bao-cao").status_code == 200
    assert client.get("/bao-cao.xlsx").status_code == 200
    assert client.get("/bao-cao.docx").status_code == 200
    assert audit_entries() == []

    page = client.get("/bao-cao?ca_nhan=1")
    assert NAME in page.get_data(as_text=True)
    assert client.get("/bao-cao.xlsx?ca_nhan=1").status_code == 200
    view, download = audit_entries()
    assert (view.action, view.subject_type, view.data["format"]) == ("view", "report", "html")
    assert (download.action, download.data["format"]) == ("export", "xlsx")
    assert download.data["rows"] == 2
    assert download.data["scope"] == {"ca_nhan": "1"}
    assert download.actor_id == world.users["ward_staff"].id


def test_unit_staff_asking_for_contact_details_get_none_and_no_entry(client, auth, world):
    factories.assign(world, file_with_contact(world), "infra")
    auth.as_role(world, "unit_staff")
    assert NAME not in client.get("/bao-cao?ca_nhan=1").get_data(as_text=True)
    assert audit_entries() == []


def test_the_outbox_page_shows_addresses_and_is_logged(client, auth, world):
    file_with_contact(world)  # queues the receipt to the petitioner
    auth.as_role(world, "admin")
    page = client.get("/quan-ly/thu-di")
    assert EMAIL in page.get_data(as_text=True)
    [entry] = audit_entries()
    assert (entry.action, entry.subject_type, entry.data["count"]) == ("view", "outbox", 1)

    client.get("/quan-ly/thu-di?trang-thai=sent")  # nothing listed: nothing seen
    assert len(audit_entries()) == 1


def test_entries_cannot_be_changed_or_deleted(app, world):
    entry = privacy.record("view", "petition", 1, actor=world.users["admin"])
    db.session.commit()
    entry.action = "export"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert count(AuditEntry) == 1


# --- the admin page ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["ward_staff", "mttq", "unit_staff"])
def test_only_admins_see_the_log(client, auth, world, role):
    auth.as_role(world, role)
    assert client.get("/quan-ly/nhat-ky-du-lieu").status_code == 403
    assert client.get("/quan-ly/nhat-ky-du-lieu.csv").status_code == 403
    assert client.get("/quan-ly/du-lieu-ca-nhan").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client, world):
    response = client.get("/quan-ly/nhat-ky-du-lieu")
    assert response.status_code == 302
    assert "/dang-nhap" in response.headers["Location"]


def _history(world):
    """Entries by several people on several days (Vietnam time 08:00 = 01:00 UTC)."""
    first = file_with_contact(world)
    second = file_with_contact(world, title="Đèn đường hỏng trước nhà văn hóa")
    staff, mttq = world.users["ward_staff"], world.users["mttq"]
    with at(datetime(2026, 3, 1, 1, 0)):
        privacy.record("view", "petition", first.id, actor=staff, data={"code": first.code})
    with at(datetime(2026, 3, 2, 1, 0)):
        privacy.record("view", "petition", second.id, actor=mttq, data={"code": second.code})
        privacy.record("export", "report", actor=staff, data={"format": "xlsx", "rows": 2})
    with at(datetime(2026, 3, 5, 1, 0)):
        privacy.record("anonymise", "petition", first.id, actor_kind="system")
        privacy.record(
            "export", "petition", second.id, actor_kind="petitioner", data={"code": second.code}
        )
    db.session.commit()
    return first, second


def _rows(response) -> int:
    return response.get_data(as_text=True).count('<tr id="audit-')


def test_the_log_lists_entries_newest_first_in_pages(client, auth, world):
    _history(world)
    auth.as_role(world, "admin")
    page = client.get("/quan-ly/nhat-ky-du-lieu")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    # The five entries, and the admin's own login just now (the newest).
    assert "6 dòng" in body
    assert _rows(page) == 3  # PAGE_SIZE
    assert body.index("<td>đăng nhập</td>") < body.index("người kiến nghị (đường dẫn riêng)")
    assert body.index("người kiến nghị (đường dẫn riêng)") < body.index("hệ thống")
    assert "Trang 1 / 2" in body
    second = client.get("/quan-ly/nhat-ky-du-lieu?page=2")
    assert _rows(second) == 3
    assert "Cán Bộ Phường" in second.get_data(as_text=True)
    assert "01/03/2026" in second.get_data(as_text=True)


def test_the_log_is_filtered_by_person_action_dates_and_petition(client, auth, world):
    _first, second = _history(world)
    auth.as_role(world, "admin")
    staff = world.users["ward_staff"]

    def rows(query):
        response = client.get(f"/quan-ly/nhat-ky-du-lieu?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return _rows(response)

    assert rows(f"nguoi={staff.id}") == 2
    assert rows("nguoi=he-thong") == 1
    assert rows("nguoi=nguoi-kien-nghi") == 1
    assert rows("hanh_dong=export") == 2
    assert rows(f"nguoi={staff.id}&hanh_dong=export") == 1
    assert rows("tu=02/03/2026&den=02/03/2026") == 2
    assert rows("tu=2026-03-02") == 3
    assert rows("den=01/03/2026") == 1
    assert rows(f"ma={second.code.lower()}") == 2
    # The filters carry over to the next page and to the CSV.
    response = client.get("/quan-ly/nhat-ky-du-lieu?hanh_dong=view")
    assert "hanh_dong=view" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("tu=31/02/2026", "Ngày không hợp lệ"),
        ("tu=05/03/2026&den=01/03/2026", "Ngày kết thúc phải sau ngày bắt đầu."),
        ("ma=KN-1999-99999", "Không có kiến nghị mã KN-1999-99999."),
        ("hanh_dong=xoa-het", "Lựa chọn không hợp lệ."),
    ],
)
def test_bad_filters_get_a_vietnamese_message(client, auth, world, query, message):
    _history(world)
    auth.as_role(world, "admin")
    response = client.get(f"/quan-ly/nhat-ky-du-lieu?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get(f"/quan-ly/nhat-ky-du-lieu.csv?{query}").status_code == 422


def test_the_csv_export_holds_the_filtered_entries_and_is_logged(client, auth, world):
    first, _second = _history(world)
    auth.as_role(world, "admin")
    response = client.get("/quan-ly/nhat-ky-du-lieu.csv?hanh_dong=view")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Thời điểm (giờ Việt Nam)", "Người thực hiện", "Tài khoản"]
    assert len(rows) == 3
    assert rows[2][0] == "01/03/2026 08:00:00"
    assert rows[2][1:3] == ["Cán Bộ Phường", "canbo@example.vn"]
    assert rows[2][4] == "xem thông tin cá nhân"
    assert rows[2][6] == first.code

    [export] = audit_entries(subject_type="audit_log")
    assert export.action == "export"
    assert export.actor_id == world.users["admin"].id
    assert export.data["rows"] == 2
    assert export.data["filters"]["action"] == "view"

    # The next export shows the first one.
    again = client.get("/quan-ly/nhat-ky-du-lieu.csv?hanh_dong=export").get_data(as_text=True)
    assert "nhật ký dữ liệu cá nhân" in again
    assert len(audit_entries(subject_type="audit_log")) == 2


def test_the_log_page_links_each_petition_to_its_staff_page(client, auth, world):
    first, _second = _history(world)
    auth.as_role(world, "admin")
    body = client.get(f"/quan-ly/nhat-ky-du-lieu?ma={first.code}").get_data(as_text=True)
    assert f'href="/quan-ly/kien-nghi/{first.code}"' in body
    assert "xóa khi hết thời hạn lưu trữ" in body


def test_recording_outside_a_request_is_the_system(app, world):
    entry = privacy.record("anonymise", "petition", 7)
    assert (entry.actor_id, entry.actor_kind, entry.ip_address) == (None, "system", None)
    assert db.session.scalar(select(Notification.id)) is None


def test_admins_reach_the_log_from_the_inbox(client, auth, world):
    auth.as_role(world, "admin")
    assert 'href="/quan-ly/nhat-ky-du-lieu"' in client.get("/quan-ly/").get_data(as_text=True)
    auth.logout()
    auth.as_role(world, "ward_staff")
    assert 'href="/quan-ly/nhat-ky-du-lieu"' not in client.get("/quan-ly/").get_data(as_text=True)
