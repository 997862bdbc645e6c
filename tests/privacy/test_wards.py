"""One database, many wards: the log, requests and erasure keep to this deployment's ward."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from portal.accounts.models import Role
from portal.accounts.services import create_user
from portal.extensions import db
from portal.petitions import services as petitions
from portal.petitions.models import Petition
from portal.privacy import services as privacy
from portal.timeutil import frozen_clock
from portal.units.models import Area, Ward
from tests import factories
from tests.privacy.conftest import CONTACT, EMAIL, close, file_with_contact

LONG_AGO = datetime(2023, 3, 1, 2, 0)


def _square(west, south, east, north) -> dict:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def theirs(world):
    """Phường Hoàn Kiếm in the same database: a petition by the same person, closed long ago,
    and one of its staff."""
    ward = Ward(
        code="00070",
        name="Phường Hoàn Kiếm",
        province_code="01",
        province_name="Thành phố Hà Nội",
        boundary=_square(105.84, 21.02, 105.86, 21.04),
    )
    db.session.add_all([ward, Area(ward=ward, name="Tổ dân phố số 1")])
    db.session.commit()
    with frozen_clock(LONG_AGO):
        petition = petitions.file_petition(
            ward,
            petitions.Filing(
                category=world.categories["thoat-nuoc"],
                title="Cống thoát nước bị tắc gây ngập",
                description="Nước ngập đến đầu gối mỗi khi mưa.",
                latitude=21.03,
                longitude=105.85,
                **CONTACT,
            ),
        )
        db.session.commit()
        close(world, petition)
    staff = create_user(
        email="canbo@hoankiem.example.vn",
        full_name="Cán Bộ Hoàn Kiếm",
        password=factories.PASSWORD,
        role=Role.WARD_STAFF,
        ward=ward,
    )
    db.session.commit()
    return petition, staff


def test_anonymise_expired_keeps_to_this_ward_unless_told(app, world, theirs):
    their_petition, _staff = theirs
    with frozen_clock(LONG_AGO):
        ours = close(world, file_with_contact(world))
    runner = app.test_cli_runner()

    result = runner.invoke(args=["portal", "anonymise-expired"])
    assert "Phường Dương Nội, thời hạn lưu trữ 730 ngày." in result.output
    assert "Đã xóa thông tin cá nhân của 1 kiến nghị" in result.output
    db.session.expire_all()
    assert db.session.get(Petition, ours.id).petitioner_email is None
    assert db.session.get(Petition, their_petition.id).petitioner_email == EMAIL

    result = runner.invoke(args=["portal", "anonymise-expired", "--all-wards"])
    assert "Mọi phường/xã" in result.output
    assert "Đã xóa thông tin cá nhân của 1 kiến nghị" in result.output
    db.session.expire_all()
    assert db.session.get(Petition, their_petition.id).petitioner_email is None


def test_the_log_shows_this_wards_staff_and_petitions_only(client, auth, world, theirs):
    their_petition, their_staff = theirs
    ours = file_with_contact(world)
    privacy.record("view", "petition", ours.id, actor=world.users["mttq"], data={"code": ours.code})
    privacy.record(
        "view", "petition", their_petition.id, actor=their_staff, data={"code": their_petition.code}
    )
    privacy.record("anonymise", "petition", their_petition.id, actor_kind="system")
    privacy.record("export", "report", actor=their_staff, data={"format": "xlsx"})
    # A login refused at their ward's portal.
    privacy.record(
        "login_refused",
        "login",
        their_petition.ward_id,
        actor_kind="visitor",
        data={"account": their_staff.email, "reason": "password"},
    )
    db.session.commit()

    auth.as_role(world, "admin")
    body = client.get("/quan-ly/nhat-ky-du-lieu").get_data(as_text=True)
    # Our petition's entry, and our admin's login at our portal.
    assert body.count('<tr id="audit-') == 2
    assert ours.code in body
    assert their_petition.code not in body and "Cán Bộ Hoàn Kiếm" not in body
    assert their_staff.email not in body and "sai mật khẩu" not in body
    csv = client.get("/quan-ly/nhat-ky-du-lieu.csv").get_data(as_text=True)
    assert ours.code in csv and their_petition.code not in csv


def test_a_request_finds_and_erases_only_this_wards_data(client, auth, world, theirs):
    their_petition, _staff = theirs
    ours = file_with_contact(world)
    auth.as_role(world, "admin")
    body = client.post("/quan-ly/du-lieu-ca-nhan", data={"email": EMAIL, "lam": "tim"}).get_data(
        as_text=True
    )
    assert ours.code in body and their_petition.code not in body

    client.post("/quan-ly/du-lieu-ca-nhan", data={"email": EMAIL, "lam": "xoa", "xac_nhan": "1"})
    db.session.expire_all()
    assert db.session.get(Petition, ours.id).petitioner_email is None
    assert db.session.get(Petition, their_petition.id).petitioner_email == EMAIL
    assert db.session.scalar(select(Petition.id).where(Petition.petitioner_email == EMAIL)) == (
        their_petition.id
    )
