"""Consuming events: one durable `<service>.inbox` queue bound to every event the service
reacts to, a worker per message, and our own ending for failures — nameko's event_handler
would ack a failed message and forget it.

A failing handler's message is acked and republished to `<queue>.retry.<ms>ms`, a queue whose
TTL dead-letters it back to the inbox after the delay, so it never blocks the messages behind
it. After the last delay it is stored as a dead letter with its reason; an operator lists and
replays dead letters (operations.py). A message that is not a readable envelope is dead-lettered
at once: trying again cannot help."""

from __future__ import annotations

import json
import traceback
from datetime import datetime, timezone
from functools import partial
from typing import Iterable

import eventlet
import structlog
from kombu import Connection, Exchange, Queue, binding
from nameko.amqp.publish import Publisher
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer
from pydantic import ValidationError
from sqlalchemy import insert
from yjs_contracts.envelope import Envelope

from . import metrics
from .uow import Database

log = structlog.get_logger(__name__)

ATTEMPTS_HEADER = "x-yjs-attempts"


def inbox_queue_name(service: str) -> str:
    return f"{service}.inbox"


def retry_queue_name(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}ms"


def event_exchange(producer: str) -> Exchange:
    # the exchange nameko's EventDispatcher declares: durable topic `<service>.events`
    return Exchange(f"{producer}.events", type="topic", durable=True, auto_delete=False)


def inbox_queue(service: str, event_types: Iterable[str]) -> Queue:
    bindings = [binding(event_exchange(t.split(".", 1)[0]), routing_key=t.split(".", 1)[1])
                for t in sorted(set(event_types))]
    return Queue(inbox_queue_name(service), bindings=bindings, durable=True, auto_delete=False)


class Failure(Exception):
    """A message that can never be handled (unreadable); dead-lettered without retries."""


def find_database(container) -> Database:
    for dependency in container.dependencies:
        if isinstance(dependency, Database):
            return dependency
    raise LookupError(f"{container.service_name} has no Database dependency")


def store_dead_letter(database: Database, queue: str, body, reason: str, attempts: int) -> None:
    envelope = body if isinstance(body, dict) else {}
    with database.engine.begin() as connection:
        connection.execute(insert(database.metadata.tables["kit_dead_letters"]).values(
            queue=queue, event_type=str(envelope.get("event_type") or "")[:100] or None,
            event_id=str(envelope.get("event_id") or "")[:36] or None,
            case_id=str(envelope.get("case_id") or "")[:40] or None,
            body=json.dumps(body, ensure_ascii=False, default=str), reason=reason[:4000],
            attempts=attempts, failed_at=datetime.now(timezone.utc)))


class EventConsumer(Consumer):
    """Entrypoint: `@consume_events(["registration.enterprise_registered", ...])`; the method
    receives the parsed Envelope."""

    def __init__(self, event_types: Iterable[str], **kwargs):
        self.event_types = sorted(set(event_types))
        super().__init__(queue=None, **kwargs)

    def setup(self):
        config = self.container.config
        self.queue = inbox_queue(self.container.service_name, self.event_types)
        self.delays = list(config.get("RETRY_DELAYS_MS", [1000, 5000, 30000]))
        self.publisher = Publisher(config["AMQP_URI"], use_confirms=True, serializer="json")
        with Connection(config["AMQP_URI"]) as connection:
            channel = connection.channel()
            self.queue.bind(channel).declare()
            for delay in self.delays:
                Queue(retry_queue_name(self.queue.name, delay), durable=True, auto_delete=False, queue_arguments={
                    "x-message-ttl": delay, "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": self.queue.name,
                }).bind(channel).declare()
        super().setup()

    def handle_message(self, body, message):
        attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0))
        try:
            event = Envelope.model_validate(json.loads(body) if isinstance(body, (str, bytes)) else body)
        except (ValidationError, ValueError) as error:
            self._end_in_failure(message, body, attempts, f"unreadable envelope: {error}", retry=False)
            return
        handle_result = partial(self.handle_result, message, body, attempts)
        try:
            self.container.spawn_worker(self, (event,), {}, context_data=self.unpack_message_headers(message),
                                        handle_result=handle_result)
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def handle_result(self, message, body, attempts, worker_ctx, result=None, exc_info=None):
        event_type = body.get("event_type", "?") if isinstance(body, dict) else "?"
        service = self.container.service_name
        if exc_info is None:
            metrics.EVENTS_CONSUMED.labels(service, event_type, "applied").inc()
            self.queue_consumer.ack_message(message)
        else:
            reason = "".join(traceback.format_exception_only(exc_info[0], exc_info[1])).strip()
            log.error("handler failed", event_type=event_type, attempts=attempts + 1, reason=reason,
                      exc_info=exc_info)
            self._end_in_failure(message, body, attempts, reason, retry=not isinstance(exc_info[1], Failure))
        return result, exc_info

    def _end_in_failure(self, message, body, attempts, reason, retry):
        service = self.container.service_name
        event_type = body.get("event_type", "?") if isinstance(body, dict) else "?"
        try:
            if retry and attempts < len(self.delays):
                self.publisher.publish(body, routing_key=retry_queue_name(self.queue.name, self.delays[attempts]),
                                       headers={ATTEMPTS_HEADER: attempts + 1})
                metrics.HANDLER_RETRIES.labels(service, event_type).inc()
                metrics.EVENTS_CONSUMED.labels(service, event_type, "retried").inc()
            else:
                store_dead_letter(find_database(self.container), self.queue.name, body, reason, attempts + 1)
                metrics.DEAD_LETTERS.labels(service, event_type).inc()
                metrics.EVENTS_CONSUMED.labels(service, event_type, "dead_lettered").inc()
                log.error("dead-lettered", event_type=event_type, attempts=attempts + 1, reason=reason)
        except Exception as error:  # noqa: BLE001 - broker or database down: keep the message
            log.error("could not retry or dead-letter; message requeued", error=repr(error))
            eventlet.sleep(1)  # not a tight loop while the outage lasts
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


consume_events = EventConsumer.decorator
