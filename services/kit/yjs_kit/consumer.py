"""Consuming events: one durable inbox queue per `@consume_events` entrypoint (`<service>.inbox`
for a service's first, `<service>.<method>.inbox` for another: topology.py) bound to every event
the entrypoint reacts to, a worker per message, and our own ending for failures — nameko's event_handler
would ack a failed message and forget it, and kombu's decoding acks and forgets a body it
cannot decode, so the body reaches us raw.

A failing handler's message is acked and republished to `<queue>.retry.<ms>ms`, a queue whose
TTL dead-letters it back to the inbox after the delay, so it never blocks the messages behind
it. After the last delay it is stored as a dead letter with its reason; an operator lists and
replays dead letters (operations.py). A message that is unreadable, or whose provenance does not
hold (provenance.py), is dead-lettered at once: trying again cannot help. When even the dead
letter cannot be stored (the database is down) the message waits on the broker: back through
the longest retry queue, and after DEAD_LETTER_STORE_TRIES such rounds into `<queue>.dead`.
These queues are declared by topology.py, at start as by `yjs topology apply`. A handler that
raises NotYet (what the event needs has not arrived) goes the same way round the retries, and on
the last attempt `final_attempt()` tells it to decide instead (ADR 35).

A message that comes back through the default exchange (a retry, a replay) is judged by the
exchange it first arrived on and the broker user that first published it, kept in headers; the
headers are believed only when the broker vouches that this service's own user published the
message (its validated `user_id`): any service may publish through the default exchange, none may
pass as another user. When every service has its own broker user (BROKER_USERS), an event must
have been published by its producer's user: an account with rights on every exchange (guest)
cannot pass as a department."""

from __future__ import annotations

import base64
import json
import re
import time
import traceback
from contextlib import nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial, wraps
from typing import Callable, Iterable

import eventlet
import eventlet.queue
import eventlet.semaphore
import structlog
from kombu import Queue
from kombu.message import Message
from nameko.amqp.publish import Publisher
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import register_entrypoint
from nameko.messaging import Consumer, QueueConsumer
from sqlalchemy import insert, select
from yjs_contracts.envelope import Envelope, new_event
from yjs_contracts.events import EVENT_MODELS, DeadLetterCleared, EventDeadLettered

from . import metrics
from .broker_users import USER_PREFIX, broker_user, broker_user_of
from .brokers import connect
from .config import DEFAULTS, parse_delays
from .outbox import outbox_row
from .provenance import Refused, check, read
from .topology import declare, inbox_of, inbox_queues, parked_queue_name, retry_queue_name
from .logging import about_event
from .uow import Database

log = structlog.get_logger(__name__)

ATTEMPTS_HEADER = "x-yjs-attempts"
# where a message first arrived: retry queues and replays deliver through the default exchange
EXCHANGE_HEADER = "x-yjs-exchange"
# how many times the dead letter could not be stored (database down)
STORE_FAILURES_HEADER = "x-yjs-store-failures"
# the dead letter a replayed message came from
REPLAY_HEADER = "x-yjs-replay-of"
# the broker user that first published it (its `user_id` then): retries and replays are ours
PUBLISHER_HEADER = "x-yjs-publisher"


class NotYet(Exception):
    """What an event needs has not reached this service yet: another producer's event, which
    nothing orders before it (a licence asked for an enterprise whose registration is still on
    its way). Raised by a handler, the event is tried again after the next retry delay, as after
    any failure; on its last attempt `final_attempt()` is True, and the handler decides with what
    it knows instead."""


# whether the event being applied has no retry left; outside a consuming entrypoint, nothing
# will try it again either
_FINAL_ATTEMPT: ContextVar[bool] = ContextVar("yjs_final_attempt", default=True)


def final_attempt() -> bool:
    return _FINAL_ATTEMPT.get()


def not_yet(reason: str) -> None:
    """Raise NotYet(reason) — unless this is the event's last attempt: then return, and the
    caller decides with what it knows."""
    if not final_attempt():
        raise NotYet(reason)


def find_database(container) -> Database:
    for dependency in container.dependencies:
        if isinstance(dependency, Database):
            return dependency
    raise LookupError(f"{container.service_name} has no Database dependency")


_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f]")


def _column(value, length: int) -> str | None:
    """An indexed column from untrusted input: text without control characters, cut to size."""
    if value is None:
        return None
    text = _UNSTORABLE.sub("", value if isinstance(value, str) else str(value))[:length]
    return text or None


