"""The transactional outbox's relay: publishes stored events to `<producer>.events` with
publisher confirms, a batch at a time, and marks them sent.

A unit of work stores its events already leased to its own process and hands the rows to the
relay at commit: the relay publishes them without reading them back. What the broker confirmed
is marked sent in one statement at most once a second (before the backlog is measured, and on
stop), not after every batch: under load that would be a transaction of its own for nearly every
commit. The lease keeps a confirmed row from being published again meanwhile; a process that dies
before marking leaves its rows to be published again after the lease, which consumers' inboxes
refuse as duplicates. Rows nobody handed over (stored by an earlier process, released after a failure, a
lease run out because its process died) are claimed in a short transaction (a lease), at least
every `interval`, published outside it and marked in another, so no transaction stays open while
the broker is slow. A message the broker refuses (nack) or
returns (`mandatory`: no queue bound, and no applied topology's unrouted queue to keep it) is
tried again later with an attempt count and, after OUTBOX_MAX_ATTEMPTS, parked — counted and
alerted — without holding back the rows behind it. The loop is supervised: whatever ends it, it
starts again; `alive` and the age of the oldest unsent event are what health checks report. Sent
rows and old inbox rows are pruned."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

import amqp
import eventlet
import structlog
from greenlet import GreenletExit
from sqlalchemy import DateTime, Engine, MetaData, and_, bindparam, delete, func, or_, select, text, update

from . import metrics
from .broker_users import broker_user_of
from .brokers import broker_urls, connect
from .db import is_postgres
from .provenance import producer_of_exchange
from .topology import event_exchange

log = structlog.get_logger(__name__)

BATCH = 500
LEASE = timedelta(seconds=60)  # a claim a relay that died mid-batch gives up after this
# the lease on a row a unit of work hands its relay at commit: its process publishes it within
# milliseconds; if that process dies, another relay publishes it after this
HANDOVER_LEASE = timedelta(seconds=15)
# run after every publish: as text, built once (an `update().where(in_(…))` computed its cache key
# on each call, several milliseconds with a batch of ids)
MARK_SENT = text("UPDATE kit_outbox SET sent_at = :sent_at, claimed_until = NULL WHERE event_id IN :event_ids"
                 ).bindparams(bindparam("sent_at", type_=DateTime(timezone=True)), bindparam("event_ids", expanding=True))


class ConfirmTimeout(Exception):
    """The broker took the messages but did not confirm them in time (an alarm, flow control,
    a half-open connection). An ordinary exception, so the relay's loop survives it."""


