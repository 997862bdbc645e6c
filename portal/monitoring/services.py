"""The monitoring dashboard's numbers, supervision remarks, ratings and closing.

Numbers are computed from the petitions in scope in one pass, so that every figure on the
dashboard has the same definition as the list it links to.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import selectinload

from portal import calendar as work_calendar
from portal.accounts.models import Role, User
from portal.extensions import db
from portal.meetings.models import (
    ConclusionNotice,
    ItemStatus,
    Meeting,
    NoticeItem,
    petition_notice_item,
)
from portal.monitoring.models import CalendarOverride, RemarkTarget, SupervisionRemark
from portal.petitions import services as petitions
from portal.petitions.models import (
    Assignment,
    AssignmentRole,
    Category,
    EventKind,
    Outcome,
    Petition,
    PetitionEvent,
    Status,
    next_due,
)
from portal.text import normalize
from portal.timeutil import LOCAL_TZ, local_today, to_local, utcnow
from portal.units.models import Unit
from portal.units.services import areas as ward_areas
from portal.units.services import current_ward, current_ward_id, of_this_ward


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


def scope_conditions(scope: Scope) -> list:
    """The WHERE clauses of the petitions in scope: this ward's, merged ones left out."""
    conditions = [Petition.status != Status.MERGED]
    if scope.start:
        conditions.append(Petition.created_at >= _utc_bound(scope.start, end=False))
    if scope.end:
        conditions.append(Petition.created_at < _utc_bound(scope.end, end=True))
    if scope.meeting:
        linked = (
            select(petition_notice_item.c.petition_id)
            .join(NoticeItem, NoticeItem.id == petition_notice_item.c.item_id)
            .where(NoticeItem.notice.has(meeting_id=scope.meeting.id))
        )
        conditions.append((Petition.meeting_id == scope.meeting.id) | Petition.id.in_(linked))
    return conditions


def in_scope(query: Select, scope: Scope) -> Select:
    return petitions.in_current_ward(query).where(*scope_conditions(scope))


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
    overdue: Sequence[Petition]
    due_soon: Sequence[Petition]
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


def _last_months(count: int = 12) -> list[tuple[int, int]]:
    """(year, month) of the last ``count`` months in Hà Nội, oldest first."""
    today = local_today()
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(months))


class _LocalDates:
    """``to_local(moment).date()`` for thousands of naive UTC moments.

    The offset from UTC is looked up once per UTC day (at its start and its end: a day
    whose offset changes, none in Vietnam since 1975, falls back to ``to_local``).
    """

    def __init__(self):
        self._offsets: dict[date, timedelta | None] = {}

    def __call__(self, moment: datetime) -> date:
        day = moment.date()
        offset = self._offsets.get(day, False)
        if offset is False:
            start = datetime.combine(day, time.min)
            first = to_local(start).utcoffset()
            last = to_local(start + timedelta(hours=23, minutes=59, seconds=59)).utcoffset()
            offset = self._offsets[day] = first if first == last else None
        if offset is None:
            return to_local(moment).date()
        return (moment + offset).date()


def _active_lead():
    """The petition's lead unit now (there is at most one active lead assignment)."""
    return and_(
        Assignment.petition_id == Petition.id,
        Assignment.ended_at.is_(None),
        Assignment.role == AssignmentRole.LEAD,
    )


def _chunks(ids: list[int], size: int = 900):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class PetitionList(Sequence):
    """Petitions by id, loaded when first read: counting them costs nothing, and a slice
    loads only itself (the page shows the first rows, the export all of them)."""

    def __init__(self, ids: list[int]):
        self.ids = ids
        self._loaded: dict[int, Petition] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._load(self.ids[index])
        return self._load([self.ids[index]])[0]

    def __iter__(self):
        return iter(self._load(self.ids))

    def _load(self, ids: list[int]) -> list[Petition]:
        missing = [i for i in ids if i not in self._loaded]
        for chunk in _chunks(missing):
            self._loaded.update(
                (p.id, p)
                for p in db.session.scalars(
                    select(Petition)
                    .where(Petition.id.in_(chunk))
                    .options(
                        selectinload(Petition.assignments).selectinload(Assignment.unit),
                        selectinload(Petition.category),
                    )
                )
            )
        return [self._loaded[i] for i in ids]


