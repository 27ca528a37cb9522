"""The working calendar a process counts deadlines on: the State Council's schedule for years the
calendar package does not know, loaded from HOLIDAYS_FILE at start, and a warning and a metric
for every year still unknown."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import Mapping

import structlog
from yjs_contracts import calendar

from .metrics import CALENDAR_LAST_KNOWN_YEAR, DEADLINES_IN_UNKNOWN_YEAR

log = structlog.get_logger("yjs.holidays")

HOLIDAYS_FILE = "HOLIDAYS_FILE"
#: how far a start looks ahead: the longest period counted here (a 45-day creditor notice) and a margin
LOOKAHEAD = timedelta(days=90)


def last_known_year() -> int:
    return max((y for y in range(2004, 2101) if calendar.knows_year(y)), default=0)


def unknown_years(today: date, lookahead: timedelta = LOOKAHEAD) -> list[int]:
    """The years from today to the lookahead whose holidays nobody loaded."""
    return [y for y in range(today.year, (today + lookahead).year + 1) if not calendar.knows_year(y)]


def configure(service: str, environ: Mapping[str, str] = os.environ, today: date | None = None) -> list[int]:
    """At start: load HOLIDAYS_FILE when set (a calendar.ScheduleError names the file, line and
    field), count deadlines in unknown years, and warn of the years ahead still unknown."""
    path = environ.get(HOLIDAYS_FILE)
    if path:
        schedule = calendar.load_schedule(path)
        calendar.use_schedule(schedule)
        log.info("holidays loaded", file=path, years=sorted(schedule.years), days_off=len(schedule.days_off),
                 make_up_days=len(schedule.make_up_days))
    CALENDAR_LAST_KNOWN_YEAR.labels(service).set(last_known_year())
    warned: set[int] = set()

    def deadline_in_unknown_year(year: int) -> None:
        DEADLINES_IN_UNKNOWN_YEAR.labels(service, str(year)).inc()
        if year not in warned:  # once a year per process: the metric counts the rest
            warned.add(year)
            log.warning("deadline in a year the calendar does not know; counted Monday to Friday",
                        year=year, hint=f"load the State Council's schedule for {year} with {HOLIDAYS_FILE}")

    calendar.on_unknown_year(deadline_in_unknown_year)
    unknown = unknown_years(today or datetime.now(calendar.CHINA).date())
    if unknown:
        log.warning("the calendar does not know the holidays of years ahead; deadlines there count Monday to Friday",
                    years=unknown, hint=f"load the State Council's schedule with {HOLIDAYS_FILE}")
    return unknown