def _peek(body: bytes) -> dict:
    """Whatever envelope fields can be read from a body, for the dead letter's columns."""
    try:
        value = json.loads(body)
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def body_for_listing(payload: bytes | None, content_type: str | None) -> tuple[str, str]:
    """(body, encoding): the text when it is UTF-8, else base64."""
    payload = payload or b""
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(payload).decode("ascii"), "base64"


def store_dead_letter(database: Database, queue: str, body: bytes, reason: str, attempts: int, *,
                      kind: str = "failed", content_type: str | None = None, exchange: str | None = None,
                      service: str | None = None, publisher: str | None = None) -> int:
    """Stores the raw body as bytes and only sanitised text in the indexed columns, so that no
    content can make storing fail. A department announces, in the same transaction, that an event
    about a case is dead-lettered: the case shows its steps as stalled — unless its provenance
    failed: what it says of its case is not believed, or a forger could hold up anyone's case.
    Returns the number."""
    fields = _peek(body)
    table = database.metadata.tables["kit_dead_letters"]
    case_id = _column(fields.get("case_id"), 40)
    event_type = _column(fields.get("event_type"), 100)
    reason = _UNSTORABLE.sub("", reason.replace("\n", " ").replace("\t", " "))[:4000] or kind
    with database.engine.begin() as connection:
        number = connection.execute(insert(table).values(
            queue=queue, kind=kind, exchange=_column(exchange, 200), publisher=_column(publisher, 100),
            content_type=_column(content_type, 100),
            event_type=event_type, event_id=_column(fields.get("event_id"), 36), case_id=case_id, payload=body,
            reason=reason, attempts=attempts, failed_at=datetime.now(timezone.utc)).returning(table.c.id)).scalar_one()
        announced = f"{service}.event_dead_lettered"
        if case_id and announced in EVENT_MODELS and kind != "provenance":
            connection.execute(insert(database.metadata.tables["kit_outbox"]).values(**outbox_row(new_event(
                announced, EventDeadLettered(dead_letter_id=f"{service}:{number}", event_type=event_type,
                                             event_id=_column(fields.get("event_id"), 36), kind=kind,
                                             reason=reason[:1000]), case_id=case_id))))
    if database.relay is not None:
        database.relay.wake()
    return number


def announce_cleared(database: Database, service: str, number: int) -> None:
    """A replayed dead letter was handled: the steps it stalled go on."""
    table = database.metadata.tables["kit_dead_letters"]
    announced = f"{service}.dead_letter_cleared"
    if announced not in EVENT_MODELS:
        return
    with database.engine.begin() as connection:
        row = connection.execute(select(table.c.case_id, table.c.event_type).where(table.c.id == number)).first()
        if row is None or not row.case_id:
            return
        connection.execute(insert(database.metadata.tables["kit_outbox"]).values(**outbox_row(new_event(
            announced, DeadLetterCleared(dead_letter_id=f"{service}:{number}", event_type=row.event_type),
            case_id=row.case_id))))
    if database.relay is not None:
        database.relay.wake()


