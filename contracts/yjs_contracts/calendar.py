"""Working days on China's official calendar (statutory holidays and 调休 make-up days).

The `chinese_calendar` package knows the years the State Council has published; past them the
calendar falls back to Monday–Friday, which is what a deadline can honestly promise then."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA = ZoneInfo("Asia/Shanghai")
WORKDAY_START = time(9, 0)
WORKDAY_HOURS = 7  # 9:00–12:00 and 13:00–17:00, counted as one 7-hour span


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: datetime, days: float) -> datetime:
    """The moment `days` working days (of WORKDAY_HOURS each) after `start`, in start's timezone."""
    return add_working_time(start, timedelta(hours=WORKDAY_HOURS * days))


def _working_span(day: datetime) -> tuple[datetime, datetime]:
    opens = day.replace(hour=WORKDAY_START.hour, minute=0, second=0, microsecond=0)
    return opens, opens + timedelta(hours=WORKDAY_HOURS)


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """The working time from `start` to `end` (zero when end is not later), counted in China's
    working hours: what a pause of the clock (补正) adds to a promised limit."""
    start, end = start.astimezone(CHINA), end.astimezone(CHINA)
    total = timedelta()
    cursor = start
    while cursor < end:
        if is_working_day(cursor.date()):
            opens, closes = _working_span(cursor)
            begin, finish = max(cursor, opens), min(end, closes)
            if begin < finish:
                total += finish - begin
        cursor = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return total


def add_working_time(start: datetime, working_time: timedelta) -> datetime:
    """The moment `working_time` of working hours after `start` (China's hours, whatever zone
    `start` is in), in start's timezone. No working time: `start` itself."""
    if working_time <= timedelta():
        return start
    remaining = working_time
    cursor = start.astimezone(CHINA) if start.tzinfo is not None else start
    while True:
        day = cursor.date()
        if is_working_day(day):
            opens, closes = _working_span(cursor)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    moment = begin + remaining
                    return moment.astimezone(start.tzinfo) if start.tzinfo is not None else moment
                remaining -= available
        cursor = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
