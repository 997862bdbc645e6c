"""The outbox is written in the transaction of the change that causes it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from portal.extensions import db
from portal.notifications.models import Notification, NotificationKind, NotificationStatus
from portal.petitions import services
from portal.petitions.models import Petition, Status
from tests import factories
from tests.notifications.conftest import outbox

EMAIL = "nguoidan@example.vn"


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_filing_queues_the_receipt_in_the_same_transaction(app, world):
    filing = services.Filing(
        category=world.categories["ve-sinh-moi-truong"],
        title="Điểm rác tự phát đầu ngõ 12",
        description="Rác thải sinh hoạt đổ thành đống, bốc mùi.",
        latitude=factories.INSIDE_WEST[0],
        longitude=factories.INSIDE_WEST[1],
        petitioner_email=EMAIL,
    )
    services.file_petition(world.ward, filing)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Petition)) == 0
    assert count() == 0

    petition = services.file_petition(world.ward, filing)
    db.session.commit()
    [receipt] = outbox()
    assert receipt.kind == NotificationKind.RECEIVED
    assert receipt.petition_id == petition.id
    assert receipt.recipient == EMAIL
    assert receipt.status == NotificationStatus.QUEUED
    assert receipt.attempts == 0
    assert receipt.message_id.startswith("<") and receipt.message_id.endswith("@localhost>")


def test_a_rolled_back_change_leaves_no_notification(app, world):
    petition = factories.assign(world, factories.file(world, petitioner_email=EMAIL))
    before = count()
    services.resolve(petition, world.users["ward_staff"], public_note="Đã thu gom xong.")
    assert any(isinstance(o, Notification) for o in db.session.new)  # queued, not flushed
    db.session.rollback()
    assert count() == before
    assert db.session.get(Petition, petition.id).status == Status.ASSIGNED

    services.resolve(petition, world.users["ward_staff"], public_note="Đã thu gom xong.")
    db.session.commit()
    assert [n.kind for n in outbox(kind=NotificationKind.RESOLVED)] == [NotificationKind.RESOLVED]


def test_a_failed_commit_takes_its_notifications_with_it(app, world):
    """A change refused by the database (a stale version) queues nothing."""
    petition = factories.assign(world, factories.file(world, petitioner_email=EMAIL))
    before = count()
    services.resolve(petition, world.users["ward_staff"], public_note="Xong.")
    table = Petition.__table__
    with db.engine.begin() as other:  # someone else's change, committed first
        other.execute(
            table.update().where(table.c.id == petition.id).values(version=table.c.version + 5)
        )
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    assert count() == before


def test_dedup_key_is_unique(app, world):
    factories.file(world, petitioner_email=EMAIL)
    [first] = outbox()
    db.session.add(
        Notification(
            recipient=EMAIL,
            kind=NotificationKind.RECEIVED,
            subject="x",
            body_text="x",
            body_html="x",
            dedup_key=first.dedup_key,
            message_id="<x@localhost>",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_each_event_gets_its_own_message_id_and_key(app, world):
    petition = factories.assign(world, factories.file(world, petitioner_email=EMAIL))
    services.post_update(petition, world.users["ward_staff"], public_note="Đã khảo sát.")
    db.session.commit()
    services.post_update(petition, world.users["ward_staff"], public_note="Đang thu gom.")
    db.session.commit()
    rows = outbox(recipient=EMAIL)
    # received, assigned, in progress (first update), second update
    assert len({n.message_id for n in rows}) == len(rows) == 4
    assert len({n.dedup_key for n in rows}) == 4