class RawQueueConsumer(QueueConsumer):
    """nameko's queue consumer, but handing each provider the message undecoded: kombu would
    log a body it cannot decode (bad JSON, a pickle) and ack it, and it would be gone. The
    provider takes it in this thread without waiting (EventConsumer.handle_message).

    Acks go out together: a message done (its batch committed, or its retry or dead letter
    stored) is acked with every message delivered before it, in one `basic.ack multiple`, once
    all of those are done too; a quorum queue settles them in one command. A message done while
    an earlier one is still being applied waits for it, but never more than ACKS_HELD of them:
    then each is acked on its own, so a slow message cannot hold back the prefetch window."""

    ACKS_HELD = 32

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._acks_channel = None
        self._unacked: dict[int, bool] = {}  # delivery tag → done, in the order delivered

    @property
    def prefetch_count(self):
        # enough waiting messages to make batches of when every worker is busy
        return int(self.container.config.get("EVENT_PREFETCH", DEFAULTS["EVENT_PREFETCH"]))

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], on_message=partial(self.handle_raw, provider))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def handle_raw(self, provider, message):
        if message.channel is not self._acks_channel:  # a new connection: the old tags mean nothing
            self._acks_channel, self._unacked = message.channel, {}
        self._unacked[message.delivery_tag] = False
        provider.handle_message(message.body, message)

    def ack_message(self, message):
        if message.channel is not self._acks_channel or message.delivery_tag not in self._unacked:
            return super().ack_message(message)
        self._unacked[message.delivery_tag] = True
        self._send_acks()

    def requeue_message(self, message):
        if message.channel is self._acks_channel and self._unacked.pop(message.delivery_tag, None) is not None:
            super().requeue_message(message)
            self._send_acks()  # the first not done may have been this one
            return
        super().requeue_message(message)

    def _send_acks(self, everything_done: bool = False) -> None:
        """The longest run of done messages from the first delivered, in one frame; with
        `everything_done` (or more than ACKS_HELD waiting), the others done too, each alone."""
        unacked, last = self._unacked, None
        for tag, done in unacked.items():
            if not done:
                break
            last = tag
        if last is not None:
            for tag in [tag for tag in unacked if tag <= last]:
                del unacked[tag]
        held = [tag for tag, done in unacked.items() if done]
        if not everything_done and len(held) <= self.ACKS_HELD:
            held = []
        for tag in held:
            del unacked[tag]
        channel = self._acks_channel
        if channel is None or not channel.connection:  # gone: the broker has taken them back
            return
        try:
            if last is not None:
                channel.basic_ack(last, multiple=True)
            for tag in held:
                channel.basic_ack(tag)
        except ConnectionError:  # closing meanwhile: as above
            pass

    def unregister_provider(self, provider):
        # stopping: what is done is acked before the connection closes, or it would come again
        self._send_acks(everything_done=True)
        super().unregister_provider(provider)


@dataclass
class Delivery:
    """A message read and believed, waiting to be applied."""

    event: Envelope
    message: Message
    body: bytes
    origin: tuple[str | None, str | None]  # the exchange it first arrived on, its first publisher
    attempts: int
    alone: bool = False  # apply it on its own: the batch it was in failed


class EventBatch:
    """The events one worker applies in one transaction (Database.batch): one commit and one
    pass of the worker's machinery for all of them, in the order they arrived (the cases' locks
    are taken in the order of their ids, whatever the events' order: UnitOfWork.first_time).
    `finals`: for each event, whether it is its last attempt (`final_attempt`)."""

    def __init__(self, service: str, database: Database | None, events: list[Envelope],
                 finals: list[bool] | None = None):
        self.service = service
        self.database = database  # None: each event in transactions of its own (one applied alone)
        self.events = events
        self.finals = finals if finals is not None else [True] * len(events)

    def apply(self, handle: Callable[[Envelope], object]) -> None:
        with self.database.batch(self.events) if self.database is not None else nullcontext():
            for event, final in zip(self.events, self.finals):
                about_event(event)
                token = _FINAL_ATTEMPT.set(final)
                try:
                    handle(event)
                finally:
                    _FINAL_ATTEMPT.reset(token)

    def __repr__(self):
        return f"<EventBatch of {len(self.events)}>"


