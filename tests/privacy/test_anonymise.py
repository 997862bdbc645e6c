"""``flask portal anonymise-expired``: personal data erased once a petition has been over for
longer than the retention period; everything the public sees stays exactly the same."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.notifications import services as mail
from portal.notifications.models import (
    Evidence,
    Follow,
    MailOptOut,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from portal.petitions import services as petitions
from portal.petitions.models import CoSignature, Petition, PetitionEvent, Status
from portal.timeutil import utcnow
from tests import factories
from tests.privacy.conftest import (
    ADDRESS,
    CO_EMAIL,
    CO_NAME,
    EMAIL,
    NAME,
    PHONE,
    at,
    audit_entries,
    close,
    co_sign,
    count,
    file_with_contact,
    follow,
)

LONG_AGO = datetime(2023, 3, 1, 2, 0)  # 09:00 in Vietnam


def run(app, *args):
    result = app.test_cli_runner().invoke(args=["portal", "anonymise-expired", *args])
    db.session.expire_all()
    return result


def reload(petition: Petition) -> Petition:
    db.session.expire_all()
    return db.session.get(Petition, petition.id)


def old_and_new(world):
    """Petitions over long ago (closed, rejected), one never finished, one just closed."""
    with at(LONG_AGO):
        closed = file_with_contact(world)
        co_sign(closed)
        co_sign(closed, name="Người Thứ Ba", phone=None, email=None)
        follower = follow(closed)
        mail.record_evidence(mail.evidence_token(follower, still_there=False))
        db.session.add(MailOptOut(email=EMAIL, scope=f"petition:{closed.code}"))
        db.session.commit()
        rejected = file_with_contact(
            world, title="Quảng cáo dán trên cột điện", petitioner_email="khac@example.vn"
        )
        petitions.reject(rejected, world.users["ward_staff"], reason="Không thuộc phạm vi.")
        db.session.commit()
        still_open = file_with_contact(world, title="Cống thoát nước bị tắc ở ngõ 5")
    with at(LONG_AGO + timedelta(days=3)):
        close(world, closed, rating="Cảm ơn phường đã xử lý.")
    # The receipt went out at the time; later messages are still queued.
    receipt = db.session.scalar(
        select(Notification).where(
            Notification.petition_id == closed.id, Notification.kind == NotificationKind.RECEIVED
        )
    )
    receipt.status = NotificationStatus.SENT
    receipt.sent_at = LONG_AGO
    db.session.commit()
    fresh = close(world, file_with_contact(world, title="Đèn đường hỏng trước nhà văn hóa"))
    co_sign_fresh = factories.file(world, title="Rác ở bãi đất trống")  # co-signed, open
    co_sign(co_sign_fresh)
    return closed, rejected, still_open, fresh


CSRF = re.compile(r'name="csrf_token" value="[^"]*"')


def public_view(client, codes) -> dict[str, bytes]:
    """What anyone can fetch: pages, statistics, open data, feeds, the API, the map."""
    paths = [
        "/",
        "/kien-nghi",
        "/kien-nghi?q=rac",
        "/thong-ke",
        "/du-lieu-mo/kien-nghi.csv",
        "/du-lieu-mo/kien-nghi.json",
        "/du-lieu-mo/dong-thoi-gian.csv",
        "/du-lieu-mo/dong-thoi-gian.json",
        "/ban-do/du-lieu.geojson",
        "/open311/v2/requests.json?start_date=2023-01-01T00:00:00Z&end_date=2023-03-31T00:00:00Z",
    ]
    for code in codes:
        paths += [f"/kien-nghi/{code}", f"/feeds/kien-nghi/{code}.atom"]
        paths += [f"/open311/v2/requests/{code}.json"]
    seen = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        seen[path] = CSRF.sub("", response.get_data(as_text=True))
    return seen


def test_expired_personal_data_is_erased_and_the_public_sees_no_change(app, client, world):
    closed, rejected, still_open, fresh = old_and_new(world)
    events = count(PetitionEvent)
    co_signers = petitions.co_signer_count(closed)
    kept = {p.id: (p.version, p.updated_at, p.status) for p in (closed, rejected)}
    staff_messages = {
        n.id: n.recipient
        for n in db.session.scalars(select(Notification))
        if n.recipient.endswith("@example.vn") and n.recipient.startswith(("canbo", "donvi"))
    }
    before = public_view(client, [closed.code, rejected.code, fresh.code])

    preview = run(app, "--dry-run")
    assert preview.exit_code == 0, preview.output
    assert "Chạy thử" in preview.output
    assert "Sẽ xóa thông tin cá nhân của 2 kiến nghị" in preview.output
    assert closed.code in preview.output and rejected.code in preview.output
    assert reload(closed).petitioner_name == NAME
    assert audit_entries() == []

    result = run(app)
    assert result.exit_code == 0, result.output
    assert "Đã xóa thông tin cá nhân của 2 kiến nghị" in result.output
    assert "người kiến nghị còn thông tin liên hệ: 2" in result.output
    assert "người cùng kiến nghị: 2" in result.output
    assert "người theo dõi: 2" in result.output  # the follower, and the co-signer asked to
    assert "yêu cầu ngừng nhận thư: 1" in result.output

    for petition in (closed, rejected):
        petition = reload(petition)
        assert petition.petitioner_name is None
        assert petition.petitioner_phone is None
        assert petition.petitioner_email is None
        assert petition.petitioner_address is None
        assert petition.anonymised_at is not None
        assert (petition.version, petition.updated_at, petition.status) == kept[petition.id]
    signatures = db.session.scalars(
        select(CoSignature).where(CoSignature.petition_id == closed.id)
    ).all()
    assert [(c.name, c.phone, c.email) for c in signatures] == [(None, None, None)] * 2
    assert petitions.co_signer_count(closed) == co_signers
    follows = db.session.scalars(select(Follow).where(Follow.petition_id == closed.id)).all()
    assert follows and all("@" not in f.email and f.unsubscribed_at for f in follows)
    assert count(Evidence) == 1  # "is it still there?" counts stay on the public page
    assert count(MailOptOut) == 0
    for n in db.session.scalars(
        select(Notification).where(Notification.petition_id.in_([closed.id, rejected.id]))
    ):
        if n.id in staff_messages:
            assert n.recipient == staff_messages[n.id]  # staff addresses are not residents'
            continue
        assert (n.recipient, n.body_text, n.body_html, n.unsubscribe_url) == ("", "", "", None)
        assert n.status != NotificationStatus.QUEUED
        if n.kind == NotificationKind.RECEIVED and n.petition_id == closed.id:
            assert n.status == NotificationStatus.SENT  # sent long ago: only the address goes
        else:
            assert n.last_error == "anonymised"
    assert count(PetitionEvent) == events

    # What was not due is untouched: a petition still open, one just closed, a co-signature.
    for petition in (still_open, fresh):
        petition = reload(petition)
        assert (petition.petitioner_name, petition.petitioner_phone) == (NAME, PHONE)
        assert (petition.petitioner_email, petition.petitioner_address) == (EMAIL, ADDRESS)
        assert petition.anonymised_at is None
    assert db.session.scalar(
        select(CoSignature).where(CoSignature.email == CO_EMAIL, CoSignature.name == CO_NAME)
    )
    assert db.session.scalar(select(Follow).where(Follow.email == CO_EMAIL))
    assert db.session.scalar(
        select(Notification).where(
            Notification.petition_id == fresh.id, Notification.recipient == EMAIL
        )
    )

    entries = audit_entries(action="anonymise")
    assert sorted(e.subject_id for e in entries) == sorted([closed.id, rejected.id])
    assert all(e.actor_kind == "system" and e.actor_id is None for e in entries)
    assert {e.data["code"] for e in entries} == {closed.code, rejected.code}
    assert all(e.data["retention_days"] == 730 for e in entries)

    assert public_view(client, [closed.code, rejected.code, fresh.code]) == before

    again = run(app)
    assert again.exit_code == 0
    assert "Đã xóa thông tin cá nhân của 0 kiến nghị" in again.output
    assert len(audit_entries()) == 2


def test_staff_see_that_the_data_was_erased(app, client, auth, world):
    closed, *_rest = old_and_new(world)
    run(app)
    auth.as_role(world, "ward_staff")
    body = client.get(f"/quan-ly/kien-nghi/{closed.code}").get_data(as_text=True)
    assert "Thông tin cá nhân đã được xóa ngày" in body
    assert NAME not in body and PHONE not in body and CO_NAME not in body
    assert audit_entries(action="view") == []  # nothing personal left to see


def test_the_retention_period_comes_from_the_configuration(app, world):
    with at(utcnow() - timedelta(days=40)):
        petition = close(world, file_with_contact(world))
    assert "0 kiến nghị" in run(app).output

    app.config["PERSONAL_DATA_RETENTION_DAYS"] = 30
    result = run(app)
    assert "Phường Dương Nội, thời hạn lưu trữ 30 ngày." in result.output
    assert "Đã xóa thông tin cá nhân của 1 kiến nghị" in result.output
    assert reload(petition).petitioner_email is None


def test_a_retention_period_below_one_day_is_refused(app, world):
    app.config["PERSONAL_DATA_RETENTION_DAYS"] = -5
    result = run(app)
    assert result.exit_code != 0
    assert "PERSONAL_DATA_RETENTION_DAYS phải là số ngày lớn hơn 0." in result.output


def test_the_time_counts_from_the_end_not_from_filing(app, world):
    """Filed long ago but closed only recently: the petitioner's data stays."""
    with at(LONG_AGO):
        petition = file_with_contact(world)
    with at(utcnow() - timedelta(days=100)):
        close(world, petition)
    assert "0 kiến nghị" in run(app).output
    assert reload(petition).petitioner_phone == PHONE


