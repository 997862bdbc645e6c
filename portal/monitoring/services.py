"""The monitoring dashboard's numbers, supervision remarks, ratings and closing.

Numbers are computed from the petitions in scope in one pass, so that every figure on the
dashboard has the same definition as the list it links to.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import calendar as work_calendar
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.meetings.models import ItemStatus, Meeting, NoticeItem, petition_notice_item
from portal.monitoring.models import CalendarOverride, RemarkTarget, SupervisionRemark
from portal.petitions import services as petitions
from portal.petitions.models import (
    EventKind,
    Outcome,
    Petition,
    PetitionEvent,
    Status,
)
from portal.text import normalize
from portal.timeutil import LOCAL_TZ, local_today, to_local, utcnow
from portal.units.models import Unit


class MonitoringError(petitions.PetitionError):
    pass


# --- scope ------------------------------------------------------------------------------


@dataclass
class Scope:
    start: date | None = None
    end: date | None = None
    meeting: Meeting | None = None

    @property
    def args(self) -> dict:
        args = {}
        if self.start:
            args["tu"] = self.start.strftime("%d/%m/%Y")
        if self.end:
            args["den"] = self.end.strftime("%d/%m/%Y")
        if self.meeting:
            args["meeting"] = self.meeting.id
        return args


def _utc_bound(day: date, *, end: bool) -> datetime:
    """Midnight in Hà Nội at the start of ``day`` (or of the day after), as naive UTC."""
    local = datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=LOCAL_TZ)
    return local.astimezone(UTC).replace(tzinfo=None)


def petitions_in_scope(scope: Scope) -> list[Petition]:
    query = (
        select(Petition)
        .where(Petition.status != Status.MERGED)
        .options(selectinload(Petition.assignments), selectinload(Petition.category))
    )
    if scope.start:
        query = query.where(Petition.created_at >= _utc_bound(scope.start, end=False))
    if scope.end:
        query = query.where(Petition.created_at < _utc_bound(scope.end, end=True))
    if scope.meeting:
        linked = (
            select(petition_notice_item.c.petition_id)
            .join(NoticeItem, NoticeItem.id == petition_notice_item.c.item_id)
            .where(NoticeItem.notice.has(meeting_id=scope.meeting.id))
        )
        query = query.where((Petition.meeting_id == scope.meeting.id) | Petition.id.in_(linked))
    return list(db.session.scalars(query))


# --- the dashboard ----------------------------------------------------------------------


@dataclass
class UnitRow:
    unit: Unit
    assigned: int = 0
    resolved: int = 0
    on_time: int = 0
    overdue: int = 0
    days: list[int] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        return round(100 * self.on_time / self.resolved, 1) if self.resolved else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days) if self.days else None


@dataclass
class GroupRow:
    key: int | None
    name: str
    total: int = 0
    open: int = 0
    resolved: int = 0
    overdue: int = 0


@dataclass
class Dashboard:
    scope: Scope
    total: int
    by_status: dict[Status, int]
    overdue: list[Petition]
    due_soon: list[Petition]
    units: list[UnitRow]
    areas: list[GroupRow]
    categories: list[GroupRow]
    repeated: list[tuple[Petition, int, int]]
    rated: int
    satisfied: int
    reopened_unsatisfied: int
    monthly: list[tuple[str, int, int]]
    items_overdue: list[NoticeItem]
    remarks: list[SupervisionRemark]

    @property
    def satisfaction_rate(self) -> float | None:
        return round(100 * self.satisfied / self.rated, 1) if self.rated else None

    @property
    def resolved(self) -> int:
        return self.by_status.get(Status.RESOLVED, 0) + self.by_status.get(Status.CLOSED, 0)


def is_done(petition: Petition) -> bool:
    return (
        petition.status in (Status.RESOLVED, Status.CLOSED)
        and petition.outcome
        in (
            Outcome.DONE,
            None,
        )
        and petition.resolved_at is not None
    )


def resolved_on_time(petition: Petition) -> bool:
    due = petition.due_on
    return bool(due and petition.resolved_at and to_local(petition.resolved_at).date() <= due)


def working_days_to_resolve(petition: Petition, holidays) -> int | None:
    if petition.resolved_at is None:
        return None
    return work_calendar.working_days_between(
        to_local(petition.created_at).date(), to_local(petition.resolved_at).date(), holidays
    )


def _months(rows: list[Petition], count: int = 12) -> list[tuple[str, int, int]]:
    """(mm/yyyy, filed, resolved) for the last ``count`` months."""
    today = local_today()
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    filed = Counter((to_local(p.created_at).year, to_local(p.created_at).month) for p in rows)
    resolved = Counter(
        (to_local(p.resolved_at).year, to_local(p.resolved_at).month) for p in rows if p.resolved_at
    )
    return [(f"{m:02d}/{y}", filed[(y, m)], resolved[(y, m)]) for y, m in reversed(months)]


def build_dashboard(scope: Scope) -> Dashboard:
    rows = petitions_in_scope(scope)
    holidays = work_calendar.overrides()
    states = {p.id: petitions.due_state(p) for p in rows}
    units: dict[int, UnitRow] = {}
    areas: dict[int | None, GroupRow] = {}
    categories: dict[int, GroupRow] = {}
    for petition in rows:
        done = is_done(petition)
        overdue = states[petition.id] == "overdue"
        lead = petition.lead_assignment
        if lead is not None:
            row = units.setdefault(lead.unit_id, UnitRow(unit=lead.unit))
            row.assigned += 1
            row.overdue += overdue
            if done:
                row.resolved += 1
                row.on_time += resolved_on_time(petition)
                days = working_days_to_resolve(petition, holidays)
                if days is not None:
                    row.days.append(days)
        for key, name, table in (
            (
                petition.area_id,
                petition.area.name if petition.area else str(_l("Chưa xác định")),
                areas,
            ),
            (petition.category_id, petition.category.label, categories),
        ):
            group = table.setdefault(key, GroupRow(key=key, name=name))
            group.total += 1
            group.open += petition.status.is_open
            group.resolved += done
            group.overdue += overdue
    rated = [p for p in rows if p.satisfied is not None]
    unsatisfied_reopened = sum(
        1
        for e in db.session.scalars(
            select(PetitionEvent).where(PetitionEvent.kind == EventKind.RATED)
        )
        if e.data.get("satisfied") is False and e.petition_id in {p.id for p in rows}
    )
    overdue_items = [
        i
        for i in db.session.scalars(
            select(NoticeItem).where(
                NoticeItem.status.in_([ItemStatus.PENDING, ItemStatus.IN_PROGRESS])
            )
        )
        if i.is_overdue
    ]
    return Dashboard(
        scope=scope,
        total=len(rows),
        by_status=Counter(p.status for p in rows),
        overdue=sorted((p for p in rows if states[p.id] == "overdue"), key=lambda p: p.next_due_on),
        due_soon=sorted(
            (p for p in rows if states[p.id] == "due_soon"), key=lambda p: p.next_due_on
        ),
        units=sorted(units.values(), key=lambda r: (-r.overdue, -r.assigned, r.unit.name)),
        areas=sorted(areas.values(), key=lambda r: (-r.total, r.name)),
        categories=sorted(categories.values(), key=lambda r: (-r.total, r.name)),
        repeated=[r for r in _repeated() if r[0].id in {p.id for p in rows}],
        rated=len(rated),
        satisfied=sum(1 for p in rated if p.satisfied),
        reopened_unsatisfied=unsatisfied_reopened,
        monthly=_months(rows),
        items_overdue=overdue_items,
        remarks=list(
            db.session.scalars(
                select(SupervisionRemark).order_by(SupervisionRemark.id.desc()).limit(10)
            )
        ),
    )


def _repeated():
    from portal.meetings.services import repeatedly_raised

    return repeatedly_raised()


# --- supervision remarks ----------------------------------------------------------------


def add_remark(
    actor: User,
    *,
    remark: str | None,
    recommendation: str | None = None,
    is_public: bool = False,
    petition: Petition | None = None,
    item: NoticeItem | None = None,
    unit: Unit | None = None,
) -> SupervisionRemark:
    """MTTQ (or ward leaders) record a supervision remark; on a petition it joins the timeline."""
    if actor.role not in (Role.MTTQ, Role.WARD_STAFF, Role.ADMIN):
        raise MonitoringError(_l("Bạn không có quyền ghi ý kiến giám sát."))
    text = (remark or "").strip()
    if len(text) < 5:
        raise MonitoringError(_l("Hãy nhập nội dung ý kiến giám sát."), field="remark")
    targets = [t for t in (petition, item, unit) if t is not None]
    if len(targets) != 1:
        raise MonitoringError(_l("Ý kiến giám sát phải gắn với đúng một đối tượng."))
    target = RemarkTarget.PETITION if petition else RemarkTarget.ITEM if item else RemarkTarget.UNIT
    row = SupervisionRemark(
        target=target,
        petition_id=petition.id if petition else None,
        item_id=item.id if item else None,
        unit_id=unit.id if unit else None,
        author=actor,
        remark=text,
        recommendation=(recommendation or "").strip() or None,
        is_public=is_public,
    )
    db.session.add(row)
    if petition is not None:
        petitions.append_remark(petition, actor, row)
    db.session.flush()
    return row


def remarks_for(*, petition=None, item=None, unit=None, public_only=False):
    query = select(SupervisionRemark).order_by(SupervisionRemark.id)
    if petition is not None:
        query = query.where(SupervisionRemark.petition_id == petition.id)
    if item is not None:
        query = query.where(SupervisionRemark.item_id == item.id)
    if unit is not None:
        query = query.where(SupervisionRemark.unit_id == unit.id)
    if public_only:
        query = query.where(SupervisionRemark.is_public)
    return list(db.session.scalars(query))


# --- rating and closing -----------------------------------------------------------------


def rating_open(petition: Petition) -> bool:
    """The petitioner may rate a resolved petition within RATING_DAYS of its resolution."""
    if petition.status != Status.RESOLVED or petition.resolved_at is None:
        return False
    limit = timedelta(days=current_app.config["RATING_DAYS"])
    return petition.satisfied is None and utcnow() - petition.resolved_at <= limit


def rate(petition: Petition, *, satisfied: bool, comment: str | None) -> PetitionEvent:
    """Hài lòng closes the petition; chưa hài lòng reopens it with an event."""
    if not rating_open(petition):
        raise MonitoringError(
            _l("Kiến nghị này không còn trong thời gian đánh giá."), field="satisfied"
        )
    comment = normalize(comment) or None
    if not satisfied and not comment:
        raise MonitoringError(
            _l("Hãy cho biết vì sao bạn chưa hài lòng, để cán bộ tiếp tục giải quyết."),
            field="comment",
        )
    petition.satisfied = satisfied
    petition.rating_comment = comment
    petition.rated_at = utcnow()
    event = petitions.record_rating(petition, satisfied=satisfied, comment=comment)
    if satisfied:
        petitions.close(
            petition, None, public_note=str(_l("Người kiến nghị hài lòng với kết quả."))
        )
    else:
        petitions.reopen_by_petitioner(petition, comment)
    db.session.flush()
    return event


def close_expired() -> list[Petition]:
    """Close resolved petitions whose rating time has passed without an answer."""
    limit = utcnow() - timedelta(days=current_app.config["RATING_DAYS"])
    rows = db.session.scalars(
        select(Petition).where(
            Petition.status == Status.RESOLVED,
            Petition.resolved_at < limit,
            Petition.satisfied.is_(None),
        )
    ).all()
    for petition in rows:
        petitions.close(
            petition,
            None,
            internal_note=str(_l("Tự động đóng: hết thời gian đánh giá của người kiến nghị.")),
        )
    db.session.flush()
    return list(rows)


# --- calendar overrides -----------------------------------------------------------------


def set_override(day: date, is_working: bool, note: str | None) -> CalendarOverride:
    row = db.session.get(CalendarOverride, day) or CalendarOverride(day=day)
    row.is_working = is_working
    row.note = normalize(note) or None
    db.session.add(row)
    db.session.flush()
    return row


def delete_override(day: date) -> None:
    row = db.session.get(CalendarOverride, day)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
