"""The outbox of e-mail notifications, followers and opt-outs.

A :class:`Notification` is written in the same transaction as the change that causes it,
so a committed change always has its messages queued and a rolled-back one never does.
The worker delivers queued rows later (at least once; see ``worker.py``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.petitions.models import Petition
from portal.timeutil import utcnow
from portal.units.models import Area


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class NotificationKind(enum.StrEnum):
    RECEIVED = "received"  # to the petitioner: code and private link
    UPDATE = "update"  # to the petitioner: status change or public update
    RESOLVED = "resolved"  # to the petitioner: result, and a request to rate it
    FOLLOW_UPDATE = "follow_update"  # to a follower of the petition
    AREA_NEW = "area_new"  # to a follower of a residential group: a new petition there
    ASSIGNED = "assigned"  # to unit staff: a petition given to their unit
    FOLLOW_CONFIRM = "follow_confirm"  # double opt-in
    DIGEST = "digest"  # weekly summary for staff


class Notification(db.Model):
    """One e-mail message in the outbox."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(NotificationKind, native_enum=False, length=20)
    )
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    petition_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"), index=True)
    # Writing the same key twice fails: re-running a command or replaying an event does
    # not queue a second message.
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    # What an unsubscribe link stops ("follow:12", "petition:KN-2026-00042", "staff-digest"):
    # queued messages of that topic to that recipient are cancelled with it.
    topic: Mapped[str | None] = mapped_column(String(60))
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[NotificationStatus] = mapped_column(
        Enum(NotificationStatus, native_enum=False, length=10), default=NotificationStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Fixed when queued, so that a message sent twice (at-least-once) is one message to
    # the recipient's mail client.
    message_id: Mapped[str] = mapped_column(String(250))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)

    petition: Mapped[Petition | None] = relationship()


class Follow(db.Model):
    """Someone who asked to be told about a petition or a residential group (double opt-in)."""

    __tablename__ = "follow"
    __table_args__ = (UniqueConstraint("email", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(5), default="vi")
    # "petition:<id>" or "area:<id>": one row per address and target.
    target: Mapped[str] = mapped_column(String(40))
    petition_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)

    petition: Mapped[Petition | None] = relationship()
    area: Mapped[Area | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class MailOptOut(db.Model):
    """An address that asked not to get one kind of message any more.

    ``scope`` is a topic: "petition:<code>" (the petitioner, for that petition),
    "staff-assigned" or "staff-digest" (staff). Followers unsubscribe on their
    :class:`Follow` row instead.
    """

    __tablename__ = "mail_opt_out"
    __table_args__ = (UniqueConstraint("email", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    scope: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
