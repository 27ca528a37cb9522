"""The broker's topology as code: every producer's `<producer>.events` exchange, where events
nobody consumes are kept, and every consuming entrypoint's inbox with its bindings, retry queues
and parked queue. `yjs topology apply` declares all of it before any service starts; each consumer declares
its own part at start through the same functions, so the two cannot disagree."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import time
from dataclasses import dataclass, field
from typing import Iterable

import amqp
import structlog
from kombu import Connection, Exchange, Queue, binding
from kombu.exceptions import OperationalError
from yjs_contracts.events import EVENT_MODELS

from .brokers import connect

log = structlog.get_logger(__name__)


def inbox_queue_name(service: str, method: str | None = None) -> str:
    """`<service>.inbox` for a service's first consuming entrypoint, `<service>.<method>.inbox`
    for any other: entrypoints sharing a queue would be competing consumers, each taking events
    meant for the other."""
    return f"{service}.inbox" if method is None else f"{service}.{method}.inbox"


def retry_queue_name(queue: str, delay_ms: int) -> str:
    return f"{queue}.retry.{delay_ms}ms"


def parked_queue_name(queue: str) -> str:
    """Broker-side dead letters: messages whose dead letter could not be stored for too long."""
    return f"{queue}.dead"


def exchange_name(producer: str) -> str:
    return f"{producer}.events"


def unrouted_name(producer: str) -> str:
    """The alternate exchange of `<producer>.events` and the queue that keeps what it receives:
    the events of that producer that no queue was bound to when they were published."""
    return f"{producer}.events.unrouted"


def event_exchange(producer: str) -> Exchange:
    # The broker compares arguments on every declaration: whoever declares this exchange (the
    # relay, consumers, test helpers, the benchmark) must declare it exactly so, hence one function.
    return Exchange(exchange_name(producer), type="topic", durable=True, auto_delete=False,
                    arguments={"alternate-exchange": unrouted_name(producer)})


def unrouted_queue(producer: str) -> Queue:
    exchange = Exchange(unrouted_name(producer), type="fanout", durable=True, auto_delete=False)
    return Queue(unrouted_name(producer), exchange=exchange, durable=True, auto_delete=False,
                 queue_arguments=dict(QUORUM))


#: Every queue the product owns is a quorum queue: replicated on a cluster's nodes (Raft), so the
#: loss of one broker's disk loses nothing. A message it dead-letters (a retry's TTL, the delivery
#: limit) is moved at least once: RabbitMQ's default for quorum queues is at most once.
QUORUM = {"x-queue-type": "quorum"}
DEAD_LETTER_AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
#: the broker's own backstop for a message no consumer gets past (a worker that dies on it each
#: time, before the kit's retries can count): after this many deliveries it is parked, not dropped
DELIVERY_LIMIT = 20


def event_route(event_type: str) -> tuple[str, str]:
    """Where an event is published: its producer's exchange and its routing key
    (`tax.taxpayer_registered` → `tax.events`, `taxpayer_registered`)."""
    producer, routing_key = event_type.split(".", 1)
    return exchange_name(producer), routing_key


def inbox_queue(name: str, event_types: Iterable[str]) -> Queue:
    bindings = [binding(event_exchange(producer), routing_key=routing_key)
                for producer, routing_key in sorted({tuple(t.split(".", 1)) for t in event_types})]
    return Queue(name, bindings=bindings, durable=True, auto_delete=False, queue_arguments={
        **QUORUM, **DEAD_LETTER_AT_LEAST_ONCE, "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": parked_queue_name(name)})


def inbox_queues(name: str, event_types: Iterable[str], delays_ms: Iterable[int]) -> list[Queue]:
    """A consuming entrypoint's queues: its inbox `name` bound to every event it takes, one retry
    queue per delay whose TTL dead-letters a message back to the inbox, and its parked queue."""
    inbox = inbox_queue(name, event_types)
    retries = [Queue(retry_queue_name(inbox.name, delay), durable=True, auto_delete=False, queue_arguments={
        **QUORUM, **DEAD_LETTER_AT_LEAST_ONCE,
        "x-message-ttl": delay, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": inbox.name,
    }) for delay in delays_ms]
    parked = Queue(parked_queue_name(inbox.name), durable=True, auto_delete=False, queue_arguments=dict(QUORUM))
    return [inbox, *retries, parked]


def producers() -> list[str]:
    """Every service the contracts name as a producer of events."""
    return sorted({event_type.split(".", 1)[0] for event_type in EVENT_MODELS})


def consumers(service_cls) -> list[tuple[str, frozenset[str]]]:
    """(method, events it takes) for each `@consume_events` entrypoint of a service class, in the
    order the class defines them: the first keeps `<service>.inbox` whatever is added after it."""
    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR

    from .consumer import EventConsumer

    names: dict[str, None] = {}  # ordered: a base class's methods, then the subclass's
    for klass in reversed(inspect.getmro(service_cls)):
        names.update(dict.fromkeys(vars(klass)))
    found = []
    for name in names:
        method = getattr(service_cls, name, None)
        types = {t for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ())
                 if isinstance(entrypoint, EventConsumer) for t in entrypoint.event_types}
        if types:
            found.append((name, frozenset(types)))
    return found


def service_inboxes(service_cls) -> dict[str, frozenset[str]]:
    """Each consuming entrypoint's inbox queue name and the events bound to it."""
    return {inbox_queue_name(service_cls.name, None if position == 0 else method): types
            for position, (method, types) in enumerate(consumers(service_cls))}