def test_a_petition_reopened_after_erasure_is_erased_again_when_it_ends_again(app, world):
    with at(LONG_AGO):
        petition = close(world, file_with_contact(world))
    erased_on = LONG_AGO + timedelta(days=740)
    with at(erased_on):
        assert "Đã xóa thông tin cá nhân của 1 kiến nghị" in run(app).output
    staff = world.users["ward_staff"]
    with at(erased_on + timedelta(days=5)):
        petitions.reopen(reload(petition), staff, reason="Rác lại bị đổ.")
        db.session.commit()
        co_sign(reload(petition), name="Người Mới", phone=None, email="moi@example.vn")
    ended_again = erased_on + timedelta(days=15)
    with at(ended_again):
        petition = reload(petition)
        petitions.resolve(petition, staff, public_note="Đã thu gom lại.")
        petitions.close(petition, staff)
        db.session.commit()
    assert reload(petition).status == Status.CLOSED

    with at(ended_again + timedelta(days=10)):
        assert "0 kiến nghị" in run(app).output  # ended again only ten days before
    assert db.session.scalar(select(CoSignature).where(CoSignature.name == "Người Mới"))

    with at(ended_again + timedelta(days=731)):
        result = run(app)
    assert "Đã xóa thông tin cá nhân của 1 kiến nghị" in result.output
    assert "người cùng kiến nghị: 1" in result.output
    assert db.session.scalar(select(CoSignature).where(CoSignature.name == "Người Mới")) is None
    assert len(audit_entries(action="anonymise", subject_id=petition.id)) == 2


@pytest.mark.parametrize("status", ["merged", "cannot_resolve"])
def test_merged_and_impossible_petitions_count_as_ended(app, world, status):
    staff = world.users["ward_staff"]
    with at(LONG_AGO):
        survivor = factories.file(world, title="Điểm rác lớn ở đầu ngõ 12")
        petition = file_with_contact(world)
        if status == "merged":
            petitions.merge(petition, staff, into=survivor, public_note="Trùng nội dung.")
        else:
            factories.assign(world, petition)
            petitions.mark_cannot_resolve(
                petition, staff, reason="Đất tư nhân.", recommendation="Đề nghị chủ đất dọn."
            )
        db.session.commit()
    result = run(app)
    assert "Đã xóa thông tin cá nhân của 1 kiến nghị" in result.output, result.output
    assert reload(petition).petitioner_name is None
