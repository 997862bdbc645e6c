"""Delivery through a real SMTP server (aiosmtpd on 127.0.0.1), retries, at-least-once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.notifications.models import NotificationKind, NotificationStatus
from portal.notifications.worker import Worker, backoff
from portal.timeutil import frozen_clock, utcnow
from tests import factories
from tests.notifications.conftest import outbox

EMAIL = "nguoidan@example.vn"


class Crash(BaseException):
    """The process dies: nothing in the worker catches this."""


def test_backoff_doubles_from_a_minute_up_to_six_hours():
    assert backoff(1) == timedelta(minutes=1)
    assert backoff(2) == timedelta(minutes=2)
    assert backoff(5) == timedelta(minutes=16)
    assert backoff(9) == timedelta(minutes=256)
    assert backoff(10) == timedelta(hours=6)
    assert backoff(40) == timedelta(hours=6)


def test_delivery_with_headers_and_both_parts(app, world, smtp_server, worker):
    app.config["MAIL_FROM"] = "Cổng kiến nghị <kien-nghi@phuong.example.vn>"
    petition = factories.file(world, petitioner_email=EMAIL)
    [queued] = outbox()
    result = worker.run_once()
    assert (result.claimed, result.sent) == (1, 1)

    [message] = smtp_server.wait_for(1)
    assert message["To"] == EMAIL
    assert "kien-nghi@phuong.example.vn" in message["From"]
    assert message["Subject"] == queued.subject
    assert message["Message-ID"] == queued.message_id
    assert message["Date"]
    assert message["List-Unsubscribe"] == f"<{queued.unsubscribe_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert petition.code in text and f"/cua-toi/{petition.private_token}" in text
    assert petition.code in html and "<html" in html

    [sent] = outbox()
    assert sent.status == NotificationStatus.SENT
    assert sent.sent_at is not None
    assert sent.attempts == 0 and sent.last_error is None
    # Nothing is sent twice.
    assert worker.run_once().claimed == 0
    assert len(smtp_server.messages) == 1


def test_server_down_then_up_delivers_exactly_once(app, world, smtp_down, worker):
    factories.file(world, petitioner_email=EMAIL)
    start = utcnow()
    result = worker.run_once()
    assert (result.claimed, result.retried, result.sent) == (1, 1, 0)
    [row] = outbox()
    assert row.status == NotificationStatus.QUEUED
    assert row.attempts == 1
    assert row.last_error
    assert row.next_attempt_at >= start + timedelta(minutes=1)

    smtp_down.start()
    assert worker.run_once().claimed == 0  # not due yet: it waits its minute
    assert smtp_down.messages == []
    with frozen_clock(utcnow() + timedelta(minutes=2)):
        assert worker.run_once().sent == 1
        assert worker.run_once().claimed == 0
    [row] = outbox()
    assert row.status == NotificationStatus.SENT
    assert row.attempts == 1
    assert len(smtp_down.wait_for(1)) == 1


def test_crash_between_send_and_mark_sends_again_with_the_same_message_id(
    app, world, smtp_server, worker, monkeypatch
):
    factories.file(world, petitioner_email=EMAIL)
    [row] = outbox()

    def crash(self, notification_id):
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(Worker, "mark_sent", crash)
        with pytest.raises(Crash):
            worker.run_once()
    db.session.rollback()
    assert len(smtp_server.wait_for(1)) == 1
    [row] = outbox()
    assert row.status == NotificationStatus.QUEUED  # the mark never happened
    assert row.next_attempt_at > utcnow()  # claimed: no other worker takes it at once

    # When the claim runs out, the message goes again: at least once, same Message-ID.
    with frozen_clock(utcnow() + worker.lease + timedelta(seconds=1)):
        assert worker.run_once().sent == 1
    first, second = smtp_server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == row.message_id
    assert first["Date"] == second["Date"]
    assert outbox()[0].status == NotificationStatus.SENT


def test_a_refused_mailbox_fails_at_once(app, world, smtp_server, worker):
    factories.file(world, petitioner_email="khong.co@refused.example")
    result = worker.run_once()
    assert result.failed == 1
    [row] = outbox()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == 1
    assert "550" in row.last_error
    assert smtp_server.messages == []


def test_gives_up_after_the_last_attempt(app, world, smtp_down, worker):
    factories.file(world, petitioner_email=EMAIL)
    [row] = outbox()
    row.attempts = worker.max_attempts - 1
    db.session.commit()
    assert worker.run_once().failed == 1
    [row] = outbox()
    assert row.status == NotificationStatus.FAILED
    assert row.attempts == worker.max_attempts


def test_one_connection_serves_a_batch_and_order_is_kept(app, world, smtp_server):
    for n in range(3):
        factories.file(world, petitioner_email=f"nguoi{n}@example.vn")
    worker = Worker(app, batch=2)
    assert worker.run_once().sent == 2
    assert worker.run_once().sent == 1
    recipients = [m["To"] for m in smtp_server.wait_for(3)]
    assert recipients == ["nguoi0@example.vn", "nguoi1@example.vn", "nguoi2@example.vn"]
    assert {n.kind for n in outbox()} == {NotificationKind.RECEIVED}


def test_a_message_that_cannot_be_built_fails_without_stopping_the_others(
    app, world, smtp_server, worker
):
    factories.file(world, petitioner_email="nguoi1@example.vn")
    factories.file(world, petitioner_email="nguoi2@example.vn")
    broken = outbox()[0]
    broken.recipient = "x@y\nBcc: victim@example.vn"  # header injection is refused
    db.session.commit()
    result = worker.run_once()
    assert (result.failed, result.sent) == (1, 1)
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["nguoi2@example.vn"]
    assert outbox()[0].status == NotificationStatus.FAILED


def test_the_loop_survives_a_failed_round(app, world, monkeypatch):
    calls = []

    def flaky(self):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        self.request_stop()
        return []

    monkeypatch.setattr(Worker, "claim", flaky)
    worker = Worker(app, poll_interval=0.01)
    worker.stop_event.wait = lambda timeout=None: None  # no real pause in the test
    worker.run()
    assert len(calls) == 2


def test_each_wards_worker_sends_its_own_wards_messages(app, world, smtp_server, worker):
    """A city's wards share the database; each ward's worker sends its own ward's mail,
    from its own address, and leaves the others' queued for their own worker."""
    other = factories.build_other_ward(world)
    db.session.commit()
    factories.file(world, petitioner_email="o-day@example.vn")
    for email in ("o-kia@example.vn", "tu-truoc@example.vn"):
        factories.file(other, category=world.categories["thoat-nuoc"], petitioner_email=email)
    assert {n.recipient: n.ward_id for n in outbox()} == {
        "o-day@example.vn": world.ward.id,
        "o-kia@example.vn": other.ward.id,
        "tu-truoc@example.vn": other.ward.id,
    }
    # A message from before messages had a ward: any ward's worker sends it.
    [legacy] = outbox(recipient="tu-truoc@example.vn")
    legacy.ward_id = None
    db.session.commit()

    app.config["MAIL_FROM"] = "Phường Dương Nội <kien-nghi@duongnoi.example.vn>"
    result = worker.run_once()
    assert (result.claimed, result.sent) == (2, 2)
    sent = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in sent) == ["o-day@example.vn", "tu-truoc@example.vn"]
    [waiting] = outbox(recipient="o-kia@example.vn")
    assert waiting.status == NotificationStatus.QUEUED and waiting.attempts == 0

    # The other ward's deployment: its worker, its address.
    app.config["MAIL_FROM"] = "Phường Hoàn Kiếm <kien-nghi@hoankiem.example.vn>"
    with factories.serving(app, factories.OTHER_WARD_CODE):
        result = Worker(app, batch=50).run_once()
    assert (result.claimed, result.sent) == (1, 1)
    last = smtp_server.wait_for(3)[-1]
    assert (last["To"], last["From"]) == (
        "o-kia@example.vn",
        "Phường Hoàn Kiếm <kien-nghi@hoankiem.example.vn>",
    )
    assert all(n.status == NotificationStatus.SENT for n in outbox())
