"""The business figures operators watch, on top of the kit's: cases submitted and finished,
case and step durations, deadline breaches, steps in progress, and the 无感监测 report's
headline figures per matter over the last 30 days."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from yjs_contracts.steps import DEPARTMENTS, FINAL_STEP_STATUSES, StepStatus

from . import report
from .models import case_steps, follow_ups

DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 4 * 3600, 24 * 3600, 5 * 24 * 3600)

CASES_SUBMITTED = Counter("yjs_cases_submitted_total", "Cases accepted", ["matter"])
CASES_FINISHED = Counter("yjs_cases_finished_total", "Cases finished, by outcome", ["matter", "outcome"])
CASE_SECONDS = Histogram("yjs_case_duration_seconds", "Submission to finish", ["matter"], buckets=DURATION_BUCKETS)
STEP_SECONDS = Histogram("yjs_step_duration_seconds", "Submission to a step's outcome", ["department"],
                         buckets=DURATION_BUCKETS)
DEADLINE_BREACHES = Counter("yjs_step_deadline_breaches_total",
                            "Steps past their promised limit (限时办结), each counted once", ["department"])
FOLLOW_UPS_ESCALATED = Counter("yjs_follow_ups_escalated_total",
                               "差评督办 escalated to operators, by the department owning it and why (overdue, rejected)",
                               ["department", "reason"])
RATING_APPEALS_UPHELD = Counter("yjs_rating_appeals_upheld_total",
                                "Appeals (申诉) upheld: ratings kept in the record, out of the figures", ["department"])
RATINGS = Counter("yjs_ratings_total", "好差评 given, by department (\"overall\" for the case) and level 1-5",
                  ["department", "level"])


def record_ratings(overall: int, departments: dict[str, int]) -> None:
    RATINGS.labels("overall", str(overall)).inc()
    for department, level in departments.items():
        RATINGS.labels(department, str(level)).inc()


def record_change(change: dict | None, submitted_seconds: float | None = None) -> None:
    """Called after the commit, so a rolled-back fold counts nothing."""
    if not change:
        return
    if change["status"] in (StepStatus.completed, StepStatus.rejected) and change.get("step_seconds") is not None:
        STEP_SECONDS.labels(change["department"]).observe(change["step_seconds"])
    if change["late"]:
        DEADLINE_BREACHES.labels(change["department"]).inc()
    if change["finished"]:
        CASES_FINISHED.labels(change["matter"], change["case_status"]).inc()
        CASE_SECONDS.labels(change["matter"]).observe(change["case_seconds"])


class StepsInProgress:
    """yjs_steps_in_progress{department}, yjs_reviews_waiting{department} (steps with a
    department's staff), yjs_follow_ups_open and yjs_follow_ups_escalated_open: read from the
    records at scrape time, so every replica reports the truth rather than its own share."""

    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        family = GaugeMetricFamily("yjs_steps_in_progress", "Steps started and not yet decided", labels=["department"])
        open_statuses = [s.value for s in StepStatus if s not in FINAL_STEP_STATUSES and s != StepStatus.pending]
        reviews = GaugeMetricFamily("yjs_reviews_waiting", "Steps waiting for a department's staff (人工审核)",
                                    labels=["department"])
        follow_ups_open = GaugeMetricFamily("yjs_follow_ups_open", "Follow-ups of bad ratings not yet answered")
        escalated = GaugeMetricFamily("yjs_follow_ups_escalated_open",
                                      "Follow-ups of bad ratings escalated to operators and not yet closed")
        rows, waiting, by_status = [], [], None
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(select(case_steps.c.department, func.count()).where(
                    case_steps.c.status.in_(open_statuses)).group_by(case_steps.c.department)).all()
                waiting = connection.execute(select(case_steps.c.department, func.count()).where(
                    case_steps.c.status == StepStatus.awaiting_review.value).group_by(case_steps.c.department)).all()
                by_status = dict(connection.execute(select(follow_ups.c.status, func.count()).where(
                    follow_ups.c.status.in_(("open", "escalated"))).group_by(follow_ups.c.status)).all())
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            pass
        for department, count in rows:
            family.add_metric([department], count)
        counts = dict(waiting)
        for department in DEPARTMENTS:  # every department, 0 included: an alert needs the series
            reviews.add_metric([department], counts.get(department, 0))
        if by_status is not None:
            follow_ups_open.add_metric([], by_status.get("open", 0))
            escalated.add_metric([], by_status.get("escalated", 0))
        yield family
        yield reviews
        yield follow_ups_open
        yield escalated


class MatterFigures:
    """The 无感监测 report (GET /v1/reports/matters) of the last 30 days, per matter, at scrape
    time: yjs_matter_cases_finished, yjs_matter_within_promised_limit_ratio and
    yjs_matter_working_hours{quantile="0.5"|"0.9"}. The same computation as the report, so the
    panel and the report agree; a matter with no known figure has no sample rather than a 0.
    The computation walks every case of the window (seconds for tens of thousands), so a result is kept
    for `max_age` seconds (MATTER_FIGURES_SECONDS) rather than made again at every scrape."""

    def __init__(self, engine, max_age: float = 0):
        self.engine, self.max_age = engine, max_age
        self._kept: tuple[float, list] | None = None

    def _matters(self) -> list:
        now = time.monotonic()
        if self._kept is not None and now - self._kept[0] < self.max_age:
            return self._kept[1]
        start, end = report.recent(datetime.now(timezone.utc))
        with self.engine.connect() as connection:
            matters = report.headline_report(connection, start, end)
        self._kept = (now, matters)
        return matters

    def collect(self):
        finished = GaugeMetricFamily("yjs_matter_cases_finished", "Cases finished (办结) in the last 30 days",
                                     labels=["matter"])
        within = GaugeMetricFamily("yjs_matter_within_promised_limit_ratio",
                                   "Share of the cases finished in the last 30 days within the promised limit (承诺时限)",
                                   labels=["matter"])
        took = GaugeMetricFamily("yjs_matter_working_hours",
                                 "Working hours from submission to finish, 补正 pauses excluded, of the cases "
                                 "finished in the last 30 days", labels=["matter", "quantile"])
        matters = []
        try:
            matters = self._matters()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            pass
        for figures in matters:
            matter = figures["matter"]
            finished.add_metric([matter], figures["cases_finished"])
            if figures["within_promised_limit"] is not None:
                within.add_metric([matter], figures["within_promised_limit"])
            for quantile, key in (("0.5", "median_working_hours"), ("0.9", "p90_working_hours")):
                if figures[key] is not None:
                    took.add_metric([matter, quantile], figures[key])
        yield finished
        yield within
        yield took


_collectors: tuple[StepsInProgress, MatterFigures] | None = None


def register_collector(engine, matter_figures_seconds: float = 300) -> None:
    """Once per process; a restarted container (tests) points them at its own engine."""
    global _collectors
    if _collectors is None:
        _collectors = (StepsInProgress(engine), MatterFigures(engine))
        for collector in _collectors:
            REGISTRY.register(collector)
    for collector in _collectors:
        collector.engine = engine
    _collectors[1].max_age = matter_figures_seconds
    _collectors[1]._kept = None
