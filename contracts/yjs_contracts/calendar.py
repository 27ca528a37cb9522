"""Working days on China's official calendar (statutory holidays and 调休 make-up days).

The `chinese_calendar` package knows the years the State Council had published when it was
released; operators load later years from the State Council's notice (`HOLIDAYS_FILE`, read by
`load_schedule` and put in force by `use_schedule`). A day in a year neither knows falls back to
Monday–Friday, and a deadline there is reported to whoever `on_unknown_year` registered."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import chinese_calendar

CHINA = ZoneInfo("Asia/Shanghai")
WORKDAY_START = time(9, 0)


def china_time(value: str | None, seconds: bool = False) -> str:
    """An ISO 8601 time as a person in China reads it: Beijing time, to the minute (or second)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    shown = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return (moment.astimezone(CHINA) if moment.tzinfo else moment).strftime(shown)


_ISO_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")


def in_china_time(value: Any) -> Any:
    """Every time inside a record's outputs (registered_at, a permit's check_due …) as China time."""
    if isinstance(value, str) and _ISO_TIME.match(value):
        return china_time(value)
    if isinstance(value, dict):
        return {k: in_china_time(v) for k, v in value.items()}
    if isinstance(value, list):
        return [in_china_time(v) for v in value]
    return value
WORKDAY_HOURS = 7  # 9:00–12:00 and 13:00–17:00, counted as one 7-hour span

#: the two kinds of entry in a State Council notice: a day off, and a weekend day worked
DAY_OFF, MAKE_UP_DAY = "放假", "调休"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Schedule:
    """The days a State Council notice moves: `days_off` (放假, weekdays among them) and
    `make_up_days` (调休, the weekend days worked), for the `years` the notice covers."""

    days_off: frozenset[date] = frozenset()
    make_up_days: frozenset[date] = frozenset()
    years: frozenset[int] = frozenset()
    names: dict[date, str] = field(default_factory=dict, compare=False)
    # what is_working_day answered under this schedule: a deadline walks every day up to it, for
    # every step of every case
    answers: dict[date, bool] = field(default_factory=dict, compare=False, repr=False)


class ScheduleError(ValueError):
    """A schedule file that cannot be trusted: the file, the line and the field are named."""

    def __init__(self, source: str, line: int, field_name: str, problem: str):
        super().__init__(f"{source} 第 {line} 行 {field_name}：{problem}")
        self.source, self.line, self.field, self.problem = source, line, field_name, problem


def parse_schedule(text: str, source: str = "HOLIDAYS_FILE") -> Schedule:
    """One entry a line, `日期 类别 名称` separated by spaces or tabs: `2027-01-01 放假 元旦`,
    `2027-02-20 调休 春节`. `#` starts a comment; blank lines are skipped. Every problem names
    its line and field; the first one found is raised."""
    days_off: set[date] = set()
    make_up_days: set[date] = set()
    names: dict[date, str] = {}
    seen: dict[date, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3:
            raise ScheduleError(source, number, "line", f"应为“日期 类别 名称”三项，实为 {len(parts)} 项")
        day_text, kind, name = parts
        if not _DATE.fullmatch(day_text):
            raise ScheduleError(source, number, "date", f"应为 YYYY-MM-DD，实为 {day_text}")
        try:
            day = date.fromisoformat(day_text)
        except ValueError:
            raise ScheduleError(source, number, "date", f"没有这一天：{day_text}") from None
        if day in seen:
            raise ScheduleError(source, number, "date", f"{day_text} 已在第 {seen[day]} 行列出")
        if kind == DAY_OFF:
            days_off.add(day)
        elif kind == MAKE_UP_DAY:
            if day.weekday() < 5:
                raise ScheduleError(source, number, "kind", f"{day_text} 是工作日，调休上班日应为周六或周日")
            make_up_days.add(day)
        else:
            raise ScheduleError(source, number, "kind", f"应为 {DAY_OFF} 或 {MAKE_UP_DAY}，实为 {kind}")
        seen[day], names[day] = number, name
    if not seen:
        raise ScheduleError(source, 1, "line", "文件中没有任何日期")
    return Schedule(frozenset(days_off), frozenset(make_up_days), frozenset(d.year for d in seen), names)


def load_schedule(path: str | Path) -> Schedule:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScheduleError(str(path), 0, "file", f"无法读取：{error}") from None
    return parse_schedule(text, str(path))


_schedule = Schedule()
_unknown_year_listeners: list[Callable[[int], None]] = []


def use_schedule(schedule: Schedule) -> None:
    """Put a loaded schedule in force for this process (once, at start)."""
    global _schedule
    _schedule = schedule


def on_unknown_year(listener: Callable[[int], None]) -> None:
    """Call `listener(year)` for every deadline that falls in a year the calendar does not know."""
    _unknown_year_listeners.append(listener)


@lru_cache(maxsize=None)  # asked for every deadline; what the installed package knows never changes
def _package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
        return True
    except NotImplementedError:
        return False


def knows_year(year: int) -> bool:
    """Whether the holidays and 调休 days of `year` are known (the package or the loaded file)."""
    return year in _schedule.years or _package_knows(year)


def _note_deadline(start: date, end: date) -> None:
    """A deadline counted through a year nobody knows: told once per year it touched."""
    for year in range(start.year, end.year + 1):
        if not knows_year(year):
            for listener in _unknown_year_listeners:
                listener(year)


def is_working_day(day: date) -> bool:
    answers = _schedule.answers
    answer = answers.get(day)
    if answer is None:
        answer = answers[day] = _working_day(_schedule, day)
    return answer


def _working_day(schedule: Schedule, day: date) -> bool:
    # the notice loaded by the operator first: it is the later word on the days it names
    if day in schedule.make_up_days:
        return True
    if day in schedule.days_off:
        return False
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


def working_day_on_or_after(day: date) -> date:
    """The day itself if it is a working day, or the next one: where a period whose last day
    is a day off ends (a deadline, so reported when its year is unknown)."""
    last = day
    while not is_working_day(last):
        last += timedelta(days=1)
    _note_deadline(day, last)
    return last


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
                    _note_deadline(start.date(), moment.date())
                    return moment.astimezone(start.tzinfo) if start.tzinfo is not None else moment
                remaining -= available
        cursor = (cursor + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