def inbox_of(service_cls, method: str) -> str:
    """The inbox queue of the entrypoint `method` of a service class."""
    methods = [name for name, _ in consumers(service_cls)]
    return inbox_queue_name(service_cls.name, None if methods.index(method) == 0 else method)


def consumed_event_types(service_cls) -> set[str]:
    """The events a service class's `@consume_events` entrypoints take."""
    return set().union(*service_inboxes(service_cls).values())


@dataclass(frozen=True)
class Topology:
    """What the broker must hold: `inboxes` maps each inbox queue (one per consuming
    entrypoint) to the events bound to it."""

    inboxes: dict[str, frozenset[str]]
    delays_ms: tuple[int, ...]
    producers: tuple[str, ...] = field(default_factory=lambda: tuple(producers()))

    @classmethod
    def of_services(cls, service_classes: Iterable, delays_ms: Iterable[int]) -> "Topology":
        return cls({queue: types for s in service_classes for queue, types in service_inboxes(s).items()},
                   tuple(delays_ms))

    def inboxes_of(self, service: str) -> dict[str, frozenset[str]]:
        """A service's inbox queues (`<service>.inbox`, `<service>.<method>.inbox`) and their events."""
        return {queue: types for queue, types in self.inboxes.items() if queue.split(".", 1)[0] == service}

    def unconsumed(self) -> list[str]:
        """Event types in the contracts that no service here consumes: kept on their producer's
        unrouted queue until a queue is bound to them."""
        consumed = set().union(*self.inboxes.values())
        return sorted(set(EVENT_MODELS) - consumed)

    def declarations(self) -> list[Exchange | Queue]:
        every_producer = sorted(set(self.producers) | {t.split(".", 1)[0] for ts in self.inboxes.values() for t in ts})
        entities: list[Exchange | Queue] = []
        for producer in every_producer:  # the alternate exchange first: nothing published falls between
            entities += [unrouted_queue(producer), event_exchange(producer)]
        for inbox in sorted(self.inboxes):
            entities += inbox_queues(inbox, self.inboxes[inbox], self.delays_ms)
        return entities


def installed_topology(services: Iterable[str], delays_ms: Iterable[int]) -> Topology:
    """The topology of the services installed here (`yjs_<service>` packages), from their
    entrypoints: the consume lists the services themselves declare."""
    classes = [importlib.import_module(f"yjs_{s}.service").SERVICE for s in services
               if importlib.util.find_spec(f"yjs_{s}") is not None]
    return Topology.of_services(classes, delays_ms)


class TopologyConflict(Exception):
    """The broker already holds an exchange or queue of that name with other properties: the
    broker refuses the declaration (PRECONDITION_FAILED) and nothing is changed for it."""


def _describe(entity: Exchange | Queue) -> str:
    if isinstance(entity, Exchange):
        return f"exchange {entity.name!r} ({entity.type}, arguments {entity.arguments or {}})"
    return f"queue {entity.name!r} (arguments {entity.queue_arguments or {}})"


def _ensure_exchange(connection: Connection, channel, exchange: Exchange):
    """Declares an exchange a queue is bound to. A service's own broker user may not declare
    another producer's exchange (docs/adr/0012): then it must already exist, as `apply` made it.
    Returns the channel to go on with and None, or the reason the exchange is not there."""
    try:
        exchange.bind(channel).declare()
        return channel, None
    except amqp.exceptions.PreconditionFailed as refused:
        return connection.channel(), refused.reply_text
    except amqp.exceptions.AccessRefused:
        channel = connection.channel()  # the broker closed the channel that was refused
    try:
        channel.exchange_declare(exchange.name, exchange.type, passive=True)
        return channel, None
    except amqp.exceptions.NotFound:
        return connection.channel(), "missing, and this user may not declare it: apply the topology first"


def _replace_if_empty(connection: Connection, channel, queue: Queue):
    """A queue declared otherwise (a classic queue from before quorum queues, another retry
    delay) that holds nothing and has no consumer is deleted and declared as the topology says.
    One that holds messages is left: they carry their publisher's `user_id`, which nobody else
    may publish again (docs/adr/0012), so its consumers must drain it. Returns the channel, the
    new queue's depth, and what stopped it."""
    found = channel.queue_declare(queue.name, passive=True)
    if found.message_count or found.consumer_count:
        return channel, 0, (f"it holds {found.message_count} messages and has {found.consumer_count} consumers: "
                            "drain it and stop its service first (docs/migrations.md, quorum queues)")
    try:
        channel.queue_delete(queue.name, if_unused=True, if_empty=True)
    except amqp.exceptions.PreconditionFailed:  # a message or a consumer arrived in between
        return connection.channel(), 0, "it was not empty or unused any more: apply again"
    bound = queue.bind(channel)
    bound.declare()
    log.warning("queue replaced", queue=queue.name, type=queue.queue_arguments.get("x-queue-type", "classic"))
    return channel, bound.queue_declare(passive=True).message_count, None


