"""The topology on the real broker: what `apply` declares is what a consumer declares at start,
applying twice changes nothing, a conflicting queue is reported, and an event no service
consumes is kept on its producer's unrouted queue rather than returned to the relay."""

import json
import subprocess

import pytest
from kombu import Connection, Exchange, Queue
from sqlalchemy import MetaData, create_engine, insert, select
from yjs_contracts.envelope import new_event
from yjs_kit.broker_users import Rabbitmqctl
from yjs_kit.consumer import consume_events
from yjs_kit.outbox import OutboxRelay, outbox_row
from yjs_kit.tables import add_kit_tables
from yjs_kit.testing import (FAST_RETRIES_MS, _vhost, drop_vhost, fresh_vhost, publish, queue_depths, wait_for,
                             wait_until_consumed)
from yjs_kit.topology import Topology, TopologyConflict, apply


class Listener:
    """A consuming service without a database: its queues are all that matter here."""

    name = "listener"

    @consume_events(["registration.enterprise_registered", "tax.step_updated"])
    def on_event(self, event):
        pass


TOPOLOGY = Topology.of_services([Listener], FAST_RETRIES_MS)

received: dict[str, list[str]] = {"registrar": [], "tax_office": []}


class TwoInboxes:
    """Two consuming entrypoints, one event taken by both: each must get every one of its events."""

    name = "two_inboxes"

    @consume_events(["registration.enterprise_registered"])
    def for_registrar(self, event):
        received["registrar"].append(event.data["n"])

    @consume_events(["registration.enterprise_registered", "tax.step_updated"])
    def for_tax_office(self, event):
        received["tax_office"].append(event.data["n"])


def broker_state(amqp_uri: str) -> dict[str, list]:
    """Every exchange, queue and binding of the vhost with its properties, as the broker keeps them."""
    exported = Rabbitmqctl().export()
    vhost = _vhost(amqp_uri)
    return {kind: sorted(({k: v for k, v in item.items() if k != "vhost"} for item in exported[kind]
                          if item["vhost"] == vhost), key=json.dumps)
            for kind in ("exchanges", "queues", "bindings")}


def listener_part(state: dict[str, list]) -> dict[str, list]:
    return {"queues": [q for q in state["queues"] if q["name"].startswith("listener.")],
            "bindings": [b for b in state["bindings"] if b["destination"].startswith("listener.")]}


@pytest.fixture
def second_broker_uri():
    vhost, uri = fresh_vhost()
    yield uri
    drop_vhost(vhost)


def test_a_consumer_declares_at_start_exactly_its_part_of_the_topology(broker_uri, second_broker_uri, start_service):
    start_service(Listener)  # on a vhost of its own, nothing applied
    consumer_declared = broker_state(broker_uri)
    apply(second_broker_uri, TOPOLOGY)
    applied = broker_state(second_broker_uri)
    retry = next(q for q in applied["queues"] if q["name"] == "listener.inbox.retry.100ms")
    assert retry["durable"] and retry["arguments"] == {
        "x-queue-type": "quorum", "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish",
        "x-message-ttl": 100, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "listener.inbox"}
    assert listener_part(consumer_declared) == listener_part(applied)
    apply(broker_uri, TOPOLOGY)  # where the consumer runs: nothing refused, nothing of its own added
    assert broker_state(broker_uri) == applied


def test_applying_twice_changes_nothing_and_keeps_what_the_queues_hold(broker_uri):
    apply(broker_uri, TOPOLOGY)
    first = broker_state(broker_uri)
    with Connection(broker_uri) as connection:
        connection.Producer().publish({"n": 1}, exchange="registration.events", routing_key="enterprise_registered")
    depths = apply(broker_uri, TOPOLOGY)
    assert broker_state(broker_uri) == first
    assert depths["listener.inbox"] == 1


