"""Licensing's figure operators watch: post-issuance checks of 告知承诺 permits past their day,
per department, read from the records at scrape time so every replica reports the truth."""

from __future__ import annotations

from datetime import datetime, timezone

from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from yjs_kit.metrics import MetricsServer
from yjs_kit.uow import Database

from . import checks


class OverdueChecks:
    def __init__(self, database: Database):
        self.database = database

    def collect(self):
        family = GaugeMetricFamily("yjs_commitment_checks_overdue",
                                   "告知承诺 post-issuance checks not done by the day they were due", labels=["department"])
        counts = None
        try:
            with self.database.engine.connect() as connection:
                counts = checks.overdue_counts(connection, datetime.now(timezone.utc))
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            pass
        if counts is not None:
            family.add_metric([checks.DEPARTMENT], counts.get(checks.DEPARTMENT, 0))  # 0 too: an alert needs the series
        yield family


_collector: OverdueChecks | None = None


class LicensingMetrics(MetricsServer):
    def setup(self):
        super().setup()
        global _collector
        database = next(d for d in self.container.dependencies if isinstance(d, Database))
        if _collector is None:  # once per process; a restarted container (tests) points it at its own database
            _collector = OverdueChecks(database)
            REGISTRY.register(_collector)
        _collector.database = database
