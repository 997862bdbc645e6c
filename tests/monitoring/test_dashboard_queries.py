"""The dashboard counted by the database gives the figures of the plain definitions.

``reference`` below is the dashboard as it was first written: every petition in scope
loaded as an object and counted in Python with ``is_done``, ``due_state``,
``resolved_on_time`` and ``working_days_to_resolve``. ``build_dashboard`` now reads one
light row per petition; on a varied history the two must agree figure for figure.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal import calendar as work_calendar
from portal.extensions import db
from portal.meetings import services as meetings
from portal.monitoring import services
from portal.petitions import services as petitions
from portal.petitions.models import EventKind, Petition, PetitionEvent, Status
from portal.timeutil import frozen_clock, local_today, to_local
from tests import factories


def reference(scope: services.Scope) -> dict:
    query = select(Petition).where(Petition.status != Status.MERGED)
    if scope.start:
        query = query.where(Petition.created_at >= services._utc_bound(scope.start, end=False))
    if scope.end:
        query = query.where(Petition.created_at < services._utc_bound(scope.end, end=True))
    rows = list(db.session.scalars(query))
    holidays = work_calendar.overrides()
    states = {p.id: petitions.due_state(p) for p in rows}
    units, areas, categories = {}, {}, {}
    for p in rows:
        done = services.is_done(p)
        overdue = states[p.id] == "overdue"
        lead = p.lead_assignment
        if lead is not None:
            row = units.setdefault(lead.unit_id, [0, 0, 0, 0, []])
            row[0] += 1
            row[3] += overdue
            if done:
                row[1] += 1
                row[2] += services.resolved_on_time(p)
                row[4].append(services.working_days_to_resolve(p, holidays))
        for key, table in ((p.area_id, areas), (p.category_id, categories)):
            group = table.setdefault(key, [0, 0, 0, 0])
            group[0] += 1
            group[1] += p.status.is_open
            group[2] += done
            group[3] += overdue
    ids = {p.id for p in rows}
    today = local_today()
    months = []
    year, month = today.year, today.month
    for _ in range(12):
        months.append((year, month))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    filed = Counter((to_local(p.created_at).year, to_local(p.created_at).month) for p in rows)
    resolved = Counter(
        (to_local(p.resolved_at).year, to_local(p.resolved_at).month) for p in rows if p.resolved_at
    )
    rated = [p for p in rows if p.satisfied is not None]
    return {
        "total": len(rows),
        "by_status": Counter(p.status for p in rows),
        "overdue": [
            p.code
            for p in sorted(
                (p for p in sorted(rows, key=lambda p: p.id) if states[p.id] == "overdue"),
                key=lambda p: p.next_due_on,
            )
        ],
        "due_soon": [
            p.code
            for p in sorted(
                (p for p in sorted(rows, key=lambda p: p.id) if states[p.id] == "due_soon"),
                key=lambda p: p.next_due_on,
            )
        ],
        "units": {k: (a, r, o, late, sorted(d)) for k, (a, r, o, late, d) in units.items()},
        "areas": {k: tuple(v) for k, v in areas.items()},
        "categories": {k: tuple(v) for k, v in categories.items()},
        "rated": len(rated),
        "satisfied": sum(1 for p in rated if p.satisfied),
        "reopened_unsatisfied": sum(
            1
            for e in db.session.scalars(
                select(PetitionEvent).where(PetitionEvent.kind == EventKind.RATED)
            )
            if e.data.get("satisfied") is False and e.petition_id in ids
        ),
        "monthly": [(f"{m:02d}/{y}", filed[(y, m)], resolved[(y, m)]) for y, m in reversed(months)],
        "repeated": [(p.code, n, y) for p, n, y in meetings.repeatedly_raised() if p.id in ids],
    }


def computed(scope: services.Scope) -> dict:
    data = services.build_dashboard(scope)
    return {
        "total": data.total,
        "by_status": Counter(data.by_status),
        "overdue": [p.code for p in data.overdue],
        "due_soon": [p.code for p in data.due_soon],
        "units": {
            r.unit.id: (r.assigned, r.resolved, r.on_time, r.overdue, sorted(r.days))
            for r in data.units
        },
        "areas": {r.key: (r.total, r.open, r.resolved, r.overdue) for r in data.areas},
        "categories": {r.key: (r.total, r.open, r.resolved, r.overdue) for r in data.categories},
        "rated": data.rated,
        "satisfied": data.satisfied,
        "reopened_unsatisfied": data.reopened_unsatisfied,
        "monthly": data.monthly,
        "repeated": [(p.code, n, y) for p, n, y in data.repeated],
    }


def history(world):
    """Petitions of every kind over the last months, with ratings, repeats and merges."""
    staff = world.users["ward_staff"]
    now = datetime.now()
    made = []
    categories = list(world.categories.values())
    for i in range(24):
        when = now - timedelta(days=7 * i + 1, hours=i)
        with frozen_clock(when):
            p = factories.file(
                world,
                title=f"Kiến nghị số {i}",
                category=categories[i % len(categories)],
                point=factories.INSIDE_EAST if i % 3 else factories.INSIDE_WEST,
            )
        made.append((p, when))
    for i, (p, when) in enumerate(made):
        step = when + timedelta(hours=2)
        kind = i % 8
        with frozen_clock(step):
            if kind == 0:
                continue  # only received (its first reply may be late)
            if kind == 1:
                petitions.review(p, staff)
                continue
            if kind == 2:
                petitions.reject(p, staff, reason="Không thuộc thẩm quyền")
                continue
            if kind == 3 and i > 3:
                petitions.merge(p, staff, into=made[i - 1][0])
                continue
            unit = "infra" if i % 2 else "police"
            expected = (when + timedelta(days=5 + i)).date()
            petitions.assign(
                p,
                staff,
                petitions.AssignmentPlan(lead_unit=world.units[unit], expected_on=expected),
            )
        if kind in (4, 5, 6, 7):
            with frozen_clock(when + timedelta(days=3 + i % 9)):
                if kind == 7:
                    petitions.mark_cannot_resolve(
                        p, staff, reason="Thiếu kinh phí", recommendation="Năm sau"
                    )
                    continue
                petitions.resolve(p, staff, public_note="Đã xử lý")
                if kind == 5:
                    services.rate(p, satisfied=True, comment=None)
                if kind == 6:
                    services.rate(p, satisfied=False, comment="Vẫn còn")
        db.session.commit()
    # A problem raised again, and again: the latest still open.
    made[9][0].repeat_of = made[17][0]
    made[1][0].repeat_of = made[9][0]
    db.session.commit()
    return made


def test_dashboard_agrees_with_the_definitions(app, world):
    history(world)
    for scope in (
        services.Scope(),
        services.Scope(start=local_today() - timedelta(days=60)),
        services.Scope(start=date(2020, 1, 1), end=local_today() - timedelta(days=30)),
    ):
        expected, got = reference(scope), computed(scope)
        assert got == expected
    data = services.build_dashboard(services.Scope())
    assert data.total > 15 and data.rated == 6 and data.reopened_unsatisfied == 3
    assert data.overdue and data.units and data.repeated


def test_working_days_between_many_is_working_days_between():
    days = [date(2026, 2, 10) + timedelta(days=i) for i in range(0, 40, 3)]
    spans = [(a, b) for a in days for b in days]
    overrides = {date(2026, 2, 21): True, date(2026, 3, 2): False}
    assert work_calendar.working_days_between_many(spans, overrides) == [
        work_calendar.working_days_between(a, b, overrides) for a, b in spans
    ]
    assert work_calendar.working_days_between_many([]) == []
