"""Timers: a nameko timer whose interval is a setting (the service's config, else the
environment, else a default — so tests and demos run the same checks every fraction of a
second), and the way every timer works through its due rows: one row per transaction, a row
that keeps failing parked instead of blocking the rows behind it."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import Any, Callable, Hashable

import structlog
from nameko.timer import Timer
from prometheus_client import Counter
from sqlalchemy import String, cast, select

log = structlog.get_logger(__name__)

#: tries before a row is parked
MAX_ATTEMPTS = 5

TIMER_ROW_FAILURES = Counter("yjs_timer_row_failures_total", "A timer's row whose work failed (rolled back)",
                             ["service", "timer"])
TIMER_ROWS_PARKED = Counter("yjs_timer_rows_parked_total",
                            "A timer's rows parked after failing every try: an operator must look",
                            ["service", "timer"])


class ConfiguredTimer(Timer):
    def __init__(self, setting: str, default: float, **kwargs):
        self.setting = setting
        super().__init__(interval=default, **kwargs)

    def setup(self):
        configured = self.container.config.get(self.setting) or os.environ.get(self.setting)
        if configured:
            self.interval = float(configured)
        super().setup()


every = ConfiguredTimer.decorator


def not_parked(timer: str, key_column, metadata) -> Any:
    """A condition for a timer's due query: its row is not parked (so parked rows never fill a batch)."""
    failures = metadata.tables["kit_timer_failures"]
    return cast(key_column, String).notin_(select(failures.c.row_key).where(
        (failures.c.timer == timer) & failures.c.parked_at.is_not(None)))


def each_due_row(database, service: str, timer: str, keys: list[Hashable],
                 work: Callable[[Any, Hashable], Any]) -> list[Any]:
    """Runs `work(uow, key)` for each due row in a transaction of its own, and returns what the
    ones that did something returned (None: nothing to do). A row that raises is rolled back,
    counted and retried on the next tick; after MAX_ATTEMPTS it is parked, and the rest go on."""
    done = []
    for key in keys:
        try:
            with database.unit_of_work() as uow:
                result = work(uow, key)
        except Exception as error:  # noqa: BLE001 - one row's failure must not stop the others
            _failed(database, service, timer, str(key), error)
            continue
        if result is not None:
            done.append(result)
    return done


def _failed(database, service: str, timer: str, key: str, error: Exception) -> None:
    TIMER_ROW_FAILURES.labels(service, timer).inc()
    failures = database.metadata.tables["kit_timer_failures"]
    now = datetime.now(timezone.utc)
    with database.unit_of_work() as uow:
        attempts = (uow.session.execute(select(failures.c.attempts).where(
            (failures.c.timer == timer) & (failures.c.row_key == key))).scalar() or 0) + 1
        parked = attempts >= MAX_ATTEMPTS
        values = dict(timer=timer, row_key=key, attempts=attempts, last_error=repr(error)[:2000], failed_at=now,
                      parked_at=now if parked else None)
        uow.upsert(failures, ["timer", "row_key"], **values)
    if parked:
        TIMER_ROWS_PARKED.labels(service, timer).inc()
        log.error("timer row parked after failing every try", timer=timer, row=key, attempts=attempts,
                  error=repr(error))
    else:
        log.warning("timer row failed; tried again on the next tick", timer=timer, row=key, attempts=attempts,
                    error=repr(error))