class EventConsumer(Consumer):
    """Entrypoint: `@consume_events(["registration.enterprise_registered", ...])`; the method
    receives the parsed Envelope.

    The messages that wait while every worker is busy are applied together: one worker runs the
    method for up to EVENT_BATCH of them inside one transaction and acks them after its commit.
    When that fails (a handler raised, or a unit of work failed and its error was caught, or
    PostgreSQL broke a deadlock), nothing of it is committed and each of its events is applied
    again on its own, as if there had been no batch. A message alone is applied as it arrives."""

    queue_consumer = RawQueueConsumer()

    def __init__(self, event_types: Iterable[str], **kwargs):
        self.event_types = sorted(set(event_types))
        self.taken = frozenset(self.event_types)
        self.told_not_taken: set[str] = set()
        super().__init__(queue=None, **kwargs)

    @classmethod
    def decorator(cls, event_types: Iterable[str], **kwargs):
        """The method is called with an Envelope; the kit also calls it with an EventBatch, which
        runs it once for each of the batch's events."""
        def register(method):
            @wraps(method)
            def entrypoint(service, work):
                if isinstance(work, EventBatch):
                    return work.apply(partial(method, service))
                return method(service, work)
            register_entrypoint(entrypoint, cls(event_types, **kwargs))
            return entrypoint
        return register

    def setup(self):
        config = self.container.config
        self.delays = list(config.get("RETRY_DELAYS_MS") or parse_delays(DEFAULTS["RETRY_DELAYS_MS"]))
        self.store_tries = int(config.get("DEAD_LETTER_STORE_TRIES", DEFAULTS["DEAD_LETTER_STORE_TRIES"]))
        self.publisher = Publisher(config["AMQP_URI"], use_confirms=True, serializer="json")
        self.broker_user = broker_user_of(config["AMQP_URI"])
        # a user per service: an event must come from its producer's; else nothing says who sent it
        prefix = config.get("BROKER_USER_PREFIX", USER_PREFIX)
        self.user_of = partial(broker_user, prefix=prefix) if config.get("BROKER_USERS") else None
        # what `yjs topology apply` declares for this service, so a start after it changes nothing
        queues = inbox_queues(inbox_of(self.container.service_cls, self.method_name), self.event_types, self.delays)
        with connect(config["AMQP_URI"]) as connection:
            declare(connection, queues)
        # declared: consuming must not declare it again, with the other producers' exchanges its
        # bindings name, which a service's own broker user may not declare (docs/adr/0012)
        self.queue = Queue(queues[0].name, durable=True, auto_delete=False, no_declare=True)
        self.batch_size = max(1, int(config.get("EVENT_BATCH", DEFAULTS["EVENT_BATCH"])))
        self.linger = max(0.0, float(config.get("EVENT_LINGER_MS", DEFAULTS["EVENT_LINGER_MS"]))) / 1000
        self.database = next((d for d in self.container.dependencies if isinstance(d, Database)), None)
        # workers applying this entrypoint's events at once: fewer than the container's, so that
        # under load what arrives meanwhile waits, and is applied in batches
        self.workers = eventlet.semaphore.Semaphore(
            max(1, min(int(config.get("EVENT_WORKERS", DEFAULTS["EVENT_WORKERS"])), self.container.max_workers)))
        self.waiting: eventlet.queue.LightQueue = eventlet.queue.LightQueue()
        self.stopping = False
        super().setup()

    def start(self):
        self.container.spawn_managed_thread(self._dispatch, identifier=f"{self.method_name}.dispatch")
        super().start()

    def stop(self):
        # what waits here goes back to the broker, for another replica or the next start
        self.stopping = True
        self._requeue_waiting()
        super().stop()
        self._requeue_waiting()

    def _requeue_waiting(self):
        while True:
            try:
                delivery = self.waiting.get_nowait()
            except eventlet.queue.Empty:
                return
            self.queue_consumer.requeue_message(delivery.message)

    def _dispatch(self):
        """Takes what waits, up to a batch, and gives it to a worker; while every worker is busy
        (spawning blocks) more waits, and the next batch is larger. Under load (the last batch
        held more than one event), a batch not yet full also waits up to EVENT_LINGER_MS for
        more: fewer, larger transactions when it pays, and no delay for an event that comes alone."""
        loaded = False
        while True:
            deliveries = [self.waiting.get()]
            # a worker of ours free first: what arrives while we wait joins this batch
            self.workers.acquire()
            self.workers.release()
            deadline = time.monotonic() + self.linger if loaded else 0.0
            while len(deliveries) < self.batch_size:
                remaining = deadline - time.monotonic()
                try:
                    deliveries.append(self.waiting.get(timeout=remaining) if remaining > 0 else self.waiting.get_nowait())
                except eventlet.queue.Empty:
                    break
            loaded = len(deliveries) > 1
            together = [delivery for delivery in deliveries if not delivery.alone]
            alone = [delivery for delivery in deliveries if delivery.alone]
            if len(together) == 1:
                alone, together = alone + together, []
            if together:  # in the order they came: one case's event may be what another's needs
                batch = EventBatch(self.container.service_name, self.database,
                                   [delivery.event for delivery in together], [self._final(d) for d in together])
                self._spawn(together, (batch,), partial(self.handle_batch_result, together))
            for delivery in alone:
                one = EventBatch(self.container.service_name, None, [delivery.event], [self._final(delivery)])
                self._spawn([delivery], (one,), partial(self.handle_result, delivery))

    def _final(self, delivery: Delivery) -> bool:
        """No retry left after this attempt (_end_in_failure would store a dead letter)."""
        return delivery.attempts >= len(self.delays)

    def _spawn(self, deliveries: list[Delivery], args: tuple, handle_result) -> None:
        if self.stopping:
            for delivery in deliveries:
                self.queue_consumer.requeue_message(delivery.message)
            return
        context = self.unpack_message_headers(deliveries[0].message) if len(deliveries) == 1 else {}
        self.workers.acquire()
        try:
            worker = self.container.spawn_worker(self, args, {}, context_data=context, handle_result=handle_result)
        except ContainerBeingKilled:
            self.workers.release()
            for delivery in deliveries:
                self.queue_consumer.requeue_message(delivery.message)
            return
        # freed when the worker's thread ends, however it ends (nameko keeps the thread by context)
        self.container._worker_threads[worker].link(lambda _: self.workers.release())

    def handle_message(self, body, message):
        headers = message.headers or {}
        try:
            attempts = int(headers.get(ATTEMPTS_HEADER, 0))
        except (TypeError, ValueError):
            attempts = 0
        body = body if isinstance(body, bytes) else str(body).encode("utf-8")
        exchange = message.delivery_info.get("exchange") or None
        publisher = (message.properties or {}).get("user_id")  # validated by the broker when present
        if exchange is None and publisher == self.broker_user:
            # from our own retry queue or replay: judged by where it first arrived, and who sent it
            exchange = headers.get(EXCHANGE_HEADER) if isinstance(headers.get(EXCHANGE_HEADER), str) else None
            publisher = headers.get(PUBLISHER_HEADER) if isinstance(headers.get(PUBLISHER_HEADER), str) else None
        origin = (exchange, publisher)
        try:
            event = read(body, message.content_type, message.content_encoding)
            check(event, exchange, publisher, self.user_of)
        except Refused as refused:
            event_type = _column(_peek(body).get("event_type"), 100) or "?"
            metrics.EVENTS_REFUSED.labels(self.container.service_name, event_type, refused.kind).inc()
            log.warning("message refused", kind=refused.kind, reason=str(refused), exchange=exchange,
                        publisher=publisher)
            # publishing and storing wait on the network: not in the thread that receives
            self.container.spawn_managed_thread(partial(
                self._end_in_failure, message, body, origin, attempts, str(refused), retry=False, kind=refused.kind),
                identifier=f"{self.method_name}.refuse")
            return
        if event.event_type not in self.taken:
            self._not_taken(event, message)
            return
        if self.stopping:
            self.queue_consumer.requeue_message(message)
            return
        self.waiting.put(Delivery(event, message, body, origin, attempts))

    def _not_taken(self, event: Envelope, message) -> None:
        """An event this entrypoint does not take, routed here by a binding the topology does not
        declare (made by hand, or left from before `stale_bindings` removed it): acked at once,
        before any worker or transaction, and counted; told once per event type."""
        service = self.container.service_name
        metrics.EVENTS_CONSUMED.labels(service, event.event_type, "not_taken").inc()
        if event.event_type not in self.told_not_taken:
            self.told_not_taken.add(event.event_type)
            log.warning("an event this entrypoint does not take was delivered: a binding not in the topology?",
                        event_type=event.event_type, queue=self.queue.name)
        self.queue_consumer.ack_message(message)

    def handle_result(self, delivery: Delivery, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self._applied(delivery)
        else:
            reason = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            if isinstance(exc_info[1], NotYet):
                log.warning("what the event needs has not arrived yet: tried again later",
                            event_type=delivery.event.event_type, attempts=delivery.attempts + 1, reason=reason)
            else:
                log.error("handler failed", event_type=delivery.event.event_type, attempts=delivery.attempts + 1,
                          reason=reason, exc_info=exc_info)
            self._end_in_failure(delivery.message, delivery.body, delivery.origin, delivery.attempts, reason,
                                 retry=True, kind="failed")
        return result, exc_info

    def handle_batch_result(self, deliveries: list[Delivery], worker_ctx, result=None, exc_info=None):
        """Acked after the batch's commit; a batch that failed is applied again one event at a
        time, where a failing event takes the way of any failure (retries, a dead letter) alone."""
        if exc_info is None:
            metrics.EVENT_BATCHES.labels(self.container.service_name, "committed").inc()
            metrics.EVENT_BATCH_SIZE.labels(self.container.service_name).observe(len(deliveries))
            for delivery in deliveries:
                self._applied(delivery)
            return result, exc_info
        metrics.EVENT_BATCHES.labels(self.container.service_name, "split").inc()
        reason = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
        log.warning("batch rolled back; its events are applied one at a time", events=len(deliveries), reason=reason)
        for delivery in deliveries:
            if self.stopping:
                self.queue_consumer.requeue_message(delivery.message)
            else:
                delivery.alone = True
                self.waiting.put(delivery)
        return result, None  # not a failure of any event yet

    def _applied(self, delivery: Delivery) -> None:
        service = self.container.service_name
        metrics.EVENTS_CONSUMED.labels(service, delivery.event.event_type, "applied").inc()
        replayed = (delivery.message.headers or {}).get(REPLAY_HEADER)
        if replayed is not None:
            try:
                announce_cleared(find_database(self.container), service, int(replayed))
            except Exception as error:  # noqa: BLE001 - the event is applied; only the notice is lost
                log.error("could not announce the cleared dead letter", dead_letter=replayed, error=repr(error))
        self.queue_consumer.ack_message(delivery.message)

    def republish(self, body: bytes, queue: str, headers: dict, content_type: str, content_encoding: str) -> None:
        """To one of this service's own queues, through the default exchange, signed with the
        service's broker user (the broker refuses a `user_id` that is not the publisher's)."""
        self.publisher.publish(body, routing_key=queue, headers=headers, content_type=content_type,
                               content_encoding=content_encoding, user_id=self.broker_user)

    def _republish(self, message, body, routing_key, headers):
        self.republish(body, routing_key, headers, message.content_type or "application/octet-stream",
                       message.content_encoding or "binary")

    @staticmethod
    def _origin_headers(origin) -> dict:
        exchange, publisher = origin
        return {**({EXCHANGE_HEADER: exchange} if exchange else {}),
                **({PUBLISHER_HEADER: publisher} if publisher else {})}

    def _end_in_failure(self, message, body, origin, attempts, reason, retry, kind):
        service = self.container.service_name
        event_type = _column(_peek(body).get("event_type"), 100) or "?"
        kept = self._origin_headers(origin)
        if (message.headers or {}).get(REPLAY_HEADER) is not None:  # cleared when a later try succeeds
            kept[REPLAY_HEADER] = message.headers[REPLAY_HEADER]
        try:
            if retry and attempts < len(self.delays):
                self._republish(message, body, retry_queue_name(self.queue.name, self.delays[attempts]),
                                {**kept, ATTEMPTS_HEADER: attempts + 1})
                metrics.HANDLER_RETRIES.labels(service, event_type).inc()
                metrics.EVENTS_CONSUMED.labels(service, event_type, "retried").inc()
            else:
                self._store(message, body, origin, attempts, reason, kind, event_type)
        except Exception as error:  # noqa: BLE001 - the broker is away too: keep the message
            log.error("could not retry or dead-letter; message requeued", error=repr(error))
            eventlet.sleep(1)  # not a tight loop while the outage lasts
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def _store(self, message, body, origin, attempts, reason, kind, event_type):
        service = self.container.service_name
        exchange, publisher = origin
        try:
            store_dead_letter(find_database(self.container), self.queue.name, body, reason, attempts + 1,
                              kind=kind, content_type=message.content_type, exchange=exchange, service=service,
                              publisher=publisher)
        except Exception as error:  # noqa: BLE001 - the database is down: the message waits on the broker
            headers = message.headers or {}
            try:
                failures = int(headers.get(STORE_FAILURES_HEADER, 0)) + 1
            except (TypeError, ValueError):
                failures = 1
            kept = self._origin_headers(origin)
            if failures >= self.store_tries or not self.delays:
                self._republish(message, body, parked_queue_name(self.queue.name),
                                {**kept, ATTEMPTS_HEADER: attempts, STORE_FAILURES_HEADER: failures,
                                 "x-yjs-reason": reason[:1000]})
                metrics.EVENTS_CONSUMED.labels(service, event_type, "parked").inc()
                log.error("dead letter not storable; parked on the broker", error=repr(error),
                          queue=parked_queue_name(self.queue.name))
            else:
                # the same attempt again after the longest delay: applied if the database is back
                self._republish(message, body, retry_queue_name(self.queue.name, self.delays[-1]),
                                {**kept, ATTEMPTS_HEADER: attempts, STORE_FAILURES_HEADER: failures})
                metrics.EVENTS_CONSUMED.labels(service, event_type, "waiting").inc()
                log.error("dead letter not storable; waiting on the broker", error=repr(error), failures=failures)
            return
        metrics.DEAD_LETTERS.labels(service, event_type).inc()
        metrics.EVENTS_CONSUMED.labels(service, event_type, "dead_lettered").inc()
        log.error("dead-lettered", event_type=event_type, attempts=attempts + 1, reason=reason, kind=kind)


consume_events = EventConsumer.decorator
