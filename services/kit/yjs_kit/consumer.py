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
These queues are declared by topology.py, at start as by `yjs topology apply`.

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
import traceback
from datetime import datetime, timezone
from functools import partial
from typing import Iterable

import eventlet
import structlog
from kombu import Queue
from nameko.amqp.publish import Publisher
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer
from sqlalchemy import insert, select
from yjs_contracts.envelope import new_event
from yjs_contracts.events import EVENT_MODELS, DeadLetterCleared, EventDeadLettered

from . import metrics
from .broker_users import USER_PREFIX, broker_user, broker_user_of
from .brokers import connect
from .outbox import outbox_row
from .provenance import Refused, check, read
from .topology import declare, inbox_of, inbox_queues, parked_queue_name, retry_queue_name
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
    log a body it cannot decode (bad JSON, a pickle) and ack it, and it would be gone."""

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(queues=[provider.queue], on_message=partial(self.handle_raw, provider))
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def handle_raw(self, provider, message):
        ident = f"{type(provider).__name__}.handle_message[{message.delivery_info.get('routing_key')}]"
        self.container.spawn_managed_thread(partial(provider.handle_message, message.body, message),
                                            identifier=ident)


class EventConsumer(Consumer):
    """Entrypoint: `@consume_events(["registration.enterprise_registered", ...])`; the method
    receives the parsed Envelope."""

    queue_consumer = RawQueueConsumer()

    def __init__(self, event_types: Iterable[str], **kwargs):
        self.event_types = sorted(set(event_types))
        super().__init__(queue=None, **kwargs)

    def setup(self):
        config = self.container.config
        self.delays = list(config.get("RETRY_DELAYS_MS", [1000, 5000, 30000]))
        self.store_tries = int(config.get("DEAD_LETTER_STORE_TRIES", 20))
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
        super().setup()

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
            self._end_in_failure(message, body, origin, attempts, str(refused), retry=False, kind=refused.kind)
            return
        handle_result = partial(self.handle_result, message, body, origin, attempts, event.event_type)
        try:
            self.container.spawn_worker(self, (event,), {}, context_data=self.unpack_message_headers(message),
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, body, origin, attempts, event_type, worker_ctx, result=None, exc_info=None):
        service = self.container.service_name
        if exc_info is None:
            metrics.EVENTS_CONSUMED.labels(service, event_type, "applied").inc()
            replayed = (message.headers or {}).get(REPLAY_HEADER)
            if replayed is not None:
                try:
                    announce_cleared(find_database(self.container), service, int(replayed))
                except Exception as error:  # noqa: BLE001 - the event is applied; only the notice is lost
                    log.error("could not announce the cleared dead letter", dead_letter=replayed, error=repr(error))
            self.queue_consumer.ack_message(message)
        else:
            reason = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            log.error("handler failed", event_type=event_type, attempts=attempts + 1, reason=reason,
                      exc_info=exc_info)
            self._end_in_failure(message, body, origin, attempts, reason, retry=True, kind="failed")
        return result, exc_info

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
