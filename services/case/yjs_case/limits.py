"""Limits kept or not, pure: how long a case or a step took in working time on China's calendar,
补正 pauses excluded, against its promised limit (承诺时限) and its legal limit (法定时限); and the
percentiles the figures (无感监测) are made of."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from yjs_contracts.calendar import WORKDAY_HOURS, add_working_time, working_time_between

Interval = tuple[datetime, datetime]


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of the intervals, in order: two steps paused at once pause the case once."""
    out: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def paused_time(pauses: Iterable[Interval], start: datetime, end: datetime) -> timedelta:
    """The working time within [start, end] during which the clock stood still."""
    return sum((working_time_between(max(a, start), min(b, end)) for a, b in merged(pauses)), timedelta())


def total_paused(pauses: Iterable[Interval]) -> timedelta:
    """The working time the pauses took, each moment once."""
    return sum((working_time_between(a, b) for a, b in merged(pauses)), timedelta())


def net_working_time(start: datetime, end: datetime, pauses: Iterable[Interval] = ()) -> timedelta:
    """From start to end in working time, pauses excluded."""
    return working_time_between(start, end) - paused_time(pauses, start, end)


def limit(days: float) -> timedelta:
    return timedelta(hours=WORKDAY_HOURS * days)


def kept(took: timedelta | None, days: float | None) -> bool | None:
    """Within the limit; None when it has not ended or no limit was recorded."""
    if took is None or days is None:
        return None
    return took <= limit(days)


def due(start: datetime, days: float, pauses: Iterable[Interval] = ()) -> datetime:
    """Where a limit of `days` working days from `start` ends, moved by the working time paused."""
    return add_working_time(start, limit(days) + total_paused(pauses))


def hours(time: timedelta) -> float:
    return time.total_seconds() / 3600


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100), interpolated between the nearest ranks (as a spreadsheet's
    PERCENTILE.INC); None of nothing."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
