"""Working days with the district's holidays and 调休 days (issue 32, point 2)."""
from datetime import date

import pytest

from evalapp.domain.workdays import Calendar, end_of_day, last_working_day, working_days_left

# 2026's National Day: 1–7 October off (Thursday to Wednesday), Saturday 10 October a 调休 working day.
NATIONAL_DAY = Calendar(holidays=frozenset(date(2026, 10, d) for d in range(1, 8)),
                        workdays=frozenset({date(2026, 10, 10)}))


def test_seven_working_days_across_a_holiday_and_a_tiaoxiu_saturday():
    # From Tuesday 29 September: 29, 30 (2), holiday week skipped, Thu 8, Fri 9 (4), Sat 10 调休 (5), Mon 12 (6),
    # Tue 13 (7).
    assert last_working_day(date(2026, 9, 29), 7, NATIONAL_DAY) == date(2026, 10, 13)
    # Without the calendar it would end on Wednesday 7 October, inside the holiday.
    assert last_working_day(date(2026, 9, 29), 7, Calendar()) == date(2026, 10, 7)


def test_a_start_on_a_day_off_counts_from_the_next_working_day():
    assert last_working_day(date(2026, 10, 3), 1, NATIONAL_DAY) == date(2026, 10, 8)
    assert last_working_day(date(2026, 10, 10), 1, NATIONAL_DAY) == date(2026, 10, 10)


def test_the_period_ends_at_midnight_beijing_time_and_days_left_count_working_days():
    end = end_of_day(date(2026, 10, 13))
    assert end.isoformat() == "2026-10-14T00:00:00+08:00"
    assert working_days_left(date(2026, 10, 9), date(2026, 10, 13), NATIONAL_DAY) == 4
    assert working_days_left(date(2026, 10, 15), date(2026, 10, 13), NATIONAL_DAY) == -2
    with pytest.raises(ValueError):
        last_working_day(date(2026, 10, 1), 0, NATIONAL_DAY)
