"""Builders for the personal-data tests: a petition with a petitioner, co-signers, followers
and messages, moved along its life at chosen moments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from portal.extensions import db
from portal.monitoring import services as monitoring
from portal.notifications import services as mail
from portal.notifications.models import Follow
from portal.petitions import services
from portal.privacy.models import AuditEntry
from portal.timeutil import frozen_clock
from tests import factories

NAME = "Trần Thị Riêngtư"
PHONE = "0912345678"
EMAIL = "tran.riengtu@example.vn"
ADDRESS = "Số 7 ngõ 12 Văn Khê"
CONTACT = {
    "petitioner_name": NAME,
    "petitioner_phone": PHONE,
    "petitioner_email": EMAIL,
    "petitioner_address": ADDRESS,
}

CO_NAME = "Lê Văn Cùngkiến"
CO_PHONE = "0987654321"
CO_EMAIL = "le.cung@example.vn"
FOLLOWER = "nguoi.theodoi@example.vn"


def file_with_contact(world, **overrides):
    return factories.file(world, **{**CONTACT, **overrides})


def co_sign(petition, *, name=CO_NAME, phone=CO_PHONE, email=CO_EMAIL):
    signature = services.co_sign(petition, name=name, phone=phone, email=email)
    db.session.commit()
    return signature


def follow(petition, email=FOLLOWER, *, confirmed: bool = True) -> Follow:
    row = mail.request_follow(email, petition=petition)
    if confirmed:
        mail.confirm_follow(mail.confirm_token(row))
    db.session.commit()
    return row


def close(world, petition, *, rating: str | None = None):
    """Assign, resolve and close (by the petitioner's rating when ``rating`` is given)."""
    staff = world.users["ward_staff"]
    factories.assign(world, petition)
    services.resolve(petition, staff, public_note="Đã thu gom, vệ sinh sạch sẽ.")
    db.session.commit()
    if rating is not None:
        monitoring.rate(petition, satisfied=True, comment=rating)
    else:
        services.close(petition, staff, public_note="Đóng kiến nghị.")
    db.session.commit()
    return petition


def at(moment: datetime):
    return frozen_clock(moment)


def audit_entries(*, logins: bool = False, **where) -> list[AuditEntry]:
    """Entries of the log, oldest first; logins only with ``logins=True`` (the tests log in
    on the form, and each login is an entry of its own)."""
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if not logins:
        query = query.where(AuditEntry.subject_type != "login")
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(db.session.scalars(query))


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))