def build_dashboard(scope: Scope) -> Dashboard:
    """The dashboard of this ward's petitions in scope.

    The database selects the petitions in scope and their lead unit and sends one light
    row per petition (no ORM objects): a ward's petitions are scattered among the
    city's, so one pass over them costs far less than one query per figure. Only the
    petitions listed one by one (overdue, due soon) are loaded as objects.
    """
    facts = db.session.execute(
        in_scope(
            select(
                Petition.id,
                Petition.area_id,
                Petition.category_id,
                Petition.status,
                Petition.outcome,
                Petition.created_at,
                Petition.resolved_at,
                Petition.expected_on,
                Petition.resolve_due_on,
                Petition.reply_due_on,
                Petition.satisfied,
                Assignment.unit_id,
            ).outerjoin(Assignment, _active_lead()),
            scope,
        ).order_by(Petition.id)
    ).all()
    today, soon = local_today(), petitions.due_soon_limit()
    local_date = _LocalDates()
    open_statuses = frozenset(petitions.OPEN_STATUSES)
    done_statuses = (Status.RESOLVED, Status.CLOSED)
    done_outcomes = (Outcome.DONE, None)
    combos: Counter = Counter()  # (area, category, status, done, overdue) -> petitions
    months = _last_months()
    since = _utc_bound(date(*months[0], 1), end=False)  # the first month shown, in UTC
    area_names = {a.id: a.name for a in ward_areas(current_ward())}
    category_names = {c.id: c.label for c in db.session.scalars(select(Category))}
    by_status: Counter = Counter()
    by_area: dict[int | None, GroupRow] = {}
    by_category: dict[int, GroupRow] = {}
    units: dict[int, UnitRow] = {}
    resolved_spans: list[tuple[UnitRow, date, date]] = []
    filed, resolved_in = Counter(), Counter()
    rated_ids: list[int] = []
    satisfied = 0
    late: list[tuple[date, int]] = []  # (next due date, id)
    soon_due: list[tuple[date, int]] = []
    for (
        pid,
        area_id,
        category_id,
        status,
        outcome,
        created_at,
        resolved_at,
        expected_on,
        resolve_due_on,
        reply_due_on,
        is_satisfied,
        unit_id,
    ) in facts:
        done = status in done_statuses and outcome in done_outcomes and resolved_at is not None
        due_on = expected_on or resolve_due_on
        overdue = False
        if status in open_statuses:  # due_state is None for the others
            next_due_on = next_due(status, due_on, reply_due_on)
            state = petitions.due_state_of(status, next_due_on, today=today, soon=soon)
            if state == "overdue":
                overdue = True
                late.append((next_due_on, pid))
            elif state == "due_soon":
                soon_due.append((next_due_on, pid))
        combos[(area_id, category_id, status, done, overdue)] += 1
        if unit_id is not None:
            row = units.get(unit_id) or units.setdefault(unit_id, UnitRow(unit=None))
            row.assigned += 1
            row.overdue += overdue
            if done:
                row.resolved += 1
                local_resolved = local_date(resolved_at)
                row.on_time += bool(due_on and local_resolved <= due_on)
                resolved_spans.append((row, local_date(created_at), local_resolved))
        if is_satisfied is not None:
            rated_ids.append(pid)
            satisfied += bool(is_satisfied)
        # Months shown only (earlier moments cannot fall in them: no conversion needed).
        if created_at >= since:
            local_created = local_date(created_at)
            filed[(local_created.year, local_created.month)] += 1
        if resolved_at is not None and resolved_at >= since:
            local_resolved_at = local_date(resolved_at)
            resolved_in[(local_resolved_at.year, local_resolved_at.month)] += 1
    # Residential groups, categories and statuses from the few distinct combinations.
    unknown_area = str(_l("Chưa xác định"))
    for (area_id, category_id, status, done, overdue), n in combos.items():
        by_status[status] += n
        for key, name, table in (
            (
                area_id,
                area_names.get(area_id) if area_id is not None else unknown_area,
                by_area,
            ),
            (category_id, category_names.get(category_id), by_category),
        ):
            group = table.get(key) or table.setdefault(key, GroupRow(key=key, name=name))
            group.total += n
            group.open += n if status in open_statuses else 0
            group.resolved += n if done else 0
            group.overdue += n if overdue else 0
    # Working days for every resolved petition at once.
    spans = work_calendar.working_days_between_many(
        [(start, end) for _row, start, end in resolved_spans], work_calendar.overrides()
    )
    for (row, _start, _end), days in zip(resolved_spans, spans, strict=True):
        row.days.append(days)
    if units:
        found = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(units)))}
        for unit_id, row in units.items():
            row.unit = found[unit_id]
    # Reopened, not satisfied: the timeline of the rated petitions (only a rating sets
    # ``satisfied``), through the partial index on rating events.
    unsatisfied_reopened = 0
    for chunk in _chunks(rated_ids):
        unsatisfied_reopened += sum(
            1
            for data in db.session.scalars(
                select(PetitionEvent.data).where(
                    PetitionEvent.kind == EventKind.RATED, PetitionEvent.petition_id.in_(chunk)
                )
            )
            if (data or {}).get("satisfied") is False
        )
    # Nearest due date first; among equals, as filed (rows came ordered by id).
    overdue = PetitionList([pid for _due, pid in sorted(late, key=lambda x: x[0])])
    due_soon = PetitionList([pid for _due, pid in sorted(soon_due, key=lambda x: x[0])])
    return Dashboard(
        scope=scope,
        total=len(facts),
        by_status=by_status,
        overdue=overdue,
        due_soon=due_soon,
        units=sorted(units.values(), key=lambda r: (-r.overdue, -r.assigned, r.unit.name)),
        areas=sorted(by_area.values(), key=lambda r: (-r.total, r.name)),
        categories=sorted(by_category.values(), key=lambda r: (-r.total, r.name)),
        repeated=_repeated(scope),
        rated=len(rated_ids),
        satisfied=satisfied,
        reopened_unsatisfied=unsatisfied_reopened,
        monthly=[(f"{m:02d}/{y}", filed[(y, m)], resolved_in[(y, m)]) for y, m in months],
        items_overdue=_overdue_items(),
        remarks=recent_remarks(),
    )