class ConfirmingPublisher:
    """Publishes many persistent messages, then waits once for all their confirms. With several
    brokers (a cluster), a connection that failed is replaced by one to the next broker first."""

    def __init__(self, amqp_uri: str, heartbeat: float = 30, connect_timeout: float = 5, name: str | None = None):
        self.amqp_uri = amqp_uri
        self.name = name  # the connection's name on the broker (`rabbitmqctl list_connections client_properties`)
        self.heartbeat = heartbeat
        self.connect_timeout = connect_timeout
        self._connection = None
        self._first_broker = 0  # where the next connection is tried first
        self._channel = None
        self._declared: set[str] = set()
        self._unconfirmed: dict[int, str] = {}
        self._refused: dict[str, str] = {}
        self._next_tag = 1
        # every message names its publisher: the broker refuses a `user_id` that is not the
        # connection's own, so a consumer knows which broker user sent an event (docs/adr/0012)
        self.user_id = broker_user_of(amqp_uri)

    def _open(self):
        if self._connection is None:
            connection = connect(self.amqp_uri, self._first_broker, heartbeat=self.heartbeat,
                                 connect_timeout=self.connect_timeout, transport_options={
                                     "client_properties": {"connection_name": self.name}} if self.name else None)
            try:
                channel = connection.channel()
                channel.confirm_select()
            except BaseException:
                connection.release()
                raise
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            channel.events["basic_return"].add(self._on_return)
            self._connection, self._channel = connection, channel
            self._declared.clear()
            self._next_tag = 1
        return self._channel

    def _settle(self, tag: int, multiple: bool, refusal: str | None) -> None:
        tags = [t for t in self._unconfirmed if t <= tag] if multiple else [tag]
        for t in tags:
            message_id = self._unconfirmed.pop(t, None)
            if refusal and message_id is not None:
                self._refused[message_id] = refusal

    def _on_ack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple, None)

    def _on_nack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple, "refused by the broker (nack)")

    def _on_return(self, exc, exchange, routing_key, message):
        # comes before the message's ack: the ack then confirms only that it was handled
        message_id = message.properties.get("message_id")
        if message_id:
            self._refused[message_id] = f"returned: {getattr(exc, 'reply_text', exc)} ({exchange} {routing_key})"

    def publish_batch(self, messages: list[tuple[str, str, str, str]], timeout: float = 10.0,
                      mandatory: bool = False) -> dict[str, str]:
        """messages: (exchange, routing_key, body, message_id). Returns when the broker has
        confirmed every one: {message_id: reason} for those it refused or returned. Raises
        ConfirmTimeout when the confirms do not come in time, or the connection's error."""
        channel = self._open()
        self._unconfirmed.clear()
        self._refused = {}
        for exchange, routing_key, body, message_id in messages:
            if exchange and exchange not in self._declared:
                producer = producer_of_exchange(exchange)
                # as the topology declares it: the broker refuses a declaration with other arguments
                channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False,
                                         arguments=event_exchange(producer).arguments if producer else None)
                self._declared.add(exchange)
            message = amqp.Message(body, content_type="application/json", content_encoding="utf-8",
                                   delivery_mode=2, message_id=message_id, user_id=self.user_id)
            self._unconfirmed[self._next_tag] = message_id
            self._next_tag += 1
            channel.basic_publish(message, exchange=exchange, routing_key=routing_key, mandatory=mandatory)
        # eventlet's own Timeout is a BaseException: it would end the relay's loop, not this wait
        timer = eventlet.Timeout(timeout, ConfirmTimeout(f"{len(self._unconfirmed)} of {len(messages)} "
                                                         f"messages unconfirmed after {timeout:g}s"))
        try:
            while self._unconfirmed:
                self._connection.drain_events(timeout=timeout)
        except socket.timeout:
            raise ConfirmTimeout(f"{len(self._unconfirmed)} messages unconfirmed after {timeout:g}s") from None
        finally:
            timer.cancel()
        return dict(self._refused)

    def keep_alive(self) -> None:
        """Read what the broker sent (its heartbeats) and send ours; an idle connection that
        went away is found here, not by the next batch."""
        if self._connection is None:
            return
        try:
            self._connection.drain_events(timeout=0.01)
        except socket.timeout:
            pass
        self._connection.heartbeat_check()

    def close(self, failed: bool = False) -> None:
        """Drop the connection. A graceful close waits for the broker's answer, which a
        half-open connection never gives: so only briefly, then the socket is just closed.
        `failed`: the broker it went to failed it (no confirms, an error), so the next connection
        goes to the next broker first, not back to one that may hang each attempt for a timeout."""
        connection, self._connection, self._channel = self._connection, None, None
        if failed and connection is not None:
            brokers = broker_urls(self.amqp_uri)
            current = connection.as_uri(include_password=True)
            at = next((k for k, url in enumerate(brokers) if _same_broker(url, current)), self._first_broker)
            self._first_broker = (at + 1) % len(brokers)
        if connection is None:
            return
        try:
            with eventlet.Timeout(1.0, ConfirmTimeout("no answer to close")):
                connection.release()
        except Exception:  # noqa: BLE001 - closing a broken connection
            try:
                connection.collect(socket_timeout=0.1)
            except Exception:  # noqa: BLE001
                pass


class HandedRow(NamedTuple):
    """An outbox row as a unit of work handed it over: never tried before."""

    event_id: str
    exchange: str
    routing_key: str
    body: str
    attempts: int = 0


