"""Logins in the audit log: every refusal, lockout and success is an entry that admins read
and filter at /quan-ly/nhat-ky-du-lieu, committed even though the login is refused, never
holding the password or what was typed for an account that does not exist."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.privacy.models import AuditEntry
from portal.units.models import Ward
from tests import factories
from tests.security.test_login import error_of, logged_in, login

# A password typed into the address box by mistake: it must be stored nowhere.
TYPED_BY_MISTAKE = "Hoa-Sen-mua-He-2026"
WRONG_PASSWORD = "mat-khau-sai-7731"


def committed_entries() -> list[dict]:
    """What the database holds after the requests, read on a connection of its own (what
    was only flushed, not committed, is not there)."""
    table = AuditEntry.__table__
    with db.engine.connect() as connection:
        rows = connection.execute(select(table).order_by(table.c.id)).mappings().all()
    return [dict(row) for row in rows]


def logins(entries: list[dict]) -> list[dict]:
    return [e for e in entries if e["subject_type"] == "login"]


@pytest.fixture
def other_ward(world):
    ward = Ward(code="09887", name="Phường Kiến Hưng", province_code="01", province_name="Hà Nội")
    db.session.add(ward)
    db.session.commit()
    accounts.create_user(
        email="khac@example.vn",
        full_name="Cán Bộ Kiến Hưng",
        password=factories.PASSWORD,
        role=Role.WARD_STAFF,
        ward=ward,
    )
    db.session.commit()
    return ward


def test_every_refusal_is_committed_to_the_log_without_the_password(
    client, world, other_ward, caplog
):
    caplog.set_level(logging.INFO, logger="portal.security")
    staff, mttq = world.users["ward_staff"], world.users["mttq"]
    mttq.active = False
    db.session.commit()

    wrong = login(client, staff.email, WRONG_PASSWORD)
    unknown = login(client, TYPED_BY_MISTAKE, WRONG_PASSWORD)
    inactive = login(client, mttq.email)  # the right password of a disabled account
    other = login(client, "khac@example.vn")  # the right password, another ward's account
    for response in (wrong, unknown, inactive, other):
        assert response.status_code == 422
    # One message for a wrong password, an unknown account and a disabled one.
    assert error_of(wrong) == error_of(unknown) == error_of(inactive)
    assert not logged_in(client)

    entries = logins(committed_entries())
    assert [(e["action"], e["data"].get("reason")) for e in entries] == [
        ("login_refused", "password"),
        ("login_refused", "unknown"),
        ("login_refused", "inactive"),
        ("login_refused", "other-ward"),
    ]
    assert [e["data"].get("account") for e in entries] == [
        staff.email,
        None,
        mttq.email,
        "khac@example.vn",
    ]
    assert entries[0]["data"]["failures"] == 1
    for entry in entries:
        # Whoever typed it proved nothing: no actor; the place is this ward's login page.
        assert (entry["actor_id"], entry["actor_kind"]) == (None, "visitor")
        assert entry["subject_id"] == world.ward.id
        assert entry["ip_address"] == "127.0.0.1"
    stored = json.dumps([e["data"] for e in entries], ensure_ascii=False)
    for secret in (WRONG_PASSWORD, factories.PASSWORD, TYPED_BY_MISTAKE.lower()):
        assert secret.lower() not in stored.lower()
    # The server's log has the same events, and no password either.
    assert f"login refused: account={staff.id}" in caplog.text
    assert "reason=unknown" in caplog.text
    assert WRONG_PASSWORD not in caplog.text and TYPED_BY_MISTAKE not in caplog.text


def test_a_lockout_and_the_refusals_while_locked_are_entries(client, world):
    staff = world.users["ward_staff"]
    for _ in range(5):
        assert login(client, staff.email, WRONG_PASSWORD).status_code == 422
    assert login(client, staff.email).status_code == 422  # locked: the right password too

    entries = logins(committed_entries())
    assert [e["action"] for e in entries] == ["login_refused"] * 4 + ["lockout", "login_refused"]
    assert [e["data"].get("failures") for e in entries[:5]] == [1, 2, 3, 4, 5]
    lockout, locked = entries[4], entries[5]
    assert lockout["data"] == {
        "account": staff.email,
        "account_id": staff.id,
        "reason": "password",
        "failures": 5,
        "minutes": 15,
    }
    assert locked["data"]["reason"] == "locked"


def test_a_successful_login_is_an_entry_of_the_staff_member(client, world):
    staff = world.users["mttq"]
    assert login(client, staff.email).status_code == 303
    [entry] = logins(committed_entries())
    assert entry["action"] == "login"
    assert (entry["actor_id"], entry["actor_kind"]) == (staff.id, "staff")
    assert entry["data"] == {"account": staff.email, "account_id": staff.id}


def test_admins_filter_login_events_on_the_log_page_and_in_the_csv(client, auth, world):
    staff = world.users["ward_staff"]
    privacy_view = factories.file(world, petitioner_phone="0912345678")
    login(client, staff.email, WRONG_PASSWORD)
    login(client, TYPED_BY_MISTAKE, WRONG_PASSWORD)
    auth.as_role(world, "admin")
    client.get(f"/quan-ly/kien-nghi/{privacy_view.code}")  # a view of personal data

    page = client.get("/quan-ly/nhat-ky-du-lieu?nhom=dang-nhap")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="nhom"' in body and "Loại sự kiện" in body
    assert body.count('<tr id="audit-') == 3  # two refusals, the admin's login
    assert body.count("<td>đăng nhập bị từ chối</td>") == 2
    assert body.count("<td>đăng nhập</td>") == 1
    assert "lý do: sai mật khẩu" in body and "lý do: tài khoản không tồn tại" in body
    assert staff.email in body
    assert TYPED_BY_MISTAKE not in body and WRONG_PASSWORD not in body
    assert "<td>xem thông tin cá nhân</td>" not in body

    data_only = client.get("/quan-ly/nhat-ky-du-lieu?nhom=du-lieu").get_data(as_text=True)
    assert data_only.count('<tr id="audit-') == 1
    assert "<td>xem thông tin cá nhân</td>" in data_only
    refused_only = client.get("/quan-ly/nhat-ky-du-lieu?hanh_dong=login_refused")
    assert refused_only.get_data(as_text=True).count('<tr id="audit-') == 2

    text = client.get("/quan-ly/nhat-ky-du-lieu.csv?nhom=dang-nhap").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    assert sorted(row[4] for row in rows) == ["đăng nhập", *["đăng nhập bị từ chối"] * 2]
    accounts_column = {row[2] for row in rows}
    assert accounts_column == {"admin@example.vn", staff.email, "tài khoản không tồn tại"}
    assert TYPED_BY_MISTAKE not in text and WRONG_PASSWORD not in text

    bad = client.get("/quan-ly/nhat-ky-du-lieu?nhom=mat-khau")
    assert bad.status_code == 422
    assert "Lựa chọn không hợp lệ." in bad.get_data(as_text=True)


def test_nothing_is_logged_for_a_form_that_was_not_filled_in(client, world):
    assert client.post("/dang-nhap", data={"email": "", "password": ""}).status_code == 422
    assert logins(committed_entries()) == []
    assert db.session.scalar(select(User).where(User.email == "")) is None
