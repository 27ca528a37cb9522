"""Working days on China's official calendar (statutory holidays and 调休 make-up days).

The `chinese_calendar` package knows the years the State Council has published; past them the
calendar falls back to Monday–Friday, which is what a deadline can honestly promise then."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import chinese_calendar

WORKDAY_START = time(9, 0)
WORKDAY_HOURS = 7  # 9:00–12:00 and 13:00–17:00, counted as one 7-hour span


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: datetime, days: float) -> datetime:
    """The moment `days` working days (of WORKDAY_HOURS each) after `start`, in start's timezone."""
    remaining = timedelta(hours=WORKDAY_HOURS * days)
    cursor = start
    while True:
        day = cursor.date()
        if is_working_day(day):
            opens = cursor.replace(hour=WORKDAY_START.hour, minute=0, second=0, microsecond=0)
            closes = opens + timedelta(hours=WORKDAY_HOURS)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        cursor = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
