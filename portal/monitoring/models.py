from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Boolean, Date, DateTime, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.timeutil import utcnow
from portal.units.services import deployment_ward_id


class CalendarOverride(db.Model):
    """An official day swap: a working Saturday, or an extra day off.

    A ward's admin sets the ward's own (``ward_id``); a row of no ward applies to every
    ward of the database (a city deployment), set by whoever runs the system with
    ``flask portal calendar``. On one day a ward's own row wins over the city's.
    """

    __tablename__ = "calendar_override"
    __table_args__ = (
        Index("uq_calendar_override_ward_day", "ward_id", "day", unique=True),
        # NULLs are distinct in a unique index: one row of no ward per day needs its own.
        Index(
            "uq_calendar_override_day_every_ward",
            "day",
            unique=True,
            sqlite_where=text("ward_id IS NULL"),
            postgresql_where=text("ward_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"))
    day: Mapped[date] = mapped_column(Date)
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RemarkTarget(enum.StrEnum):
    PETITION = "petition"
    ITEM = "item"
    UNIT = "unit"

    @property
    def label(self) -> str:
        return str(
            {
                RemarkTarget.PETITION: _l("kiến nghị"),
                RemarkTarget.ITEM: _l("mục thông báo kết luận"),
                RemarkTarget.UNIT: _l("đơn vị"),
            }[self]
        )


class SupervisionRemark(db.Model):
    """Ý kiến giám sát: MTTQ's remark and recommendation on a petition, an item or a unit."""

    __tablename__ = "supervision_remark"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The ward whose supervision this is (a unit of no ward may be remarked on by many).
    ward_id: Mapped[int | None] = mapped_column(
        ForeignKey("ward.id"), index=True, default=deployment_ward_id
    )
    target: Mapped[RemarkTarget] = mapped_column(Enum(RemarkTarget, native_enum=False, length=10))
    petition_id: Mapped[int | None] = mapped_column(ForeignKey("petition.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("notice_item.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    remark: Mapped[str] = mapped_column(Text)
    recommendation: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User] = relationship()
