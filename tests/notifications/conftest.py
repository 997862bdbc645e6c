"""Fixtures for the outbox: a real SMTP server (aiosmtpd) on 127.0.0.1 and a free port."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.notifications.models import Notification
from portal.notifications.worker import Worker


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Handler:
    """Keeps every message; refuses recipients at ``refused.example``."""

    def __init__(self):
        self.envelopes = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


class SMTPServer:
    """A mail server that can be down (nothing listens on the port) and brought up."""

    def __init__(self, port: int):
        self.port = port
        self.handler = Handler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        with self.handler.lock:
            envelopes = list(self.handler.envelopes)
        return [
            email.message_from_bytes(e.original_content or e.content, policy=email.policy.default)
            for e in envelopes
        ]

    def wait_for(self, count: int, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.handler.envelopes) >= count:
                break
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp_port(app) -> int:
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT=5)
    return port


@pytest.fixture
def smtp_server(smtp_port):
    server = SMTPServer(smtp_port)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down(smtp_port):
    """Nothing listens on the configured port; ``.start()`` brings a server up there."""
    server = SMTPServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def worker(app):
    return Worker(app, batch=50, poll_interval=0.05)


def outbox(**where) -> list[Notification]:
    db.session.expire_all()
    query = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        query = query.where(getattr(Notification, name) == value)
    return list(db.session.scalars(query))


def link_in(body: str, path: str) -> str:
    """The first absolute link to ``path…`` in a message body, made relative."""
    found = re.search(rf"https?://[^/\s\"<>]+({re.escape(path)}[^\s\"<>]+)", body)
    assert found, f"no link to {path} in:\n{body}"
    return found.group(1)
