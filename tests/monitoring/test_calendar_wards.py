"""Day swaps in a city deployment: a ward's admin changes the ward's own calendar only.

One database holds a city's wards, each deployment serving one (``PORTAL_WARD_CODE``).
A day off that one ward's admin adds must not move another ward's deadlines, and a ward's
admin may neither see nor remove another ward's days. Days of every ward are set with
``flask portal calendar --all-wards``; the ward's admin sees them and may set the same day
otherwise for the ward alone.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal import calendar as work_calendar
from portal.extensions import db
from portal.monitoring.models import CalendarOverride
from tests import factories

# Friday 04/12/2026, 09:00 in Hà Nội: the next working days are Monday 07/12 onwards.
FRIDAY = datetime(2026, 12, 4, 2, 0)
MONDAY = date(2026, 12, 7)


@pytest.fixture
def other_ward(world):
    other = factories.build_other_ward(world)
    db.session.commit()
    return other


def _file(ward_world, **kwargs):
    from portal.timeutil import frozen_clock

    with frozen_clock(FRIDAY):
        petition = factories.file(ward_world, **kwargs)
    db.session.commit()
    return petition


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["portal", "calendar", *args])


def test_a_wards_day_off_moves_only_its_own_deadlines(app, client, auth, world, other_ward):
    auth.as_role(world, "admin")
    response = client.post("/quan-ly/lich", data={"day": "07/12/2026", "kind": "off"})
    assert response.status_code == 303
    category = world.categories["thoat-nuoc"]
    ours = _file(world, category=category)
    with factories.serving(app, factories.OTHER_WARD_CODE):
        assert MONDAY not in work_calendar.overrides()
        theirs = _file(other_ward, category=category)
    # Theirs counts Monday 07/12; ours starts a working day later.
    assert theirs.reply_due_on == work_calendar.add_working_days(FRIDAY.date(), 5)
    assert ours.reply_due_on == work_calendar.add_working_days(theirs.reply_due_on, 1)


def test_another_wards_admin_neither_sees_nor_removes_the_day(app, client, auth, world, other_ward):
    auth.as_role(world, "admin")
    client.post("/quan-ly/lich", data={"day": "07/12/2026", "kind": "off", "note": "Lễ hội"})
    auth.logout()
    with factories.serving(app, factories.OTHER_WARD_CODE):
        auth.as_role(other_ward, "admin")
        page = client.get("/quan-ly/lich").get_data(as_text=True)
        assert "07/12/2026" not in page and "Lễ hội" not in page
        assert client.post("/quan-ly/lich/2026-12-07/xoa").status_code == 404
    row = db.session.scalar(select(CalendarOverride))
    assert (row.day, row.is_working, row.ward_id) == (MONDAY, False, world.ward.id)


def test_every_wards_days_come_from_the_command(app, client, auth, world, other_ward):
    result = _run(app, "set", "07/12/2026", "--off", "--note", "Quyết định 12/QĐ", "--all-wards")
    assert result.exit_code == 0, result.output
    assert "07/12/2026 là ngày nghỉ của mọi phường/xã." in result.output
    for code in (world.ward.code, factories.OTHER_WARD_CODE):
        with factories.serving(app, code):
            assert work_calendar.overrides() == {MONDAY: False}

    auth.as_role(world, "admin")
    page = client.get("/quan-ly/lich").get_data(as_text=True)
    assert "Áp dụng cho mọi phường/xã" in page and "Quyết định 12/QĐ" in page
    assert "/quan-ly/lich/2026-12-07/xoa" not in page  # not the ward's to remove
    assert client.post("/quan-ly/lich/2026-12-07/xoa").status_code == 404
    assert db.session.scalar(select(CalendarOverride.ward_id)) is None  # still there

    # The ward may still work that day: its own row wins, for it alone.
    response = client.post("/quan-ly/lich", data={"day": "07/12/2026", "kind": "working"})
    assert response.status_code == 303
    page = client.get("/quan-ly/lich").get_data(as_text=True)
    assert "phường/xã đã điều chỉnh riêng" in page
    work_calendar.forget_overrides()
    assert work_calendar.overrides() == {MONDAY: True}
    with factories.serving(app, factories.OTHER_WARD_CODE):
        assert work_calendar.overrides() == {MONDAY: False}

    listed = _run(app, "list").output
    assert "07/12/2026 làm việc" in listed and "07/12/2026 nghỉ (Quyết định 12/QĐ)" in listed
    assert _run(app, "delete", "2026-12-07", "--all-wards").exit_code == 0
    with factories.serving(app, factories.OTHER_WARD_CODE):
        assert work_calendar.overrides() == {}
    assert work_calendar.overrides() == {MONDAY: True}


def test_the_command_without_all_wards_acts_on_this_ward(app, world, other_ward):
    assert _run(app, "set", "07/12/2026", "--working").exit_code == 0
    assert db.session.scalar(select(CalendarOverride.ward_id)) == world.ward.id
    with factories.serving(app, factories.OTHER_WARD_CODE):
        assert work_calendar.overrides() == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["set", "31/02/2026", "--off"], "“31/02/2026” không phải ngày"),
        (["set", "hôm qua", "--working"], "không phải ngày"),
        (["delete", "08/12/2026"], "không có điều chỉnh ngày 08/12/2026"),
    ],
)
def test_the_command_refuses_bad_input_and_keeps_what_is_saved(app, world, args, message):
    assert _run(app, "set", "07/12/2026", "--off", "--note", "Đã có").exit_code == 0
    result = _run(app, *args)
    assert result.exit_code != 0
    assert message in result.output
    rows = db.session.scalars(select(CalendarOverride)).all()
    assert [(r.day, r.is_working, r.note) for r in rows] == [(MONDAY, False, "Đã có")]


def test_a_database_without_the_deployments_ward_says_so(app, world):
    with factories.serving(app, "99999"):
        result = _run(app, "set", "07/12/2026", "--off")
    assert result.exit_code != 0 and "flask portal setup-ward" in result.output
    assert db.session.scalars(select(CalendarOverride)).all() == []