def handed_row(row: dict) -> HandedRow:
    return HandedRow(row["event_id"], row["exchange"], row["routing_key"], row["body"])


def relay_connection_name(service: str) -> str:
    return f"{service} outbox relay"


def _same_broker(url: str, other: str) -> bool:
    from urllib.parse import urlsplit

    a, b = urlsplit(url), urlsplit(other)
    return (a.hostname, a.port or 5672) == (b.hostname, b.port or 5672)


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 300))


class OutboxRelay:
    """One per service process. `wake()` after a commit publishes promptly; a periodic pass
    catches whatever an earlier process left behind."""

    def __init__(self, service: str, engine: Engine, metadata: MetaData, amqp_uri: str, interval: float = 1.0, *,
                 confirm_timeout: float = 10.0, max_attempts: int = 8, mandatory: bool = True,
                 sent_retention: timedelta = timedelta(days=7), inbox_retention: timedelta = timedelta(days=30),
                 heartbeat: float = 30):
        self.service = service
        self.engine = engine
        self.outbox = metadata.tables["kit_outbox"]
        self.inbox = metadata.tables["kit_inbox"]
        self.dead_letters = metadata.tables["kit_dead_letters"]
        self.publisher = ConfirmingPublisher(amqp_uri, heartbeat=heartbeat, connect_timeout=confirm_timeout,
                                             name=relay_connection_name(service))
        self.interval = interval
        self.confirm_timeout = confirm_timeout
        self.max_attempts = max_attempts
        self.mandatory = mandatory
        self.sent_retention = sent_retention
        self.inbox_retention = inbox_retention
        self._wake = eventlet.event.Event()
        self._handed: list[dict] = []  # rows committed by this process, leased to it
        self._confirmed: list[str] = []  # event ids the broker confirmed, not yet marked sent
        self._poll = True  # rows nobody handed over may be waiting: claim them
        self._next_poll = 0.0
        self._running = False
        self._thread = None
        self._beat = time.monotonic()
        self._next_measure = 0.0
        self._next_prune = 0.0
        self.restarts = 0
        self.oldest_unsent_seconds = 0.0
        metrics.OUTBOX_RELAY_ALIVE.labels(service).set_function(lambda: 1.0 if self.alive else 0.0)

    @property
    def alive(self) -> bool:
        """The loop runs and went round lately: a pass takes at most a confirm timeout or two."""
        return (self._running and self._thread is not None and not self._thread.dead
                and time.monotonic() - self._beat < 2 * self.confirm_timeout + 10 * self.interval + 5)

    def start(self) -> None:
        self._running = True
        self._beat = time.monotonic()
        self._thread = eventlet.spawn(self._supervise)

    def stop(self) -> None:
        self._running = False
        self.wake()
        if self._thread is not None:
            self._thread.wait()
        self.publisher.close()
        try:
            self.mark_confirmed()
        except Exception as error:  # noqa: BLE001 - published again after their lease: inboxes refuse them
            log.warning("could not mark confirmed events sent", error=repr(error), events=len(self._confirmed))
        if self._handed:  # for the next relay at once, not after their lease
            rows, self._handed = self._handed, []
            self._release([handed_row(r) for r in rows])

    def wake(self) -> None:
        """Rows were stored that nobody hands over (a dead letter's notice, parked rows released)."""
        self._poll = True
        self._signal()

    def hand_over(self, rows: list[dict]) -> None:
        """Outbox rows just committed, leased to this process (UnitOfWork.announce)."""
        self._handed.extend(rows)
        self._signal()

    def _signal(self) -> None:
        if not self._wake.ready():
            self._wake.send(True)

    def _supervise(self) -> None:
        while self._running:
            try:
                self._run()
            except GreenletExit:
                raise
            except BaseException as error:  # noqa: BLE001 - whatever ended the loop, it starts again
                self.restarts += 1
                metrics.OUTBOX_RELAY_RESTARTS.labels(self.service).inc()
                log.error("outbox relay loop ended; restarting", error=repr(error), restarts=self.restarts)
                self.publisher.close(failed=True)
                eventlet.sleep(1.0)

    def _run(self) -> None:
        failures = 0
        while self._running:
            self._beat = time.monotonic()
            try:
                with eventlet.Timeout(self.interval, False):
                    self._wake.wait()
                self._wake = eventlet.event.Event()
                eventlet.sleep(0.005)  # let a burst of commits land in one batch
                self.publisher.keep_alive()
                while self._running and self._handed:
                    self.publish_handed()
                    self._beat = time.monotonic()
                if self._poll or time.monotonic() >= self._next_poll:
                    self._poll, self._next_poll = False, time.monotonic() + self.interval
                    while self._running and self.relay_once() == BATCH:
                        self._beat = time.monotonic()
                self._housekeeping()
                failures = 0
            except Exception as error:  # noqa: BLE001 - the relay must outlive broker and db outages
                failures += 1
                self._poll = True  # what was handed over and not published was released to the table
                self.publisher.close(failed=True)
                log.warning("outbox relay failed", error=repr(error), failures=failures)
                eventlet.sleep(min(0.2 * 2 ** failures, 5.0))

    def _claim(self) -> list:
        """Lease the oldest unsent rows, in one statement: the rows chosen and leased at once."""
        now = datetime.now(timezone.utc)
        o = self.outbox.c
        due = (select(o.id).where(o.sent_at.is_(None), o.parked_at.is_(None),
                                  or_(o.claimed_until.is_(None), o.claimed_until < now))
               .order_by(o.id).limit(BATCH))
        if is_postgres(self.engine):
            due = due.with_for_update(skip_locked=True)  # replicas share the outbox
        with self.engine.begin() as connection:
            rows = connection.execute(update(self.outbox).where(o.id.in_(due.scalar_subquery()))
                                      .values(claimed_until=now + LEASE)
                                      .returning(o.id, o.exchange, o.routing_key, o.body, o.event_id, o.attempts)
                                      ).all()
        return sorted(rows, key=lambda r: r.id)  # RETURNING promises no order; events go out in theirs

    def relay_once(self) -> int:
        """Publish one batch of unsent events from the table; returns how many were claimed."""
        return self._publish(self._claim())

    def publish_handed(self) -> int:
        """Publish one batch of the rows handed over at commit."""
        rows, self._handed = self._handed[:BATCH], self._handed[BATCH:]
        return self._publish([handed_row(r) for r in rows])

    def _publish(self, rows) -> int:
        if not rows:
            return 0
        try:
            refused = self.publisher.publish_batch([(r.exchange, r.routing_key, r.body, r.event_id) for r in rows],
                                                   timeout=self.confirm_timeout, mandatory=self.mandatory)
        except BaseException:
            self._release(rows)  # for the next pass, not after the lease
            raise
        now = datetime.now(timezone.utc)
        o = self.outbox.c
        sent = [r for r in rows if r.event_id not in refused]
        self._confirmed.extend(r.event_id for r in sent)  # marked sent with the next housekeeping
        if refused:
            self._refused(rows, refused, now)
        for row in sent:
            metrics.EVENTS_PUBLISHED.labels(self.service, f"{row.exchange.split('.')[0]}.{row.routing_key}").inc()
        return len(rows)

    def _refused(self, rows, refused: dict[str, str], now: datetime) -> None:
        o = self.outbox.c
        with self.engine.begin() as connection:
            for row in rows:
                reason = refused.get(row.event_id)
                if reason is None:
                    continue
                attempts = row.attempts + 1
                parked = attempts >= self.max_attempts
                connection.execute(update(self.outbox).where(o.event_id == row.event_id).values(
                    attempts=attempts, last_error=reason[:2000], parked_at=now if parked else None,
                    claimed_until=now + retry_delay(attempts)))
                log.error("event parked" if parked else "event not published; will retry", event_id=row.event_id,
                          event_type=f"{row.exchange.split('.')[0]}.{row.routing_key}", attempts=attempts, reason=reason)

    def mark_confirmed(self) -> int:
        """Mark sent, in one statement, what the broker confirmed since the last mark; returns how
        many. Kept for the next try when the database fails."""
        confirmed = self._confirmed[:]
        if not confirmed:
            return 0
        with self.engine.begin() as connection:
            for start in range(0, len(confirmed), BATCH):
                connection.execute(MARK_SENT, {"sent_at": datetime.now(timezone.utc),
                                               "event_ids": confirmed[start:start + BATCH]})
        del self._confirmed[:len(confirmed)]
        return len(confirmed)

    def _release(self, rows) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(update(self.outbox).where(self.outbox.c.event_id.in_([r.event_id for r in rows]))
                                   .values(claimed_until=None))
        except Exception as error:  # noqa: BLE001 - the lease ends on its own
            log.warning("could not release claimed events", error=repr(error))

    def _housekeeping(self) -> None:
        if time.monotonic() >= self._next_measure:  # a count per pass would double the relay's cost
            self._next_measure = time.monotonic() + 1.0
            self.mark_confirmed()
            self.measure()
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + 60.0
            self.prune()

    def measure(self) -> dict:
        o = self.outbox.c
        with self.engine.connect() as connection:
            waiting, oldest = connection.execute(
                select(func.count(), func.min(o.created_at)).where(o.sent_at.is_(None), o.parked_at.is_(None))).one()
            parked = connection.execute(select(func.count()).select_from(self.outbox)
                                        .where(o.sent_at.is_(None), o.parked_at.is_not(None))).scalar_one()
            # a gauge, not a rate: an alert on it lasts until the dead letters are replayed
            dead_letters = connection.execute(select(func.count()).select_from(self.dead_letters)
                                              .where(self.dead_letters.c.replayed_at.is_(None))).scalar_one()
        if oldest is not None and oldest.tzinfo is None:  # SQLite hands back naive datetimes
            oldest = oldest.replace(tzinfo=timezone.utc)
        self.oldest_unsent_seconds = (datetime.now(timezone.utc) - oldest).total_seconds() if oldest else 0.0
        metrics.OUTBOX_BACKLOG.labels(self.service).set(waiting)
        metrics.OUTBOX_PARKED.labels(self.service).set(parked)
        metrics.OUTBOX_OLDEST_UNSENT.labels(self.service).set(self.oldest_unsent_seconds)
        metrics.DEAD_LETTERS_WAITING.labels(self.service).set(dead_letters)
        return {"backlog": waiting, "parked": parked, "oldest_unsent_seconds": round(self.oldest_unsent_seconds, 3)}

    def prune(self) -> None:
        """Sent events after OUTBOX_RETENTION_HOURS, applied-event marks after INBOX_RETENTION_HOURS
        (longer than any redelivery can take: retries, dead letters waiting for replay)."""
        now = datetime.now(timezone.utc)
        with self.engine.begin() as connection:
            connection.execute(delete(self.outbox).where(and_(self.outbox.c.sent_at.is_not(None),
                                                              self.outbox.c.sent_at < now - self.sent_retention)))
            connection.execute(delete(self.inbox).where(self.inbox.c.applied_at < now - self.inbox_retention))

    def release_parked(self) -> int:
        """Parked events go back to the queue of events to publish (after their cause is fixed)."""
        with self.engine.begin() as connection:
            return connection.execute(update(self.outbox).where(
                self.outbox.c.sent_at.is_(None), self.outbox.c.parked_at.is_not(None)).values(
                parked_at=None, attempts=0, claimed_until=None, last_error=None)).rowcount


def outbox_row(envelope) -> dict:
    producer, name = envelope.event_type.split(".", 1)
    return {
        "event_id": str(envelope.event_id),
        "exchange": f"{producer}.events",
        "routing_key": name,
        "body": envelope.model_dump_json(),  # UTF-8 as it is, as json.dumps(…, ensure_ascii=False)
        "created_at": datetime.now(timezone.utc),
    }
