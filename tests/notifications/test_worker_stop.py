"""The worker stops cleanly on SIGTERM/SIGINT: finish the message in hand, then exit 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from portal.extensions import db
from portal.notifications.models import NotificationStatus
from portal.notifications.worker import Worker
from portal.timeutil import utcnow
from tests import factories
from tests.notifications.conftest import outbox

ROOT = Path(__file__).resolve().parents[2]


class SlowMailer:
    """Holds the first message until the test lets it go."""

    def __init__(self):
        self.sending = threading.Event()
        self.release = threading.Event()
        self.sent: list[str] = []

    def send(self, message, recipient):
        self.sending.set()
        assert self.release.wait(10)
        self.sent.append(recipient)

    def close(self):
        pass


def test_stop_request_finishes_the_current_message_and_hands_back_the_rest(app, world):
    for n in range(3):
        factories.file(world, petitioner_email=f"nguoi{n}@example.vn")
    mailer = SlowMailer()
    worker = Worker(app, batch=10, poll_interval=0.05, mailer=mailer)
    outcome = {}

    def run():
        with app.app_context():
            outcome["result"] = worker.run()

    thread = threading.Thread(target=run)
    thread.start()
    assert mailer.sending.wait(10)
    worker.request_stop(signal.SIGTERM)  # what the signal handler calls
    mailer.release.set()
    thread.join(10)
    assert not thread.is_alive()
    assert outcome["result"].sent == 1
    assert mailer.sent == ["nguoi0@example.vn"]
    rows = outbox()
    assert [r.status for r in rows] == [
        NotificationStatus.SENT,
        NotificationStatus.QUEUED,
        NotificationStatus.QUEUED,
    ]
    # Handed back: due again at once for the next worker, no attempt counted.
    assert all(r.next_attempt_at <= utcnow() and r.attempts == 0 for r in rows[1:])


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_worker_process_with_exit_0(app, world, smtp_server, signum):
    factories.file(world, petitioner_email="nguoidan@example.vn")
    env = dict(
        os.environ,
        FLASK_APP="wsgi:app",
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY="test-secret",
        PORTAL_ENV="development",
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server.port),
        PYTHONUNBUFFERED="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "portal", "worker", "--interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert len(smtp_server.wait_for(1, timeout=30)) == 1, "the worker never sent"
        deadline = time.monotonic() + 10
        while outbox()[0].status != NotificationStatus.SENT and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "Đã gửi 1" in output and "Đã dừng theo yêu cầu" in output
    assert outbox()[0].status == NotificationStatus.SENT


class RecordingMailer:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent: list[str] = []

    def send(self, message, recipient):
        time.sleep(0.01)
        with self.lock:
            self.sent.append(recipient)

    def close(self):
        pass


def test_workers_side_by_side_never_send_the_same_message(app, world):
    """Claims are exclusive (FOR UPDATE SKIP LOCKED on PostgreSQL, the write lock on
    SQLite, and the lease on both): four workers, every message exactly once."""
    for n in range(12):
        factories.file(world, petitioner_email=f"nguoi{n}@example.vn")
    mailer = RecordingMailer()
    errors = []

    def work():
        worker = Worker(app, batch=2, mailer=mailer)
        try:
            with app.app_context():
                while worker.run_once().claimed:
                    pass
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert sorted(mailer.sent) == sorted(f"nguoi{n}@example.vn" for n in range(12))
    assert {r.status for r in outbox()} == {NotificationStatus.SENT}


def test_the_claim_skips_locked_rows_on_postgresql(app, backend):
    worker = Worker(app)
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        worker.claim()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    [claim] = [s for s in captured if s.lstrip().upper().startswith("UPDATE")]
    if backend == "postgresql":
        assert "FOR UPDATE SKIP LOCKED" in claim
    assert "RETURNING" in claim
