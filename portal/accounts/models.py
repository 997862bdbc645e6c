from __future__ import annotations

import enum
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db
from portal.timeutil import utcnow
from portal.units.models import Unit, Ward


class Role(enum.StrEnum):
    WARD_STAFF = "ward_staff"
    UNIT_STAFF = "unit_staff"
    MTTQ = "mttq"
    ADMIN = "admin"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # The ward whose staff this is; one database may hold many wards (a city deployment).
    ward_id: Mapped[int | None] = mapped_column(ForeignKey("ward.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Login throttling: failures in a row, and the time the account opens again.
    failed_login_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)

    unit: Mapped[Unit | None] = relationship()
    # NULL: an account made before accounts had a ward, i.e. staff of this deployment's
    # ward (see ``portal.accounts.services.belongs_here``).
    ward: Mapped[Ward | None] = relationship()

    def set_password(self, password: str) -> None:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    @property
    def can_triage(self) -> bool:
        """Triage, assign, reject, merge, forward, close, reopen."""
        return self.role in (Role.WARD_STAFF, Role.ADMIN)

    @property
    def is_unit_staff(self) -> bool:
        return self.role == Role.UNIT_STAFF

    @property
    def is_read_only(self) -> bool:
        return self.role == Role.MTTQ

    def __str__(self) -> str:
        return self.full_name
