"""The metrics every service process exposes on its own /metrics port."""

from __future__ import annotations

import time

from nameko.extensions import DependencyProvider
from prometheus_client import Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

HANDLER_SECONDS = Histogram("yjs_handler_seconds", "Time spent in a handler", ["service", "handler"],
                            buckets=LATENCY_BUCKETS)
HTTP_SECONDS = Histogram("yjs_http_seconds", "HTTP request latency", ["method", "route", "status"],
                         buckets=LATENCY_BUCKETS)
EVENTS_CONSUMED = Counter("yjs_events_consumed_total", "Events consumed, by outcome",
                          ["service", "event_type", "outcome"])
EVENTS_PUBLISHED = Counter("yjs_events_published_total", "Events published (confirmed by the broker)",
                           ["service", "event_type"])
OUTBOX_BACKLOG = Gauge("yjs_outbox_backlog", "Events stored but not yet published", ["service"])
OUTBOX_OLDEST_UNSENT = Gauge("yjs_outbox_oldest_unsent_seconds", "Age of the oldest event stored but not yet published",
                             ["service"])
OUTBOX_PARKED = Gauge("yjs_outbox_parked", "Events the broker kept refusing or returning, waiting for an operator",
                      ["service"])
OUTBOX_RELAY_ALIVE = Gauge("yjs_outbox_relay_alive", "1 while the outbox relay's loop runs", ["service"])
OUTBOX_RELAY_RESTARTS = Counter("yjs_outbox_relay_restarts_total", "Times the outbox relay's loop ended and restarted",
                                ["service"])
DEAD_LETTERS = Counter("yjs_dead_letters_total", "Messages dead-lettered", ["service", "event_type"])
DEAD_LETTERS_WAITING = Gauge("yjs_dead_letters_waiting", "Dead letters not yet replayed", ["service"])
EVENTS_REFUSED = Counter("yjs_events_refused_total",
                         "Messages dead-lettered on arrival: unreadable, provenance or invalid",
                         ["service", "event_type", "reason"])
DB_STATEMENTS = Counter("yjs_db_statements_total", "SQL statements sent to the service's own database", ["service"])
DB_ROUND_TRIPS = Counter("yjs_db_round_trips_total",
                         "Round trips to the service's own database: a statement, or several sent together, or a commit",
                         ["service"])
REVIEW_DECISIONS = Counter("yjs_review_decisions_total",
                           "Staff decisions on steps in review (人工审核): approve, refuse, request_corrections",
                           ["service", "decision"])
EVENT_BATCHES = Counter("yjs_event_batches_total",
                        "Batches of events applied in one transaction, by outcome (committed; split: rolled back"
                        " and applied one event at a time)", ["service", "outcome"])
EVENT_BATCH_SIZE = Histogram("yjs_event_batch_size", "Events in a committed batch", ["service"],
                             buckets=(2, 5, 10, 20, 50, 100))
HANDLER_RETRIES = Counter("yjs_handler_retries_total", "Messages sent back for another try",
                          ["service", "event_type"])

DEADLINES_IN_UNKNOWN_YEAR = Counter(
    "yjs_deadlines_in_unknown_year_total",
    "Deadlines counted through a year whose holidays and 调休 days the calendar does not know (Monday–Friday assumed)",
    ["service", "year"])
CALENDAR_LAST_KNOWN_YEAR = Gauge("yjs_calendar_last_known_year",
                                 "The last year whose holidays the working calendar knows (package or HOLIDAYS_FILE)",
                                 ["service"])

_started_ports: set[int] = set()


class MetricsServer(DependencyProvider):
    """Serves /metrics on METRICS_PORT and times every worker of the service."""

    def setup(self):
        port = int(self.container.config.get("METRICS_PORT", 0))
        if port and port not in _started_ports:
            start_http_server(port, addr=self.container.config.get("METRICS_HOST", "127.0.0.1"))
            _started_ports.add(port)

    def worker_setup(self, worker_ctx):
        worker_ctx.data.setdefault("_yjs_started", time.perf_counter())

    def worker_teardown(self, worker_ctx):
        started = worker_ctx.data.pop("_yjs_started", None)
        if started is not None:
            HANDLER_SECONDS.labels(self.container.service_name, worker_ctx.entrypoint.method_name).observe(
                time.perf_counter() - started)
