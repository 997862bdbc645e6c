"""The outbox worker: ``flask portal worker [--once] [--batch N]``.

Each round claims up to ``N`` due messages, sends them over SMTP and marks each one sent
as soon as the server took it.

Claiming is one statement that moves the claimed rows' ``next_attempt_at`` a lease
(``NOTIFICATION_LEASE_SECONDS``, 15 minutes) into the future and commits: on PostgreSQL
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id``, so that several
workers never claim the same row; on SQLite the same statement runs under SQLite's single
write lock. Nothing is locked while talking to the mail server.

A failed attempt counts in ``attempts`` and waits 1 minute × 2^(attempts − 1), at most
6 hours; after ``NOTIFICATION_MAX_ATTEMPTS`` (10) the message is ``failed``. A refusal for
good (unknown mailbox) fails it at once. Admins see the queue at ``/quan-ly/thu-di``.

**At least once.** If the worker dies after the SMTP server accepted a message and before
the row is marked sent, the lease runs out and the message is sent again, with the same
``Message-ID`` (fixed when it was queued), which mail clients use to show it once.

**One ward's.** A city runs a deployment, and a worker, per ward on one database: each
worker sends its own ward's messages (``notification.ward_id``, the ward of the
petition or of the deployment that queued it) from its own ``MAIL_FROM`` and SMTP
account, never another ward's.

SIGTERM and SIGINT stop the worker cleanly: the message being sent is finished and
marked, claimed messages not yet tried are handed back, and the process exits 0.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import select, update

from portal.extensions import db
from portal.notifications.mailer import PermanentFailure, SMTPMailer, build_message
from portal.notifications.models import Notification, NotificationStatus
from portal.notifications.services import setting
from portal.timeutil import utcnow
from portal.units.services import of_this_ward

log = logging.getLogger(__name__)

BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=6)
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_LEASE_SECONDS = 15 * 60


def backoff(attempts: int) -> timedelta:
    """Wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most 6 hours."""
    return min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)


@dataclass
class RoundResult:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


class Worker:
    def __init__(self, app: Flask, *, batch: int = 20, poll_interval: float = 5.0, mailer=None):
        self.app = app
        self.batch = max(1, batch)
        self.poll_interval = poll_interval
        self.mailer = mailer
        self.stop_event = threading.Event()
        with app.app_context():
            attempts = setting("NOTIFICATION_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS)
            lease = setting("NOTIFICATION_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)
        self.max_attempts = int(attempts)
        self.lease = timedelta(seconds=int(lease))

    # -- stopping ----------------------------------------------------------------------

    def request_stop(self, signum=None, frame=None) -> None:
        if signum is not None:
            log.info("signal %s: stopping after the current message", signum)
        self.stop_event.set()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def install_signal_handlers(self) -> None:
        """SIGTERM and SIGINT ask for a clean stop (main thread only)."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    # -- the loop ------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> RoundResult:
        total = RoundResult()
        while not self.stopping:
            if once:
                result = self.run_once()
            else:
                try:
                    result = self.run_once()
                except Exception:  # a database hiccup must not end a long-running worker
                    log.exception("outbox round failed; trying again shortly")
                    db.session.rollback()
                    self.stop_event.wait(max(self.poll_interval, 5.0))
                    continue
            for name in ("claimed", "sent", "retried", "failed", "skipped"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if once:
                break
            if result.claimed < self.batch:
                self.stop_event.wait(self.poll_interval)
        return total

    def run_once(self) -> RoundResult:
        """Claim a batch and deliver it. Needs an application context."""
        result = RoundResult()
        ids = self.claim()
        result.claimed = len(ids)
        mailer = self.mailer or SMTPMailer(
            dict(self.app.config, MAIL_TIMEOUT=setting("MAIL_TIMEOUT", 20))
        )
        try:
            for index, notification_id in enumerate(ids):
                if self.stopping:
                    self.release(ids[index:])
                    break
                outcome = self.deliver(mailer, notification_id)
                setattr(result, outcome, getattr(result, outcome) + 1)
        finally:
            if self.mailer is None:
                mailer.close()
            db.session.rollback()
        return result

    def claim(self) -> list[int]:
        now = utcnow()
        due = (
            select(Notification.id)
            .where(
                Notification.status == NotificationStatus.QUEUED,
                Notification.next_attempt_at <= now,
                # This ward's messages, from this ward's address (``MAIL_FROM``); another
                # ward's worker sends theirs. Messages of no ward: any worker.
                of_this_ward(Notification.ward_id, legacy=True),
            )
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(self.batch)
        )
        if db.session.get_bind().dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        claimed = db.session.execute(
            update(Notification)
            .where(Notification.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=now + self.lease)
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
        ids = sorted(claimed.scalars())
        db.session.commit()
        return ids

    def release(self, ids: list[int]) -> None:
        """Hand back claimed messages not tried: due again at once, for any worker."""
        if not ids:
            return
        db.session.execute(
            update(Notification)
            .where(
                Notification.id.in_(ids),
                Notification.status == NotificationStatus.QUEUED,
            )
            .values(next_attempt_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def deliver(self, mailer, notification_id: int) -> str:
        notification = db.session.get(Notification, notification_id)
        if notification is None or notification.status != NotificationStatus.QUEUED:
            db.session.rollback()
            return "skipped"  # finished meanwhile (e.g. cancelled by an unsubscribe)
        recipient = notification.recipient
        try:
            message = build_message(notification, self.app.config)
        except Exception as error:  # noqa: BLE001 - a message that cannot be built never will
            db.session.rollback()
            self.mark_failed(notification_id, f"{type(error).__name__}: {error}", permanent=True)
            return "failed"
        db.session.rollback()  # no transaction stays open while we talk to the server
        try:
            mailer.send(message, recipient)
        except PermanentFailure as error:
            self.mark_failed(notification_id, str(error), permanent=True)
            return "failed"
        except Exception as error:  # noqa: BLE001 - any failure to send is retried later
            log.warning("sending notification %s failed: %s", notification_id, error)
            return self.mark_failed(notification_id, f"{type(error).__name__}: {error}")
        self.mark_sent(notification_id)
        return "sent"

    def mark_sent(self, notification_id: int) -> None:
        db.session.execute(
            update(Notification)
            .where(Notification.id == notification_id)
            .values(status=NotificationStatus.SENT, sent_at=utcnow(), last_error=None)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def mark_failed(self, notification_id: int, error: str, *, permanent: bool = False) -> str:
        notification = db.session.get(Notification, notification_id)
        attempts = (notification.attempts or 0) + 1
        gave_up = permanent or attempts >= self.max_attempts
        notification.attempts = attempts
        notification.last_error = error[:2000]
        if gave_up:
            notification.status = NotificationStatus.FAILED
        else:
            notification.next_attempt_at = utcnow() + backoff(attempts)
        db.session.commit()
        return "failed" if gave_up else "retried"
