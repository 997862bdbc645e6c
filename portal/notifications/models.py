"""The outbox of e-mail notifications, followers and opt-outs.

A :class:`Notification` is written in the same transaction as the change that causes it,
so a committed change always has its messages queued and a rolled-back one never does.
The worker delivers queued rows later (at least once; see ``worker.py``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
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
from portal.units.services import deployment_ward_id


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
    REOPENED = "reopened"  # to staff: the petitioner is not satisfied, the petition reopened
    DUE_SOON = "due_soon"  # to the lead unit's staff: a petition's date is near
    OVERDUE = "overdue"  # to the lead unit's staff: a petition's date has passed
    ESCALATION = "escalation"  # to ward staff and MTTQ: what became overdue today
    MERGED = "merged"  # to the petitioner and co-signers: now following the surviving one
    DATA_EXPORT = "data_export"  # to the petitioner: confirm the address to get their data


class Notification(db.Model):
    """One e-mail message in the outbox."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The ward the message is about (its petition's, else the deployment's that queued
    # it): the outbox page of a ward shows its own messages only.
    ward_id: Mapped[int | None] = mapped_column(
        ForeignKey("ward.id"), index=True, default=deployment_ward_id
    )
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


class DeadlineAlert(db.Model):
    """A deadline already told about: once per target, state and due date.

    ``target`` is "petition:<id>" or "item:<id>" (a notice item), ``state`` "due_soon" or
    "overdue". A changed due date is a new row, so staff are told again; recipients who
    join later are not told of what was already reported.
    """

    __tablename__ = "deadline_alert"
    __table_args__ = (UniqueConstraint("target", "state", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10))
    due_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Evidence(db.Model):
    """A follower's word on whether the problem is still there.

    One current answer per follower (a later answer updates the row): this is evidence
    for staff and the public page, not a history and not a vote on the status.
    """

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), index=True)
    follow_id: Mapped[int] = mapped_column(ForeignKey("follow.id"), unique=True)
    still_there: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    petition: Mapped[Petition] = relationship()
    follow: Mapped[Follow] = relationship()