def recent_remarks(limit: int = 10) -> list[SupervisionRemark]:
    """This ward's latest supervision remarks (a unit of no ward is remarked on by many)."""
    return list(
        db.session.scalars(
            select(SupervisionRemark)
            .where(of_this_ward(SupervisionRemark.ward_id))
            .order_by(SupervisionRemark.id.desc())
            .limit(limit)
        )
    )


def _overdue_items() -> list[NoticeItem]:
    """Overdue items of this ward's notices (with a meeting or without)."""
    query = (
        select(NoticeItem)
        .join(ConclusionNotice, ConclusionNotice.id == NoticeItem.notice_id)
        .where(
            NoticeItem.status.in_([ItemStatus.PENDING, ItemStatus.IN_PROGRESS]),
            of_this_ward(ConclusionNotice.ward_id),
        )
        .order_by(NoticeItem.id)
    )
    return [i for i in db.session.scalars(query) if i.is_overdue]


def _repeated(scope: Scope) -> list[tuple[Petition, int, int]]:
    from portal.meetings.services import repeatedly_raised

    found = repeatedly_raised()
    if not found:
        return []
    ids = {p.id for p, _times, _year in found}
    kept = set(db.session.scalars(in_scope(select(Petition.id), scope).where(Petition.id.in_(ids))))
    return [r for r in found if r[0].id in kept]


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
    ward_id = current_ward_id()
    if (
        (petition is not None and petition.ward_id != ward_id)
        or (item is not None and item.notice.ward_id != ward_id)
        or (unit is not None and unit.ward_id not in (None, ward_id))
    ):
        # Views find only this ward's; said here too, so that no caller can slip.
        raise MonitoringError(_l("Không tìm thấy đối tượng của ý kiến giám sát."))
    target = RemarkTarget.PETITION if petition else RemarkTarget.ITEM if item else RemarkTarget.UNIT
    row = SupervisionRemark(
        ward_id=ward_id,
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
    query = (
        select(SupervisionRemark)
        .where(of_this_ward(SupervisionRemark.ward_id))
        .order_by(SupervisionRemark.id)
    )
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
    """Close this ward's resolved petitions whose rating time has passed unanswered."""
    limit = utcnow() - timedelta(days=current_app.config["RATING_DAYS"])
    rows = db.session.scalars(
        petitions.in_current_ward(select(Petition)).where(
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


def _override_owner(every_ward: bool):
    """The ``ward_id`` an override is set for: this ward's, or None for every ward."""
    if every_ward:
        return None
    ward_id = current_ward_id()
    if ward_id is None:
        raise LookupError("this deployment's ward is not set up")
    return ward_id


def _override(day: date, ward_id: int | None) -> CalendarOverride | None:
    owner = CalendarOverride.ward_id
    return db.session.scalar(
        select(CalendarOverride).where(
            CalendarOverride.day == day,
            owner.is_(None) if ward_id is None else owner == ward_id,
        )
    )


def set_override(
    day: date, is_working: bool, note: str | None, *, every_ward: bool = False
) -> CalendarOverride:
    """Make ``day`` a working day or a day off for this ward (``every_ward``: for every
    ward of the database, which only the ``flask portal calendar`` command does)."""
    ward_id = _override_owner(every_ward)
    row = _override(day, ward_id) or CalendarOverride(day=day, ward_id=ward_id)
    row.is_working = is_working
    row.note = normalize(note) or None
    db.session.add(row)
    db.session.flush()
    work_calendar.forget_overrides()
    return row


def delete_override(day: date, *, every_ward: bool = False) -> bool:
    """Remove this ward's override of ``day`` (or the city's); False if there was none."""
    row = _override(day, _override_owner(every_ward))
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    work_calendar.forget_overrides()
    return True


def list_overrides(
    year: int | None = None,
) -> tuple[list[CalendarOverride], list[CalendarOverride]]:
    """(this ward's overrides, the city's), by day; of one year if given."""
    query = (
        select(CalendarOverride)
        .where(of_this_ward(CalendarOverride.ward_id, legacy=True))
        .order_by(CalendarOverride.day)
    )
    if year is not None:
        query = query.where(CalendarOverride.day.between(date(year, 1, 1), date(year, 12, 31)))
    rows = db.session.scalars(query).all()
    return [r for r in rows if r.ward_id is not None], [r for r in rows if r.ward_id is None]
