"""The transactional outbox's relay: publishes stored events to `<producer>.events` with
publisher confirms, a batch at a time, and marks them sent. Anything a crash left unsent is
picked up on the next pass."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import amqp
import eventlet
import structlog
from kombu import Connection
from sqlalchemy import Engine, MetaData, func, select, update

from . import metrics
from .db import is_postgres

log = structlog.get_logger(__name__)

BATCH = 500


class ConfirmingPublisher:
    """Publishes many persistent messages, then waits once for all their confirms."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self._connection: Connection | None = None
        self._channel = None
        self._declared: set[str] = set()
        self._unconfirmed: set[int] = set()
        self._nacked: set[int] = set()
        self._next_tag = 1

    def _open(self):
        if self._connection is None:
            self._connection = Connection(self.amqp_uri, heartbeat=0)
            self._connection.connect()
            self._channel = self._connection.channel()
            self._channel.confirm_select()
            self._channel.events["basic_ack"].add(self._on_ack)
            self._channel.events["basic_nack"].add(self._on_nack)
            self._declared.clear()
            self._next_tag = 1
        return self._channel

    def _settle(self, tag: int, multiple: bool, nacked: bool) -> None:
        tags = [t for t in self._unconfirmed if t <= tag] if multiple else [tag]
        for t in tags:
            self._unconfirmed.discard(t)
            if nacked:
                self._nacked.add(t)

    def _on_ack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple, nacked=False)

    def _on_nack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple, nacked=True)

    def publish_batch(self, messages: list[tuple[str, str, str, str]], timeout: float = 10.0) -> None:
        """messages: (exchange, routing_key, body, message_id). Returns when the broker has
        confirmed every one; raises if any was refused or the wait ran out."""
        channel = self._open()
        self._unconfirmed.clear()
        self._nacked.clear()
        for exchange, routing_key, body, message_id in messages:
            if exchange and exchange not in self._declared:
                channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
                self._declared.add(exchange)
            message = amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                                   delivery_mode=2, message_id=message_id)
            self._unconfirmed.add(self._next_tag)
            self._next_tag += 1
            channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
        deadline = eventlet.Timeout(timeout)  # a broker that never confirms must not hang the relay
        try:
            while self._unconfirmed:
                self._connection.drain_events(timeout=timeout)
        finally:
            deadline.cancel()
        if self._nacked:
            raise RuntimeError(f"broker refused {len(self._nacked)} messages")

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
        self._connection = None
        self._channel = None


class OutboxRelay:
    """One per service process. `wake()` after a commit publishes promptly; a periodic pass
    catches whatever an earlier process left behind."""

    def __init__(self, service: str, engine: Engine, metadata: MetaData, amqp_uri: str, interval: float = 1.0):
        self.service = service
        self.engine = engine
        self.outbox = metadata.tables["kit_outbox"]
        self.publisher = ConfirmingPublisher(amqp_uri)
        self.interval = interval
        self._wake = eventlet.event.Event()
        self._running = False
        self._thread = None
        self._next_backlog_count = 0.0

    def start(self) -> None:
        self._running = True
        self._thread = eventlet.spawn(self._run)

    def stop(self) -> None:
        self._running = False
        self.wake()
        if self._thread is not None:
            self._thread.wait()
        self.publisher.close()

    def wake(self) -> None:
        if not self._wake.ready():
            self._wake.send(True)

    def _run(self) -> None:
        failures = 0
        while self._running:
            try:
                with eventlet.Timeout(self.interval, False):
                    self._wake.wait()
                self._wake = eventlet.event.Event()
                eventlet.sleep(0.005)  # let a burst of commits land in one batch
                while self._running and self.relay_once() == BATCH:
                    pass
                failures = 0
            except Exception as error:  # noqa: BLE001 - the relay must outlive broker and db outages
                failures += 1
                self.publisher.close()
                log.warning("outbox relay failed", error=repr(error), failures=failures)
                eventlet.sleep(min(0.2 * 2 ** failures, 5.0))

    def relay_once(self) -> int:
        """Publish one batch of unsent events; returns how many."""
        with self.engine.begin() as connection:
            query = (select(self.outbox.c.id, self.outbox.c.exchange, self.outbox.c.routing_key,
                            self.outbox.c.body, self.outbox.c.event_id)
                     .where(self.outbox.c.sent_at.is_(None)).order_by(self.outbox.c.id).limit(BATCH))
            if is_postgres(self.engine):
                query = query.with_for_update(skip_locked=True)  # replicas share the outbox
            rows = connection.execute(query).all()
            if rows:
                self.publisher.publish_batch([(r.exchange, r.routing_key, r.body, r.event_id) for r in rows])
                connection.execute(update(self.outbox).where(self.outbox.c.id.in_([r.id for r in rows]))
                                   .values(sent_at=datetime.now(timezone.utc)))
                for row in rows:
                    metrics.EVENTS_PUBLISHED.labels(self.service, f"{row.exchange.split('.')[0]}.{row.routing_key}").inc()
            if time.monotonic() >= self._next_backlog_count:  # a count per pass would double the relay's cost
                self._next_backlog_count = time.monotonic() + 1.0
                backlog = connection.execute(select(func.count()).select_from(self.outbox)
                                             .where(self.outbox.c.sent_at.is_(None))).scalar_one()
                metrics.OUTBOX_BACKLOG.labels(self.service).set(max(backlog - len(rows), 0))
        return len(rows)


def outbox_row(envelope) -> dict:
    producer, name = envelope.event_type.split(".", 1)
    return {
        "event_id": str(envelope.event_id),
        "exchange": f"{producer}.events",
        "routing_key": name,
        "body": json.dumps(envelope.model_dump(mode="json"), ensure_ascii=False),
        "created_at": datetime.now(timezone.utc),
    }
