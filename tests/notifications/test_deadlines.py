"""``flask portal deadlines``: who is told of near and passed dates, once, and the escalation."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.extensions import db
from portal.meetings.models import ConclusionNotice, ItemStatus, NoticeItem
from portal.notifications.models import MailOptOut, NotificationKind
from portal.notifications.services import STAFF_DEADLINES, STAFF_ESCALATION
from portal.petitions import services
from portal.petitions.services import due_state
from portal.timeutil import frozen_clock, local_today, utcnow
from tests import factories
from tests.notifications.conftest import link_in, outbox

K = NotificationKind
# A Wednesday morning in Hà Nội: "due soon" (3 working days) never spans a weekend oddly.
NOW = datetime(2026, 11, 18, 1, 0)


def run_deadlines(app) -> str:
    result = app.test_cli_runner().invoke(args=["portal", "deadlines"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    return result.output


def overdue_petition(world, unit_key="infra", title="Cống thoát nước tắc lâu ngày", **filing):
    """Filed and assigned 40 days ago with a 10-day promise: overdue now."""
    with frozen_clock(utcnow() - timedelta(days=40)):
        petition = factories.file(world, title=title, **filing)
        factories.assign(world, petition, unit_key, expected_on=local_today() + timedelta(days=10))
    assert due_state(petition) == "overdue"
    return petition


def due_soon_petition(world, unit_key="infra", title="Đèn đường hỏng ngõ 3"):
    petition = factories.file(world, title=title)
    factories.assign(world, petition, unit_key, expected_on=local_today() + timedelta(days=1))
    assert due_state(petition) == "due_soon"
    return petition


def overdue_item(world, text="Nạo vét mương thoát nước khu Nhân Trạch") -> NoticeItem:
    notice = ConclusionNotice(number="07-TB/BCĐ", title="Kết luận hội nghị", full_text="…")
    item = NoticeItem(
        notice=notice,
        ref="3",
        text=text,
        expected_on=local_today() - timedelta(days=2),
        status=ItemStatus.IN_PROGRESS,
    )
    db.session.add_all([notice, item])
    db.session.commit()
    assert item.is_overdue
    return item


def emails(*roles, world) -> set[str]:
    return {world.users[r].email for r in roles}


def test_due_soon_goes_to_the_lead_units_staff_once(app, world):
    with frozen_clock(NOW):
        petition = due_soon_petition(world)
        due_soon_petition(world, "waste", title="Rác chợ")
        before = len(outbox())
        output = run_deadlines(app)
        assert "2 kiến nghị sắp đến hạn" in output
        alerts = outbox(kind=K.DUE_SOON)
        expected = emails("unit_staff", "other_unit_staff", world=world)
        assert {n.recipient for n in alerts} == expected
        alert = next(n for n in alerts if n.recipient == world.users["unit_staff"].email)
        assert petition.code in alert.subject and "sắp đến hạn" in alert.subject
        assert petition.title in alert.body_text
        assert f"/quan-ly/kien-nghi/{petition.code}" in alert.body_text
        assert alert.topic == STAFF_DEADLINES and alert.petition_id == petition.id
        # Nothing overdue: no escalation, nothing else.
        assert len(outbox()) == before + 2

        run_deadlines(app)
        assert len(outbox()) == before + 2


def test_overdue_alerts_the_unit_and_escalates_once(app, world):
    with frozen_clock(NOW):
        first = overdue_petition(world, petitioner_name="Bí Mật Riêng")
        second = overdue_petition(world, "waste", title="Rác tồn đọng chợ")
        soon = due_soon_petition(world)
        output = run_deadlines(app)
        assert "2 kiến nghị và 0 mục thông báo mới quá hạn" in output

        overdue = outbox(kind=K.OVERDUE)
        assert sorted((n.recipient, n.petition_id) for n in overdue) == sorted(
            [
                (world.users["unit_staff"].email, first.id),
                (world.users["other_unit_staff"].email, second.id),
            ]
        )
        assert all("quá hạn" in n.subject for n in overdue)

        escalations = outbox(kind=K.ESCALATION)
        # One message per ward staff and MTTQ account, listing every newly overdue petition.
        assert sorted(n.recipient for n in escalations) == sorted(
            emails("ward_staff", "mttq", world=world)
        )
        for message in escalations:
            assert message.topic == STAFF_ESCALATION
            for petition in (first, second):
                assert petition.code in message.body_text
                assert f"/quan-ly/kien-nghi/{petition.code}" in message.body_html
            assert soon.code not in message.body_text  # due soon is the unit's business
            assert "Bí Mật Riêng" not in message.body_text
            assert "2 kiến nghị" in message.subject
        assert world.users["admin"].email not in {n.recipient for n in outbox()}

        count = len(outbox())
        run_deadlines(app)
        assert len(outbox()) == count

    # The next day: still overdue, but already reported: nothing new.
    with frozen_clock(NOW + timedelta(days=1)):
        output = run_deadlines(app)
        assert "0 kiến nghị và 0 mục thông báo mới quá hạn" in output
        assert len(outbox()) == count


def test_escalation_lists_only_what_is_newly_overdue(app, world):
    with frozen_clock(NOW):
        old = overdue_petition(world)
        later = due_soon_petition(world, title="Vỉa hè bong tróc")  # due tomorrow
        run_deadlines(app)
        assert len(outbox(kind=K.ESCALATION)) == 2
    with frozen_clock(NOW + timedelta(days=5)):
        assert due_state(later) == "overdue"
        output = run_deadlines(app)
        assert "1 kiến nghị và 0 mục thông báo mới quá hạn" in output
        newest = outbox(kind=K.ESCALATION)[2:]
        assert {n.recipient for n in newest} == emails("ward_staff", "mttq", world=world)
        for message in newest:
            assert later.code in message.body_text
            assert old.code not in message.body_text
    assert [n.petition_id for n in outbox(kind=K.DUE_SOON)] == [later.id]
    assert sorted(n.petition_id for n in outbox(kind=K.OVERDUE)) == sorted([old.id, later.id])


def test_a_changed_due_date_alerts_again(app, world):
    with frozen_clock(NOW):
        petition = due_soon_petition(world)
        run_deadlines(app)
        run_deadlines(app)
        assert len(outbox(kind=K.DUE_SOON)) == 1
        services.post_update(
            petition,
            world.users["unit_staff"],
            public_note="Chờ vật tư, lùi ngày hoàn thành.",
            expected_on=local_today() + timedelta(days=2),
        )
        db.session.commit()
        assert due_state(petition) == "due_soon"
        run_deadlines(app)
        alerts = outbox(kind=K.DUE_SOON)
        assert len(alerts) == 2
        assert (local_today() + timedelta(days=2)).strftime("%d/%m/%Y") in alerts[-1].subject
        run_deadlines(app)
        assert len(outbox(kind=K.DUE_SOON)) == 2


def test_overdue_notice_items_join_the_escalation(app, world):
    with frozen_clock(NOW):
        item = overdue_item(world)
        done = overdue_item(world, text="Lắp đèn chiếu sáng ngõ 5")
        done.status = ItemStatus.DONE
        db.session.commit()
        output = run_deadlines(app)
        assert "0 kiến nghị và 1 mục thông báo mới quá hạn" in output
        escalations = outbox(kind=K.ESCALATION)
        assert {n.recipient for n in escalations} == emails("ward_staff", "mttq", world=world)
        for message in escalations:
            assert "Nạo vét mương" in message.body_text
            assert "07-TB/BCĐ 3" in message.body_text
            assert f"/hoi-nghi/muc/{item.id}" in message.body_text
            assert "Lắp đèn chiếu sáng" not in message.body_text
        assert outbox(kind=K.OVERDUE) == []  # items are not petitions of a unit
        run_deadlines(app)
        assert len(outbox(kind=K.ESCALATION)) == 2


def test_opt_outs_and_inactive_accounts(app, world, client):
    world.users["mttq"].active = False
    db.session.add(MailOptOut(email=world.users["unit_staff"].email, scope=STAFF_DEADLINES))
    db.session.commit()
    with frozen_clock(NOW):
        overdue_petition(world)
        due_soon_petition(world, "waste", title="Rác chợ")
        run_deadlines(app)
        alerts = (K.DUE_SOON, K.OVERDUE, K.ESCALATION)
        recipients = [n.recipient for n in outbox() if n.kind in alerts]
        assert world.users["unit_staff"].email not in recipients
        assert world.users["mttq"].email not in recipients
        assert world.users["other_unit_staff"].email in recipients  # due soon, not opted out
        [escalation] = outbox(kind=K.ESCALATION)
        assert escalation.recipient == world.users["ward_staff"].email

        # The escalation's one-click unsubscribe stops the next ones.
        assert client.get(link_in(escalation.body_text, "/theo-doi/huy/")).status_code == 200
    with frozen_clock(NOW + timedelta(days=1)):
        overdue_petition(world, title="Ổ gà đường làng")
        run_deadlines(app)
        assert len(outbox(kind=K.ESCALATION)) == 1


def test_staff_get_alerts_in_their_language(app, world):
    world.users["unit_staff"].locale = "en"
    db.session.commit()
    with frozen_clock(NOW):
        overdue_petition(world)
        run_deadlines(app)
    [alert] = outbox(kind=K.OVERDUE)
    assert alert.locale == "en"
    assert "overdue" in alert.subject.lower()
