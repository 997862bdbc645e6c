"""The weekly summary for staff: ``flask portal digest --weekly``.

One ward's: the deployment's (``PORTAL_WARD_CODE``). For every active ward staff, MTTQ,
admin and unit staff account of that ward (or of no ward: made before accounts had one)
with an e-mail address:
how many petitions were filed and resolved in the past 7 days and how many are overdue
(expected date passed, still open), each with a short list and links. Unit staff see
their own unit's petitions only; an account with nothing to report gets no message. One
message per account and ISO week: running the command twice in a week queues nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from portal.accounts.models import Role, User
from portal.extensions import db
from portal.notifications import services
from portal.notifications.models import NotificationKind
from portal.petitions.models import Petition, Status
from portal.petitions.services import visible_query
from portal.timeutil import local_today, utcnow
from portal.units.services import of_this_ward

DIGEST_ROLES = (Role.WARD_STAFF, Role.MTTQ, Role.ADMIN, Role.UNIT_STAFF)
LIST_LIMIT = 15
OPEN = tuple(s for s in Status if s.is_open)


@dataclass
class Section:
    count: int = 0
    rows: list[dict] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


def week_key(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _section(query: Select, *order) -> Section:
    count = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    petitions = db.session.scalars(query.order_by(*order).limit(LIST_LIMIT))
    rows = [
        {
            "code": p.code,
            "title": p.title,
            "status": p.status,
            "created_at": p.created_at,
            "expected_on": p.expected_on,
            "url": services.external_url("staff.petition_page", code=p.code),
        }
        for p in petitions
    ]
    return Section(count=count or 0, rows=rows)


def summary_for(user: User, today: date) -> dict[str, Section]:
    since = utcnow() - timedelta(days=7)
    visible = visible_query(user)
    return {
        "new": _section(
            visible.where(Petition.created_at >= since), Petition.created_at.desc(), Petition.id
        ),
        "resolved": _section(
            visible.where(
                Petition.resolved_at >= since,
                Petition.status.in_((Status.RESOLVED, Status.CLOSED)),
            ),
            Petition.resolved_at.desc(),
            Petition.id,
        ),
        "overdue": _section(
            visible.where(
                Petition.expected_on.is_not(None),
                Petition.expected_on < today,
                Petition.status.in_(OPEN),
            ),
            Petition.expected_on.asc(),
            Petition.id,
        ),
    }


def queue_weekly() -> int:
    """Queue this week's digest for every staff account that has not had it. Flushes."""
    today = local_today()
    week = week_key(today)
    users = db.session.scalars(
        select(User)
        .where(
            User.active.is_(True),
            User.role.in_(DIGEST_ROLES),
            User.email.is_not(None),
            # Another ward's staff hear from their own ward's portal.
            of_this_ward(User.ward_id, legacy=True),
        )
        .order_by(User.id)
    )
    queued = 0
    for user in users:
        key = f"{NotificationKind.DIGEST.value}:{user.id}:{week}"
        if not user.email or services.already_queued(key):
            continue
        if services.opted_out(user.email, services.STAFF_DIGEST):
            continue
        sections = summary_for(user, today)
        if not any(section.count for section in sections.values()):
            continue  # nothing to tell: no message this week
        services.queue(
            recipient=user.email,
            kind=NotificationKind.DIGEST,
            dedup_key=key,
            subject=_l(
                "Tổng hợp kiến nghị tuần %(week)s: %(new)d mới, %(resolved)d đã giải quyết, "
                "%(overdue)d quá hạn",
                week=week,
                new=sections["new"].count,
                resolved=sections["resolved"].count,
                overdue=sections["overdue"].count,
            ),
            context={
                "user": user,
                "week": week,
                "period_start": today - timedelta(days=7),
                "period_end": today,
                "sections": sections,
                "inbox_url": services.external_url("staff.inbox"),
                "overdue_url": services.external_url("staff.inbox", overdue="y"),
            },
            locale=user.locale,
            topic=services.STAFF_DIGEST,
        )
        queued += 1
    db.session.flush()
    return queued