def test_what_the_broker_holds_otherwise_is_reported_and_the_rest_is_still_declared(broker_uri):
    with Connection(broker_uri) as connection:
        Queue("listener.inbox.retry.300ms", durable=True, queue_arguments={"x-message-ttl": 999}).bind(
            connection.channel()).declare()
        # holding a message, so it is kept as it is (an empty one would be replaced)
        connection.Producer().publish({"n": 0}, exchange="", routing_key="listener.inbox.retry.300ms")
        Exchange("tax.events", type="topic", durable=True).bind(connection.channel()).declare()  # no alternate
    with pytest.raises(TopologyConflict) as conflict:
        apply(broker_uri, TOPOLOGY)
    reported = str(conflict.value)
    assert "queue 'listener.inbox.retry.300ms'" in reported and "inequivalent arg 'x-message-ttl'" in reported
    assert "exchange 'tax.events'" in reported and "inequivalent arg 'alternate-exchange'" in reported
    # the inbox is not blamed for the exchange: it is declared, bound to what it can be bound to
    assert "queue 'listener.inbox' is not bound to tax.events until that is fixed" in reported
    assert "queue 'listener.inbox' (" not in reported
    bindings = broker_state(broker_uri)["bindings"]
    assert [b["source"] for b in bindings if b["destination"] == "listener.inbox"] == ["registration.events"]
    assert "listener.inbox.dead" in queue_depths(broker_uri)


class ListenerBefore:
    """The listener as an earlier release had it: it also took two events it no longer takes."""

    name = "listener"

    @consume_events(["registration.enterprise_registered", "tax.step_updated", "tax.taxpayer_registered",
                     "case.submitted"])
    def on_event(self, event):
        pass


def inbox_bindings(amqp_uri: str) -> list[tuple[str, str]]:
    return sorted((b["source"], b["routing_key"]) for b in broker_state(amqp_uri)["bindings"]
                  if b["destination"] == "listener.inbox")


TAKEN_NOW = [("registration.events", "enterprise_registered"), ("tax.events", "step_updated")]


def test_apply_unbinds_an_inbox_from_the_events_it_no_longer_takes(broker_uri):
    apply(broker_uri, Topology.of_services([ListenerBefore], FAST_RETRIES_MS))
    assert len(inbox_bindings(broker_uri)) == 4
    apply(broker_uri, TOPOLOGY)
    assert inbox_bindings(broker_uri) == TAKEN_NOW
    with Connection(broker_uri) as connection:  # what nobody takes now is kept unrouted, not delivered
        connection.Producer().publish({"n": 1}, exchange="case.events", routing_key="submitted")
        connection.Producer().publish({"n": 2}, exchange="tax.events", routing_key="taxpayer_registered")
    depths = queue_depths(broker_uri)
    assert depths["listener.inbox"] == 0
    assert depths["case.events.unrouted"] == 1 and depths["tax.events.unrouted"] == 1


def test_a_consumer_unbinds_at_start_what_it_no_longer_takes_from_the_exchanges_it_reads(broker_uri, start_service):
    apply(broker_uri, Topology.of_services([ListenerBefore], FAST_RETRIES_MS))
    start_service(Listener)
    # its own broker user may read only the exchanges it takes events from: case.events is
    # left for `yjs topology apply`
    assert inbox_bindings(broker_uri) == sorted([*TAKEN_NOW, ("case.events", "submitted")])


