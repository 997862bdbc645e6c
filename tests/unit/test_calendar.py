"""Working days: weekends, Vietnamese public holidays with Tết, substitute days, overrides."""

from datetime import date

import pytest

from portal.calendar import add_working_days, holiday_name, is_working_day, working_days_between


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 2, 16),  # Giao thừa
        date(2026, 2, 17),  # Tết Nguyên đán 2026
        date(2026, 2, 20),
        date(2027, 2, 8),  # Tết 2027 (mùng 3)
        date(2027, 2, 10),
        date(2026, 4, 30),
        date(2026, 5, 1),
        date(2026, 9, 2),
        date(2026, 4, 27),  # Giỗ Tổ on a Sunday: the Monday is off (nghỉ bù)
        date(2027, 5, 3),  # 1/5/2027 is a Saturday: Monday off
        date(2026, 8, 31),  # swapped day off
    ],
)
def test_days_off(day):
    assert not is_working_day(day)
    assert holiday_name(day)


def test_weekends_are_not_working_days():
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday
    assert is_working_day(date(2026, 11, 27))  # Friday


def test_swapped_saturday_is_a_working_day():
    # 31/08/2026 is taken off in exchange for Saturday 22/08/2026.
    assert is_working_day(date(2026, 8, 22))


def test_add_working_days_across_tet_2026():
    # Friday 13/02/2026 + 1 working day: the whole Tết week is off, next is Monday 23/02.
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert add_working_days(date(2026, 2, 13), 5) == date(2026, 2, 27)


def test_add_working_days_across_30_4_and_1_5():
    # Wednesday 29/04/2026 + 1: Thu 30/4 and Fri 1/5 off, weekend, so Monday 04/05.
    assert add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)


def test_add_working_days_across_national_day():
    # Friday 28/08/2026: Mon 31/8 (swap), Tue 1/9 and Wed 2/9 off.
    assert add_working_days(date(2026, 8, 28), 1) == date(2026, 9, 3)


def test_overrides_win():
    day = date(2026, 11, 28)  # a Saturday
    assert is_working_day(day, {day: True})
    assert add_working_days(date(2026, 11, 27), 1, {day: True}) == day
    extra_off = date(2026, 11, 30)
    assert add_working_days(date(2026, 11, 27), 1, {extra_off: False}) == date(2026, 12, 1)


def test_working_days_between():
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 27)) == 3  # 24/11 is off
    assert working_days_between(date(2026, 11, 27), date(2026, 11, 23)) == -3
    assert working_days_between(date(2026, 1, 5), date(2026, 1, 5)) == 0
