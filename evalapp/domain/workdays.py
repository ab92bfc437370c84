"""Working days (工作日) as the district's calendar has them: Monday to Friday, less the public holidays, plus the
调休 days (a Saturday or Sunday made a working day around a holiday). Pure: the calendar is handed in."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
MAX_LENGTH = 60  # a notice period longer than 60 working days is a typing error


@dataclass(frozen=True)
class Calendar:
    """The district's exceptions to the week: holidays (days off) and 调休 working days."""

    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5


def last_working_day(start: date, length: int, calendar: Calendar) -> date:
    """The `length`-th working day counting from `start` (itself the first when it is a working day)."""
    if length < 1:
        raise ValueError("length must be at least 1")
    day, counted = start, 0
    while True:
        if calendar.is_working_day(day):
            counted += 1
            if counted == length:
                return day
        day += timedelta(days=1)


def end_of_day(day: date) -> datetime:
    """24:00 Beijing time at the end of `day`, as an aware UTC-comparable datetime."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=BEIJING)


def working_days_left(today: date, last: date, calendar: Calendar) -> int:
    """Working days from `today` (counted when a working day) to `last` inclusive; negative days past it count as the
    calendar days overdue (a to-do shows 已逾期n天)."""
    if today > last:
        return -(today - last).days
    n, day = 0, today
    while day <= last:
        n += calendar.is_working_day(day)
        day += timedelta(days=1)
    return n
