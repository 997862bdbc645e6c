from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import utcnow
from portal.units.models import Area, Unit, Ward


class Status(enum.StrEnum):
    RECEIVED = "received"
    REVIEWING = "reviewing"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    FORWARDED = "forwarded"
    RESOLVED = "resolved"
    CANNOT_RESOLVE = "cannot_resolve"
    REJECTED = "rejected"
    CLOSED = "closed"
    MERGED = "merged"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        """Open in the Open311 sense: still being worked on."""
        return self not in FINAL_STATUSES


STATUS_LABELS = {
    Status.RECEIVED: _l("đã tiếp nhận"),
    Status.REVIEWING: _l("đang xem xét"),
    Status.ASSIGNED: _l("đã giao xử lý"),
    Status.IN_PROGRESS: _l("đang giải quyết"),
    Status.FORWARDED: _l("đã chuyển cấp trên"),
    Status.RESOLVED: _l("đã giải quyết"),
    Status.CANNOT_RESOLVE: _l("không thực hiện được"),
    Status.REJECTED: _l("không tiếp nhận"),
    Status.CLOSED: _l("đã đóng"),
    Status.MERGED: _l("đã gộp"),
}

FINAL_STATUSES = frozenset(
    {Status.RESOLVED, Status.CLOSED, Status.CANNOT_RESOLVE, Status.REJECTED, Status.MERGED}
)


class Outcome(enum.StrEnum):
    DONE = "done"
    CANNOT = "cannot"
    REJECTED = "rejected"
    MERGED = "merged"


class Channel(enum.StrEnum):
    WEB = "web"
    IN_PERSON = "in_person"
    PHONE = "phone"
    GROUP_LEADER = "group_leader"
    MEETING = "meeting"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.WEB: _l("trên cổng thông tin"),
    Channel.IN_PERSON: _l("trực tiếp"),
    Channel.PHONE: _l("điện thoại"),
    Channel.GROUP_LEADER: _l("qua tổ trưởng TDP"),
    Channel.MEETING: _l("tại hội nghị"),
}


class Competence(enum.StrEnum):
    """Whether the ward can settle a matter itself (thẩm quyền Phường) or a higher level must."""

    WARD = "ward"
    HIGHER = "higher"

    @property
    def label(self) -> str:
        return str(COMPETENCE_LABELS[self])


COMPETENCE_LABELS = {
    Competence.WARD: _l("thuộc thẩm quyền Phường"),
    Competence.HIGHER: _l("thuộc thẩm quyền cấp trên"),
}


class Theme(db.Model):
    """A group of petitions about one problem (nhóm kiến nghị), for reporting and follow-up."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def __str__(self) -> str:
        return self.name


class Category(db.Model):
    """A theme of petitions (vệ sinh môi trường, thoát nước…), editable by admin."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Time limits in working days; None means the deployment's default.
    reply_days: Mapped[int | None] = mapped_column(Integer)
    resolve_days: Mapped[int | None] = mapped_column(Integer)

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the reader's language (Vietnamese unless English is chosen)."""
        if self.name_en and str(get_locale()) == "en":
            return self.name_en
        return self.name


class CodeCounter(db.Model):
    """The last number handed out per prefix and year (``KN-2026``)."""

    __tablename__ = "code_counter"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


# What the dashboard reads of every petition in scope (see monitoring.build_dashboard).
DASHBOARD_COLUMNS = [
    "id",
    "area_id",
    "category_id",
    "outcome",
    "resolved_at",
    "expected_on",
    "resolve_due_on",
    "reply_due_on",
    "satisfied",
]


def next_due(status: Status, due_on: date | None, reply_due_on: date | None) -> date | None:
    """:attr:`Petition.next_due_on` from the columns (for rows read without the ORM)."""
    dates = [due_on]
    if status == Status.RECEIVED:
        dates.append(reply_due_on)
    dates = [d for d in dates if d]
    return min(dates) if dates else None


