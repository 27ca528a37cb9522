"""How long notices run. Production counts calendar days (20 for 简易注销, at least 45 for the
creditor notice of 一般注销); tests and demos set NOTICE_PERIOD_SECONDS to run every notice in
seconds instead.

    NOTICE_DAYS_SIMPLE      20   a region may lengthen, never shorten
    NOTICE_DAYS_GENERAL     45
    NOTICE_DAYS_REDUCTION   45   a capital reduction's 减资公告 (公司法 art. 224)
    NOTICE_PERIOD_SECONDS   -    every notice runs this many seconds (tests, `make demo`)

How often each replica looks for notices whose period is over: NOTICE_CHECK_SECONDS (1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping

#: the legal periods in calendar days (市场监管总局 简易注销 20 日; 公司法 债权人公告 and 减资公告 45 日)
LEGAL_DAYS = {"simple": 20, "general": 45, "reduction": 45}


@dataclass(frozen=True)
class NoticePeriods:
    days: Mapping[str, int]
    seconds: float | None = None  # set: every notice runs this long, whatever its route


def notice_periods(environ: Mapping[str, str] = os.environ) -> NoticePeriods:
    days = {route: int(environ.get(f"NOTICE_DAYS_{route.upper()}", legal)) for route, legal in LEGAL_DAYS.items()}
    for route, value in days.items():
        if value < LEGAL_DAYS[route]:
            raise ValueError(f"NOTICE_DAYS_{route.upper()}={value} is shorter than the legal {LEGAL_DAYS[route]} days")
    seconds = environ.get("NOTICE_PERIOD_SECONDS")
    return NoticePeriods(days=days, seconds=float(seconds) if seconds else None)