def stale_bindings(inbox: Queue, exchanges: Iterable[str]) -> list[tuple[str, str]]:
    """(exchange, routing key) of every event in the contracts, on the `exchanges` given, that
    `inbox` is not declared to take. AMQP cannot list a queue's bindings, so these are unbound
    whether or not they are there (the broker takes that as done): one left from an entrypoint
    that no longer takes an event would go on delivering what nothing acts on."""
    declared = {(b.exchange.name, b.routing_key) for b in inbox.bindings}
    present = set(exchanges)
    every = {event_route(t) for t in EVENT_MODELS}
    return sorted(pair for pair in every - declared if pair[0] in present)


def declare(connection: Connection, entities: Iterable[Exchange | Queue]) -> dict[str, int]:
    """Declares each exchange and queue (a queue with its bindings); declaring what exists as
    declared changes nothing, and an inbox loses its bindings to the events it no longer takes
    (`stale_bindings`). Returns each queue's message count. A conflict does not stop the
    others: every one is reported at the end, in one TopologyConflict. A queue declared otherwise
    that is empty and unused is replaced: nothing is lost, and the alternative is an operator
    deleting it by hand."""
    channel = connection.channel()
    depths: dict[str, int] = {}
    conflicts: list[str] = []
    refused_exchanges: set[str] = set()
    present_exchanges: set[str] = set()
    for entity in entities:
        try:
            if isinstance(entity, Exchange):
                entity.bind(channel).declare()
                present_exchanges.add(entity.name)
                continue
            for exchange in {b.exchange.name: b.exchange for b in entity.bindings}.values():
                if exchange.name in present_exchanges | refused_exchanges:
                    continue
                channel, reason = _ensure_exchange(connection, channel, exchange)
                if reason is None:
                    present_exchanges.add(exchange.name)
                else:
                    refused_exchanges.add(exchange.name)
                    conflicts.append(f"{_describe(exchange)}: {reason}")
            # a binding would redeclare a refused exchange and be refused too, blaming the queue
            waiting = sorted({b.exchange.name for b in entity.bindings} & refused_exchanges)
            if waiting:
                conflicts.append(f"queue {entity.name!r} is not bound to {', '.join(waiting)} until that is fixed")
            if entity.bindings:  # the exchanges are there now: the bindings must not declare them again
                entity = Queue(entity.name, exchange=entity.exchange, routing_key=entity.routing_key,
                               durable=entity.durable, auto_delete=entity.auto_delete,
                               queue_arguments=entity.queue_arguments,
                               bindings=[binding(Exchange(b.exchange.name, no_declare=True), routing_key=b.routing_key)
                                         for b in entity.bindings if b.exchange.name not in refused_exchanges])
            bound = entity.bind(channel)
            bound.declare()
            if entity.bindings:  # an inbox: whatever it took before and takes no more goes
                for exchange, routing_key in stale_bindings(entity, present_exchanges):
                    channel.queue_unbind(entity.name, exchange, routing_key)
            depths[entity.name] = bound.queue_declare(passive=True).message_count
        except amqp.exceptions.PreconditionFailed as refused:
            channel = connection.channel()  # the broker closed the channel that was refused
            if isinstance(entity, Exchange):
                refused_exchanges.add(entity.name)
            else:
                channel, depth, problem = _replace_if_empty(connection, channel, entity)
                if problem is None:
                    depths[entity.name] = depth
                    continue
                conflicts.append(f"{_describe(entity)}: {refused.reply_text}; {problem}")
                continue
            conflicts.append(f"{_describe(entity)}: {refused.reply_text}")
    if conflicts:
        raise TopologyConflict(
            "the broker holds these with other properties than the topology declares, and keeps them as they are:\n  "
            + "\n  ".join(conflicts)
            + "\nan exchange: delete it (its bindings go with it; apply binds the services' inboxes again) and apply"
              " again; a queue: move what it holds elsewhere, delete it and apply again")
    return depths


def apply(amqp_uri: str, topology: Topology, wait_seconds: float = 0.0) -> dict[str, int]:
    """Declares the whole topology on the broker at `amqp_uri`, waiting up to `wait_seconds`
    for it to be reachable (a broker starting beside it); returns each queue's depth."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            connection = connect(amqp_uri, connect_timeout=5)
            break
        except (OSError, OperationalError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(1)
    with connection:
        return declare(connection, topology.declarations())
