"""Working days in Vietnam: weekends and public holidays are not working days.

Holidays come from the ``holidays`` package (Tết by the lunar calendar, substitute days
"nghỉ bù", swapped days "thay cho ngày …", which also make that Saturday a working
day), and the overrides (:class:`~portal.monitoring.models.CalendarOverride`: the city's,
and the ward admin's over them) win over both. Functions take the overrides as a mapping
so that they stay pure and testable; :func:`overrides` reads them from the database once
per request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache

import holidays
from flask import g, has_app_context
from sqlalchemy import select

_SWAPPED_FOR = re.compile(r"thay cho ngày (\d{1,2})/(\d{1,2})/(\d{4})")

Overrides = Mapping[date, bool]


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[dict[date, str], frozenset[date]]:
    """(days off with their names, swapped working days) of one year."""
    days_off = dict(holidays.country_holidays("VN", years=year, language="vi"))
    working = set()
    for name in days_off.values():
        found = _SWAPPED_FOR.search(name)
        if found:
            day, month, swapped_year = map(int, found.groups())
            working.add(date(swapped_year, month, day))
    return days_off, frozenset(working)


def holiday_name(day: date) -> str | None:
    return _year(day.year)[0].get(day)


def is_working_day(day: date, overrides: Overrides | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    days_off, swapped = _year(day.year)
    if day in swapped:
        return True
    return day.weekday() < 5 and day not in days_off


def add_working_days(start: date, count: int, overrides: Overrides | None = None) -> date:
    """The day ``count`` working days after ``start`` (``start`` itself not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            remaining -= 1
    return day


def working_days_between(start: date, end: date, overrides: Overrides | None = None) -> int:
    """Working days after ``start`` up to and including ``end``; negative when end < start."""
    if end < start:
        return -working_days_between(end, start, overrides)
    return sum(
        1
        for offset in range(1, (end - start).days + 1)
        if is_working_day(start + timedelta(days=offset), overrides)
    )


def working_days_between_many(
    spans: list[tuple[date, date]], overrides: Overrides | None = None
) -> list[int]:
    """:func:`working_days_between` for each (start, end), in one pass over the calendar.

    A running count of working days over the whole period makes each answer a
    subtraction, so thousands of petitions cost no more than the days they cover.
    """
    if not spans:
        return []
    first = min(min(start, end) for start, end in spans)
    last = max(max(start, end) for start, end in spans)
    running = [0]  # running[i]: working days after ``first`` up to and including first + i
    for offset in range(1, (last - first).days + 1):
        running.append(running[-1] + is_working_day(first + timedelta(days=offset), overrides))
    base = first.toordinal()
    return [
        running[end.toordinal() - base] - running[start.toordinal() - base] for start, end in spans
    ]


def overrides() -> dict[date, bool]:
    """The overrides of this deployment's ward over the city's, read once per request
    (or command)."""
    from portal.extensions import db
    from portal.monitoring.models import CalendarOverride
    from portal.units.services import of_this_ward

    if has_app_context() and "calendar_overrides" in g:
        return g.calendar_overrides
    owner = CalendarOverride.ward_id
    rows = db.session.execute(
        select(CalendarOverride.day, CalendarOverride.is_working, owner).where(
            of_this_ward(owner, legacy=True)  # the ward's own and every ward's
        )
    ).all()
    # The city's first, then the ward's own over them.
    result = {day: working for day, working, ward in rows if ward is None}
    result.update({day: working for day, working, ward in rows if ward is not None})
    if has_app_context():
        g.calendar_overrides = result
    return result


def forget_overrides() -> None:
    """Read the overrides afresh next time (after one was set or removed)."""
    if has_app_context():
        g.pop("calendar_overrides", None)
