"""Clients of the Open311 API: one key per client, managed by admin, revocable."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import User
from portal.extensions import db
from portal.petitions.models import Petition
from portal.timeutil import utcnow
from portal.units.services import deployment_ward_id


class ApiClient(db.Model):
    """A system allowed to file petitions through Open311 (a city app, a hotline's tool).

    Only a hash of the key is stored; the key itself is shown once, when it is issued.
    """

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The ward whose petitions the client files and reads; its admin manages the key.
    # NULL: a client made before clients had a ward, counted as this deployment's.
    ward_id: Mapped[int | None] = mapped_column(
        ForeignKey("ward.id"), index=True, default=deployment_ward_id
    )
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(254))
    # The first characters of the key, to recognise it in lists and logs.
    key_prefix: Mapped[str] = mapped_column(String(12), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Flask-Limiter notation, e.g. "60/hour"; applies to this client's POSTs.
    rate_limit: Mapped[str] = mapped_column(String(40), default="60/hour")
    # Staff accept what this client files before it gets a service_request_id.
    requires_acceptance: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    request_count: Mapped[int] = mapped_column(Integer, default=0)

    created_by: Mapped[User | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        return self.name


class Open311Token(db.Model):
    """A token handed out instead of an id when staff must accept a request first."""

    __tablename__ = "open311_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_client.id"), index=True)
    petition_id: Mapped[int] = mapped_column(ForeignKey("petition.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    client: Mapped[ApiClient] = relationship()
    petition: Mapped[Petition] = relationship()