@pytest.fixture
def relay(tmp_path, broker_uri):
    metadata = MetaData()
    add_kit_tables(metadata)
    engine = create_engine(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    metadata.create_all(engine)
    relay = OutboxRelay("case", engine, metadata, broker_uri, max_attempts=1)
    yield relay
    relay.publisher.close()
    engine.dispose()


def test_an_event_no_service_consumes_is_kept_unrouted_and_the_relay_sends_it(broker_uri, relay):
    apply(broker_uri, TOPOLOGY)
    overdue = new_event("case.step_overdue", {"step": "tax.register"}, case_id="C1")
    outbox = relay.outbox
    with relay.engine.begin() as connection:
        connection.execute(insert(outbox), [outbox_row(overdue)])
    assert relay.relay_once() == 1 and relay.mark_confirmed() == 1
    with relay.engine.connect() as connection:
        row = connection.execute(select(outbox).where(outbox.c.event_id == str(overdue.event_id))).mappings().one()
    assert row["sent_at"] is not None and row["parked_at"] is None and row["attempts"] == 0
    with Connection(broker_uri) as connection:
        kept = Queue("case.events.unrouted").bind(connection.channel()).get(no_ack=True)
    assert kept is not None and kept.properties["message_id"] == str(overdue.event_id)
    assert kept.delivery_info["exchange"] == "case.events" and kept.delivery_info["routing_key"] == "step_overdue"


def test_each_consuming_entrypoint_has_its_own_inbox_and_receives_every_one_of_its_events(
        broker_uri, second_broker_uri, start_service):
    inboxes = Topology.of_services([TwoInboxes], FAST_RETRIES_MS).inboxes
    assert inboxes == {"two_inboxes.inbox": {"registration.enterprise_registered"},
                       "two_inboxes.for_tax_office.inbox": {"registration.enterprise_registered", "tax.step_updated"}}
    start_service(TwoInboxes)
    registered = [new_event("registration.enterprise_registered", {"n": f"r{i}"}, case_id=f"C{i}") for i in range(20)]
    reported = [new_event("tax.step_updated", {"n": f"t{i}"}, case_id=f"C{i}") for i in range(5)]
    publish(broker_uri, *registered, *reported)
    wait_until_consumed(broker_uri, *inboxes)
    wait_for(lambda: len(received["registrar"]) == 20 and len(received["tax_office"]) == 25, what="every event")
    assert sorted(received["registrar"]) == sorted(e.data["n"] for e in registered)
    assert sorted(received["tax_office"]) == sorted(e.data["n"] for e in registered + reported)
    # each inbox with its own retry and parked queues, as `yjs topology apply` declares them
    apply(second_broker_uri, Topology.of_services([TwoInboxes], FAST_RETRIES_MS))
    mine = lambda state: {kind: [item for item in items if "two_inboxes." in json.dumps(item)]
                          for kind, items in state.items() if kind != "exchanges"}
    assert mine(broker_state(broker_uri)) == mine(broker_state(second_broker_uri))
    assert {"two_inboxes.for_tax_office.inbox.retry.100ms", "two_inboxes.for_tax_office.inbox.dead",
            "two_inboxes.inbox.retry.300ms", "two_inboxes.inbox.dead"} < set(queue_depths(broker_uri))


def queue_types(amqp_uri: str) -> dict[str, str]:
    listed = subprocess.run(["rabbitmqctl", "list_queues", "-p", _vhost(amqp_uri), "name", "type", "--silent",
                             "--formatter", "json"], capture_output=True, text=True, check=True).stdout
    return {q["name"]: q["type"] for q in json.loads(listed)}


def test_every_queue_the_topology_declares_is_a_quorum_queue(broker_uri):
    apply(broker_uri, TOPOLOGY)
    types = queue_types(broker_uri)
    assert {"listener.inbox", "listener.inbox.dead", "listener.inbox.retry.100ms", "registration.events.unrouted"} \
        <= set(types)
    assert set(types.values()) == {"quorum"}, types


def test_a_message_a_worker_keeps_dying_on_is_parked_by_the_broker_not_dropped(broker_uri):
    # a worker killed while it holds a message returns it to the queue; past the delivery limit
    # the broker moves it to the parked queue (at least once), where an operator finds it
    from yjs_kit.topology import DELIVERY_LIMIT

    apply(broker_uri, TOPOLOGY)
    with Connection(broker_uri) as connection:
        connection.Producer().publish({"n": 1}, exchange="registration.events", routing_key="enterprise_registered",
                                      headers={"x-test": "poison"})
        channel = connection.channel()
        for _ in range(DELIVERY_LIMIT + 1):
            message = wait_for(lambda: channel.basic_get("listener.inbox"), timeout=10, what="the message again")
            channel.basic_reject(message.delivery_tag, requeue=True)
    parked = wait_for(lambda: queue_depths(broker_uri).get("listener.inbox.dead") or None, timeout=10,
                      what="the message parked")
    assert parked == 1 and queue_depths(broker_uri)["listener.inbox"] == 0


def test_an_empty_classic_queue_from_before_is_replaced_and_one_holding_messages_is_kept(broker_uri):
    with Connection(broker_uri) as connection:
        channel = connection.channel()
        for name in ("listener.inbox.retry.100ms", "listener.inbox.dead"):
            Queue(name, durable=True).bind(channel).declare()
        connection.Producer().publish({"n": 1}, exchange="", routing_key="listener.inbox.dead")
    with pytest.raises(TopologyConflict) as conflict:
        apply(broker_uri, TOPOLOGY)
    assert "queue 'listener.inbox.dead'" in str(conflict.value) and "holds 1 messages" in str(conflict.value)
    types = queue_types(broker_uri)
    assert types["listener.inbox.retry.100ms"] == "quorum" and types["listener.inbox.dead"] == "classic"
    assert queue_depths(broker_uri)["listener.inbox.dead"] == 1  # nothing it held was lost