class Petition(db.Model):
    __tablename__ = "petition"
    __table_args__ = (
        # One database serves every ward of a city: the hot queries are one ward's
        # petitions, newest first (lists, inbox, map), by status, or in a map box.
        Index("ix_petition_ward_created", "ward_id", "created_at", "id"),
        # On PostgreSQL it also carries what the dashboard and statistics count, so that
        # they read a ward's entries from the index alone, not rows scattered over the
        # city's table.
        Index(
            "ix_petition_ward_status_created",
            "ward_id",
            "status",
            "created_at",
            postgresql_include=DASHBOARD_COLUMNS,
        ),
        Index("ix_petition_ward_location", "ward_id", "latitude", "longitude"),
        # Substring search on the accent-free key within a ward: a trigram GIN index,
        # PostgreSQL only (pg_trgm, and btree_gin for ward_id; both created by migration
        # 0008 and before ``create_all``). GIN intersects the ward's entries with the
        # words' trigrams, so a common word costs what the ward holds, not the city.
        Index(
            "ix_petition_search_key_trgm",
            "ward_id",
            "search_key",
            postgresql_using="gin",
            postgresql_ops={"search_key": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    ward_id: Mapped[int] = mapped_column(ForeignKey("ward.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    address_text: Mapped[str | None] = mapped_column(String(300))
    channel: Mapped[Channel] = mapped_column(
        Enum(Channel, native_enum=False, length=20), default=Channel.WEB
    )
    # Personal data: never on a public page, feed, export or API response.
    petitioner_name: Mapped[str | None] = mapped_column(String(200))
    petitioner_phone: Mapped[str | None] = mapped_column(String(20))
    petitioner_email: Mapped[str | None] = mapped_column(String(254))
    petitioner_address: Mapped[str | None] = mapped_column(String(300))
    show_name_publicly: Mapped[bool] = mapped_column(Boolean, default=False)

    status: Mapped[Status] = mapped_column(
        Enum(Status, native_enum=False, length=20), default=Status.RECEIVED, index=True
    )
    outcome: Mapped[Outcome | None] = mapped_column(Enum(Outcome, native_enum=False, length=20))
    expected_on: Mapped[date | None] = mapped_column(Date)
    # Due dates from the category's time limits in working days, set at filing.
    reply_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    resolve_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    # The petitioner's rating of the result, through the private link.
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The latest public reason for the current outcome, cached from the timeline.
    outcome_note: Mapped[str | None] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)
    forwarded_to: Mapped[str | None] = mapped_column(String(300))
    forward_reply: Mapped[str | None] = mapped_column(Text)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"))
    # The earlier petition this one raises again (kiến nghị nhiều lần).
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"), index=True)
    competence: Mapped[Competence] = mapped_column(
        Enum(Competence, native_enum=False, length=10), default=Competence.WARD
    )
    # Raised at a meeting: which meeting, and who raised it (a residential group, an
    # organisation). Never a private person's name: that goes in petitioner_name.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    raised_by: Mapped[str | None] = mapped_column(String(300))

    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Personal data erased after the retention period (``flask portal anonymise-expired``).
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    private_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Accent-free, lower-case text of code, title, description and place, for search.
    search_key: Mapped[str] = mapped_column(Text, default="")

    # Optimistic locking: the services bump the version with every event they append.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    ward: Mapped[Ward] = relationship()
    category: Mapped[Category] = relationship()
    area: Mapped[Area | None] = relationship()
    merged_into: Mapped[Petition | None] = relationship(
        foreign_keys=[merged_into_id], remote_side=[id]
    )
    duplicate_of: Mapped[Petition | None] = relationship(
        foreign_keys=[duplicate_of_id], remote_side=[id]
    )
    repeat_of: Mapped[Petition | None] = relationship(foreign_keys=[repeat_of_id], remote_side=[id])
    theme: Mapped[Theme | None] = relationship()
    events: Mapped[list[PetitionEvent]] = relationship(
        back_populates="petition", order_by="PetitionEvent.id"
    )
    assignments: Mapped[list[Assignment]] = relationship(
        back_populates="petition", order_by="Assignment.id"
    )
    photos: Mapped[list[Photo]] = relationship(back_populates="petition", order_by="Photo.id")
    # Personal data of residents who said they have the same problem: staff only.
    co_signatures: Mapped[list[CoSignature]] = relationship(
        back_populates="petition", order_by="CoSignature.id"
    )

    @property
    def due_on(self) -> date | None:
        """The date it should be resolved by: the lead unit's promise, else the time limit."""
        return self.expected_on or self.resolve_due_on

    @property
    def next_due_on(self) -> date | None:
        """The nearest date that matters now: the first reply while it is only received."""
        return next_due(self.status, self.due_on, self.reply_due_on)

    @property
    def public_events(self) -> list[PetitionEvent]:
        return [e for e in self.events if e.is_public]

    @property
    def active_assignments(self) -> list[Assignment]:
        return sorted(
            (a for a in self.assignments if a.ended_at is None),
            key=lambda a: (a.role != AssignmentRole.LEAD, a.id or 0),
        )

    @property
    def lead_assignment(self) -> Assignment | None:
        return next((a for a in self.active_assignments if a.role == AssignmentRole.LEAD), None)

    @property
    def published_photos(self) -> list[Photo]:
        return [p for p in self.photos if p.published]

    @property
    def public_name(self) -> str | None:
        return self.petitioner_name if self.show_name_publicly else None

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@event.listens_for(Petition.__table__, "before_create")
def _trigram_extension(target, connection, **kw):
    """``create_all`` on PostgreSQL needs the extensions of the search index (as 0008)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS btree_gin")


class EventKind(enum.StrEnum):
    FILED = "filed"
    STATUS = "status"  # a move in the status machine
    ASSIGNED = "assigned"  # units or responsible person set or changed
    UPDATE = "update"  # progress update without a move
    INFO_ADDED = "info_added"  # the petitioner added information
    EDITED = "edited"  # staff corrected category, area or title
    FORWARD_REPLY = "forward_reply"  # the higher level's reply
    PHOTO = "photo"  # a photo published or hidden
    NOTE = "note"  # linked to a notice item, given a theme, marked as a repeat
    RATED = "rated"  # the petitioner rated the result
    REMARK = "remark"  # a supervision remark by MTTQ


class PetitionEvent(db.Model):
    """One entry of the append-only timeline. Rows are never updated or deleted."""

    __tablename__ = "petition_event"
    __table_args__ = (
        # The dashboard counts ratings of one ward's petitions: a small partial index.
        Index(
            "ix_petition_event_rated",
            "petition_id",
            postgresql_where=text("kind = 'RATED'"),
            sqlite_where=text("kind = 'RATED'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # Who acted when it was not a staff account: "petitioner", "system".
    actor_kind: Mapped[str] = mapped_column(String(20), default="staff")
    kind: Mapped[EventKind] = mapped_column(Enum(EventKind, native_enum=False, length=20))
    from_status: Mapped[Status | None] = mapped_column(Enum(Status, native_enum=False, length=20))
    to_status: Mapped[Status | None] = mapped_column(Enum(Status, native_enum=False, length=20))
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    # The petition's version after this event: what a stale form is compared against.
    petition_version: Mapped[int] = mapped_column(Integer, default=1)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    petition: Mapped[Petition] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    @property
    def is_public(self) -> bool:
        hidden = (EventKind.EDITED, EventKind.PHOTO, EventKind.REMARK)
        return self.kind not in hidden or bool(self.public_note)

    @property
    def is_status_change(self) -> bool:
        return self.from_status is not None and self.from_status != self.to_status


class ImmutableEventError(RuntimeError):
    pass


@event.listens_for(PetitionEvent, "before_update")
def _refuse_event_update(mapper, connection, target):
    raise ImmutableEventError("Petition events are append-only.")


@event.listens_for(PetitionEvent, "before_delete")
def _refuse_event_delete(mapper, connection, target):
    raise ImmutableEventError("Petition events are append-only.")


class AssignmentRole(enum.StrEnum):
    LEAD = "lead"
    SUPPORT = "support"


class Assignment(db.Model):
    """A unit's part in resolving a petition. Replaced assignments are ended, not deleted."""

    __tablename__ = "assignment"
    __table_args__ = (
        # A petition's active lead unit, read from the index alone (the dashboard).
        Index(
            "ix_assignment_active_lead",
            "petition_id",
            postgresql_include=["unit_id"],
            postgresql_where=text("ended_at IS NULL AND role = 'LEAD'"),
            sqlite_where=text("ended_at IS NULL AND role = 'LEAD'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(Enum(AssignmentRole, native_enum=False, length=10))
    responsible_person: Mapped[str | None] = mapped_column(String(200))
    roadmap: Mapped[str | None] = mapped_column(Text)
    expected_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)

    petition: Mapped[Petition] = relationship(back_populates="assignments")
    unit: Mapped[Unit] = relationship()


class Photo(db.Model):
    """A re-encoded photo without metadata; shown publicly only once staff publish it."""

    __tablename__ = "photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    thumb_name: Mapped[str] = mapped_column(String(100))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    published: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_by: Mapped[str] = mapped_column(String(20), default="petitioner")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="photos")


class CoSignature(db.Model):
    """A resident who has the same problem ("Tôi cũng gặp vấn đề này") instead of filing.

    Name, phone and e-mail are optional personal data: staff see them, the public sees
    only how many co-signed. One co-signature per e-mail address and petition.
    """

    __tablename__ = "co_signature"
    __table_args__ = (UniqueConstraint("petition_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    petition: Mapped[Petition] = relationship(back_populates="co_signatures")
