"""Who gets what: the petitioner, followers, unit staff; nothing internal, nothing personal."""

from __future__ import annotations

from datetime import date, timedelta

from portal.extensions import db
from portal.notifications.models import Follow, NotificationKind
from portal.petitions import services
from portal.timeutil import utcnow
from tests import factories
from tests.notifications.conftest import outbox

K = NotificationKind
PETITIONER = {
    "petitioner_name": "Nguyễn Thị Riêngtư",
    "petitioner_phone": "0912345678",
    "petitioner_email": "rieng.tu@example.vn",
    "petitioner_address": "Số 99 ngõ Bí Mật",
}
PERSONAL = list(PETITIONER.values())
INTERNAL = "Ghi chú nội bộ: chưa báo lãnh đạo"


def follower(email: str, *, petition=None, area=None, confirmed=True, locale="vi") -> Follow:
    target = f"petition:{petition.id}" if petition else f"area:{area.id}"
    row = Follow(
        email=email,
        target=target,
        petition=petition,
        area=area,
        locale=locale,
        confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def in_progress(world, **petitioner):
    petition = factories.assign(world, factories.file(world, **petitioner))
    services.post_update(
        petition, world.users["unit_staff"], public_note="Đã khảo sát hiện trường."
    )
    db.session.commit()
    return petition


def assert_private(notification) -> None:
    for body in (notification.subject, notification.body_text, notification.body_html):
        leaked = [v for v in [*PERSONAL, INTERNAL] if v in body]
        assert not leaked, f"{notification.kind} to {notification.recipient} shows {leaked}"


def test_petitioner_gets_the_receipt_with_code_and_private_link(app, world):
    petition = factories.file(world, **PETITIONER)
    [receipt] = outbox(recipient=PETITIONER["petitioner_email"])
    assert receipt.kind == K.RECEIVED
    assert receipt.locale == "vi"
    assert petition.code in receipt.subject
    for body in (receipt.body_text, receipt.body_html):
        assert petition.code in body
        assert f"/cua-toi/{petition.private_token}" in body
        assert f"/kien-nghi/{petition.code}" in body
        assert "/theo-doi/huy/" in body
    assert receipt.unsubscribe_url and "/theo-doi/huy/" in receipt.unsubscribe_url


def test_no_email_no_message(app, world):
    petition = factories.file(world)
    assert outbox() == []
    factories.assign(world, petition)
    assert [n.kind for n in outbox()] == [K.ASSIGNED]  # to the unit's staff only


def test_petitioner_gets_status_changes_and_public_updates_only(app, world):
    petition = in_progress(world, **PETITIONER)
    email = PETITIONER["petitioner_email"]
    kinds = [n.kind for n in outbox(recipient=email)]
    # received; assigned (a status change); in progress with a public note
    assert kinds == [K.RECEIVED, K.UPDATE, K.UPDATE]

    # An internal-only update, a staff edit without a public note, a photo: nothing.
    services.post_update(
        petition, world.users["unit_staff"], public_note="", internal_note=INTERNAL
    )
    services.edit(petition, world.users["ward_staff"], title="Điểm rác tự phát đầu ngõ 12A")
    db.session.commit()
    assert len(outbox(recipient=email)) == 3

    services.post_update(
        petition,
        world.users["unit_staff"],
        public_note="Đã thu gom một phần.",
        internal_note=INTERNAL,
        expected_on=date.today() + timedelta(days=10),
    )
    db.session.commit()
    update = outbox(recipient=email)[-1]
    assert update.kind == K.UPDATE
    assert "Đã thu gom một phần." in update.body_text
    assert INTERNAL not in update.body_text and INTERNAL not in update.body_html
    assert f"/cua-toi/{petition.private_token}" in update.body_text


def test_petitioner_is_asked_to_rate_the_result(app, world):
    petition = in_progress(world, **PETITIONER)
    services.resolve(petition, world.users["unit_staff"], public_note="Đã thu gom, lắp biển cấm.")
    db.session.commit()
    resolved = outbox(recipient=PETITIONER["petitioner_email"])[-1]
    assert resolved.kind == K.RESOLVED
    assert "Đã thu gom, lắp biển cấm." in resolved.body_text
    assert "hài lòng" in resolved.body_text
    assert f"/cua-toi/{petition.private_token}" in resolved.body_html


def test_what_the_petitioner_did_is_not_mailed_back(app, world):
    petition = in_progress(world, **PETITIONER)
    before = len(outbox())
    services.add_information(petition, "Rác lại bị đổ tối qua.", [])
    db.session.commit()
    assert len(outbox()) == before


def test_unit_staff_get_new_assignments_of_their_unit_only(app, world):
    petition = factories.file(world, **PETITIONER)
    factories.assign(world, petition, "infra", support_units=[world.units["police"]])
    [assigned] = outbox(kind=K.ASSIGNED)
    assert assigned.recipient == world.users["unit_staff"].email
    assert petition.code in assigned.subject and petition.code in assigned.body_text
    assert petition.title in assigned.body_text
    assert f"/quan-ly/kien-nghi/{petition.code}" in assigned.body_text
    assert "chủ trì" in assigned.body_text
    assert_private(assigned)

    # The same unit again (new date): no second message. A new supporting unit: its staff.
    services.assign(
        petition,
        world.users["ward_staff"],
        services.AssignmentPlan(
            lead_unit=world.units["infra"],
            support_units=[world.units["waste"]],
            expected_on=date.today() + timedelta(days=30),
        ),
    )
    db.session.commit()
    assigned = outbox(kind=K.ASSIGNED)
    assert [n.recipient for n in assigned] == [
        world.users["unit_staff"].email,
        world.users["other_unit_staff"].email,
    ]
    assert "phối hợp" in assigned[-1].body_text
    assert_private(assigned[-1])


def test_inactive_unit_staff_get_nothing(app, world):
    world.users["unit_staff"].active = False
    db.session.commit()
    factories.assign(world, factories.file(world))
    assert outbox(kind=K.ASSIGNED) == []


def test_confirmed_followers_get_public_changes_without_personal_data(app, world):
    petition = factories.file(world, **PETITIONER)
    follower("theo.doi@example.vn", petition=petition)
    follower("chua.xac.nhan@example.vn", petition=petition, confirmed=False)
    factories.assign(world, petition)
    services.post_update(
        petition, world.users["unit_staff"], public_note="Đã khảo sát.", internal_note=INTERNAL
    )
    services.post_update(
        petition, world.users["unit_staff"], public_note="", internal_note=INTERNAL
    )
    db.session.commit()
    services.add_information(petition, "Gọi tôi: 0912345678, Số 99 ngõ Bí Mật", [])
    db.session.commit()

    assert outbox(recipient="chua.xac.nhan@example.vn") == []
    updates = outbox(recipient="theo.doi@example.vn")
    assert [n.kind for n in updates] == [K.FOLLOW_UPDATE, K.FOLLOW_UPDATE]
    assert "Đã khảo sát." in updates[-1].body_text
    for notification in updates:
        assert_private(notification)
        assert f"/kien-nghi/{petition.code}" in notification.body_text
        assert "/cua-toi/" not in notification.body_text
        assert notification.topic.startswith("follow:")


def test_area_followers_hear_of_new_petitions_there(app, world):
    follower("to.nhan.trach@example.vn", area=world.west)
    follower("to.la.duong@example.vn", area=world.east)
    west = factories.file(world, **PETITIONER)
    [new] = outbox(recipient="to.nhan.trach@example.vn")
    assert new.kind == K.AREA_NEW
    assert west.code in new.subject and world.west.name in new.subject
    assert_private(new)
    assert outbox(recipient="to.la.duong@example.vn") == []
    # A status change is for petition followers, not area followers.
    factories.assign(world, west)
    assert len(outbox(recipient="to.nhan.trach@example.vn")) == 1


def test_one_message_per_event_and_address(app, world):
    petition = factories.file(world, **PETITIONER)
    follower(PETITIONER["petitioner_email"], petition=petition)
    factories.assign(world, petition)
    kinds = [n.kind for n in outbox(recipient=PETITIONER["petitioner_email"])]
    assert kinds == [K.RECEIVED, K.UPDATE]


def test_english_readers_get_english(app, world):
    petition = factories.file(world)
    follower("reader@example.com", petition=petition, locale="en")
    factories.assign(world, petition)
    [update] = outbox(recipient="reader@example.com")
    assert update.locale == "en"
    assert "assigned" in update.subject.lower()  # the status label, from the catalogue


def test_filing_in_english_on_the_web(app, world, client):
    client.post("/ngon-ngu/en", data={"next": "/"})
    lat, lon = factories.INSIDE_WEST
    response = client.post(
        "/kien-nghi/moi",
        data={
            "category_id": str(world.categories["ve-sinh-moi-truong"].id),
            "title": "Rubbish dumped at the lane",
            "description": "Household waste piled up, smelling.",
            "latitude": str(lat),
            "longitude": str(lon),
            "petitioner_email": "expat@example.com",
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    [receipt] = outbox(recipient="expat@example.com")
    assert receipt.locale == "en"
    petition = receipt.petition
    factories.assign(world, petition)
    assert outbox(recipient="expat@example.com")[-1].locale == "en"


def test_notifications_can_be_switched_off(app, world):
    app.config["NOTIFICATIONS_ENABLED"] = False
    factories.assign(world, factories.file(world, **PETITIONER))
    assert outbox() == []


def test_staff_hear_when_the_petitioner_is_not_satisfied(app, world):
    petition = in_progress(world, **PETITIONER)
    follower("theo.doi@example.vn", petition=petition)
    services.resolve(petition, world.users["unit_staff"], public_note="Đã thu gom.")
    db.session.commit()
    before = {n.id for n in outbox()}
    services.reopen_by_petitioner(petition, "Rác vẫn còn nguyên, chưa ai đến dọn.")
    db.session.commit()

    reopened = outbox(kind=K.REOPENED)
    # Every ward staff account and the staff of the lead unit; not the other unit, not
    # MTTQ or admins, not the petitioner (who did it).
    assert sorted(n.recipient for n in reopened) == sorted(
        [world.users["ward_staff"].email, world.users["unit_staff"].email]
    )
    for message in reopened:
        assert message.id not in before
        assert petition.code in message.subject
        assert "chưa hài lòng" in message.subject and "mở lại" in message.subject
        assert petition.title in message.body_text
        assert "Rác vẫn còn nguyên, chưa ai đến dọn." in message.body_text  # staff may read it
        assert "Rác vẫn còn nguyên" in message.body_html
        assert f"/quan-ly/kien-nghi/{petition.code}" in message.body_text
        assert message.topic == "staff-reopened"
    new = [n for n in outbox() if n.id not in before]
    assert PETITIONER["petitioner_email"] not in {n.recipient for n in new}
    # The follower hears of the status change, without the petitioner's words.
    [update] = [n for n in new if n.recipient == "theo.doi@example.vn"]
    assert update.kind == K.FOLLOW_UPDATE
    assert "Rác vẫn còn nguyên" not in update.body_text


def test_reopen_messages_once_per_event_and_opt_out(app, world):
    from portal.notifications.models import MailOptOut

    db.session.add(MailOptOut(email=world.users["ward_staff"].email, scope="staff-reopened"))
    world.users["unit_staff"].locale = "en"
    db.session.commit()
    petition = in_progress(world)
    for round_ in range(2):
        services.resolve(petition, world.users["unit_staff"], public_note="Đã thu gom.")
        db.session.commit()
        services.reopen_by_petitioner(petition, None)
        db.session.commit()
        assert len(outbox(kind=K.REOPENED)) == round_ + 1  # one per event
    reopened = outbox(kind=K.REOPENED)
    assert {n.recipient for n in reopened} == {world.users["unit_staff"].email}
    assert len({n.dedup_key for n in reopened}) == 2
    assert all(n.locale == "en" for n in reopened)

    # A staff reopen is not the petitioner's: no such message.
    services.resolve(petition, world.users["unit_staff"], public_note="Xong.")
    db.session.commit()
    services.reopen(petition, world.users["ward_staff"], reason="Kiểm tra lại hiện trường.")
    db.session.commit()
    assert len(outbox(kind=K.REOPENED)) == 2
