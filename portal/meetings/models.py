"""Dialogue meetings, their conclusion notices and the items staff follow up."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.petitions.models import AssignmentRole, Competence, ImmutableEventError, Petition
from portal.timeutil import local_today, utcnow
from portal.units.models import Unit, Ward
from portal.units.services import deployment_ward_id


class MeetingKind(enum.StrEnum):
    DIALOGUE = "dialogue"
    VOTER_CONTACT = "voter_contact"
    BRIEFING = "briefing"
    STANDING_COMMITTEE = "standing_committee"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(MEETING_KIND_LABELS[self])


MEETING_KIND_LABELS = {
    MeetingKind.DIALOGUE: _l("Hội nghị tiếp xúc, đối thoại"),
    MeetingKind.VOTER_CONTACT: _l("Tiếp xúc cử tri"),
    MeetingKind.BRIEFING: _l("Hội nghị giao ban"),
    MeetingKind.STANDING_COMMITTEE: _l("Họp Ban Thường vụ"),
    MeetingKind.OTHER: _l("Hội nghị khác"),
}


class Meeting(db.Model):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"), index=True)
    kind: Mapped[MeetingKind] = mapped_column(Enum(MeetingKind, native_enum=False, length=30))
    title: Mapped[str] = mapped_column(String(300))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str | None] = mapped_column(String(300))
    chair: Mapped[str | None] = mapped_column(String(300))
    participants: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    ward: Mapped[Ward] = relationship()
    notices: Mapped[list[ConclusionNotice]] = relationship(
        back_populates="meeting", order_by="ConclusionNotice.issued_on"
    )
    petitions: Mapped[list[Petition]] = relationship(
        primaryjoin="Meeting.id == foreign(Petition.meeting_id)", viewonly=True
    )


def _notice_ward_id(context) -> int | None:
    """A notice belongs to its meeting's ward; one filed without a meeting, to the ward of
    the deployment that filed it."""
    meeting_id = context.get_current_parameters().get("meeting_id")
    if meeting_id is not None:
        return context.connection.scalar(select(Meeting.ward_id).where(Meeting.id == meeting_id))
    return deployment_ward_id(context)


class ConclusionNotice(db.Model):
    """A Thông báo kết luận: number/symbol such as ``07-TB/BCĐ``, its items."""

    __tablename__ = "conclusion_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    # One database may hold a city's wards: the ward whose notice this is (NULL: a notice
    # of before wards were recorded that nothing placed; no deployment shows it).
    ward_id: Mapped[int | None] = mapped_column(
        ForeignKey("ward.id"), index=True, default=_notice_ward_id
    )
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(60))
    issued_on: Mapped[date | None] = mapped_column(Date)
    issuer: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text)
    meeting_date: Mapped[date | None] = mapped_column(Date)
    full_text: Mapped[str] = mapped_column(Text)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    meeting: Mapped[Meeting | None] = relationship(back_populates="notices")
    items: Mapped[list[NoticeItem]] = relationship(
        back_populates="notice", order_by="NoticeItem.position"
    )

    @property
    def label(self) -> str:
        return f"{self.number} · {self.title}" if self.number else self.title


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANNOT = "cannot"

    @property
    def label(self) -> str:
        return str(ITEM_STATUS_LABELS[self])


ITEM_STATUS_LABELS = {
    ItemStatus.PENDING: _l("chưa thực hiện"),
    ItemStatus.IN_PROGRESS: _l("đang thực hiện"),
    ItemStatus.DONE: _l("đã thực hiện xong"),
    ItemStatus.CANNOT: _l("không thực hiện được"),
}


petition_notice_item = Table(
    "petition_notice_item",
    db.metadata,
    Column("petition_id", ForeignKey("petition.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("notice_item.id", ondelete="CASCADE"), primary_key=True),
    Column("linked_at", DateTime, default=utcnow),
)


class NoticeItem(db.Model):
    """One numbered task of a notice, followed up like a petition."""

    __tablename__ = "notice_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("conclusion_notice.id"), index=True)
    ref: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    persons: Mapped[list] = mapped_column(JSON, default=list)
    deadlines: Mapped[list] = mapped_column(JSON, default=list)
    recurrences: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[ItemStatus] = mapped_column(
        Enum(ItemStatus, native_enum=False, length=20), default=ItemStatus.PENDING, index=True
    )
    progress: Mapped[int] = mapped_column(Integer, default=0)
    roadmap: Mapped[str | None] = mapped_column(Text)
    expected_on: Mapped[date | None] = mapped_column(Date)
    responsible_person: Mapped[str | None] = mapped_column(String(200))
    competence: Mapped[Competence] = mapped_column(
        Enum(Competence, native_enum=False, length=10), default=Competence.WARD
    )
    forwarded_to: Mapped[str | None] = mapped_column(String(300))
    higher_reply: Mapped[str | None] = mapped_column(Text)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    notice: Mapped[ConclusionNotice] = relationship(back_populates="items")
    units: Mapped[list[NoticeItemUnit]] = relationship(
        back_populates="item", order_by="NoticeItemUnit.id", cascade="all, delete-orphan"
    )
    petitions: Mapped[list[Petition]] = relationship(
        secondary=petition_notice_item, backref="notice_items", order_by=Petition.id
    )
    events: Mapped[list[NoticeItemEvent]] = relationship(
        back_populates="item", order_by="NoticeItemEvent.id"
    )

    @property
    def due_on(self) -> date | None:
        """The nearest time limit: the expected date set by staff, else the notice's."""
        if self.expected_on:
            return self.expected_on
        dates = [date.fromisoformat(d["date"]) for d in self.deadlines if d.get("date")]
        return min(dates) if dates else None

    @property
    def is_overdue(self) -> bool:
        due = self.due_on
        return bool(
            due
            and due < local_today()
            and self.status in (ItemStatus.PENDING, ItemStatus.IN_PROGRESS)
        )

    @property
    def lead_units(self) -> list[Unit]:
        return [u.unit for u in self.units if u.role == AssignmentRole.LEAD]


class NoticeItemUnit(db.Model):
    __tablename__ = "notice_item_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("notice_item.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(Enum(AssignmentRole, native_enum=False, length=10))
    as_written: Mapped[str | None] = mapped_column(String(300))

    item: Mapped[NoticeItem] = relationship(back_populates="units")
    unit: Mapped[Unit] = relationship()


class NoticeItemEvent(db.Model):
    """The follow-up timeline of an item. Append-only, like a petition's."""

    __tablename__ = "notice_item_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("notice_item.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[ItemStatus | None] = mapped_column(
        Enum(ItemStatus, native_enum=False, length=20)
    )
    to_status: Mapped[ItemStatus] = mapped_column(Enum(ItemStatus, native_enum=False, length=20))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    item: Mapped[NoticeItem] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


@event.listens_for(NoticeItemEvent, "before_update")
@event.listens_for(NoticeItemEvent, "before_delete")
def _refuse_change(mapper, connection, target):
    raise ImmutableEventError("Notice item events are append-only.")
