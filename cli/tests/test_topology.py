"""`yjs topology apply` on an empty vhost: every event the services consume reaches their inboxes
with no service running, what none consumes is kept, and a conflict fails the command."""

import importlib

from kombu import Connection, Queue
from yjs_contracts.events import EVENT_MODELS
from yjs_kit.config import SERVICES
from yjs_kit.outbox import ConfirmingPublisher
from yjs_kit.testing import queue_depths
from yjs_kit.topology import consumed_event_types, producers, service_inboxes
from yjs_cli.main import main


def test_after_apply_every_event_reaches_the_inboxes_of_its_consumers_or_is_kept(broker_uri):
    assert main(["topology", "apply", "--amqp-uri", broker_uri]) == 0
    publisher = ConfirmingPublisher(broker_uri)
    try:
        returned = publisher.publish_batch([(f"{t.split('.', 1)[0]}.events", t.split(".", 1)[1], "{}", t)
                                            for t in sorted(EVENT_MODELS)], mandatory=True)
    finally:
        publisher.close()
    assert returned == {}  # mandatory, and nothing came back: every event has somewhere to go
    depths = queue_depths(broker_uri)
    consumed = set()
    for service in SERVICES:
        for inbox, types in service_inboxes(importlib.import_module(f"yjs_{service}.service").SERVICE).items():
            consumed |= types
            assert depths.get(inbox, 0) == len(types), inbox
    assert "registration.enterprise_registered" in consumed_event_types(
        importlib.import_module("yjs_tax.service").SERVICE)
    unconsumed = set(EVENT_MODELS) - consumed
    assert "case.step_overdue" in unconsumed
    for producer in producers():
        expected = len([t for t in unconsumed if t.startswith(f"{producer}.")])
        assert depths[f"{producer}.events.unrouted"] == expected, producer


def test_a_conflicting_queue_holding_messages_fails_the_command_with_the_reason(broker_uri, capsys):
    with Connection(broker_uri) as connection:
        Queue("tax.inbox", durable=True, queue_arguments={"x-max-length": 10}).bind(connection.channel()).declare()
        connection.Producer().publish({"n": 1}, exchange="", routing_key="tax.inbox")  # kept: it holds one
    assert main(["topology", "apply", "--amqp-uri", broker_uri]) == 1
    error = capsys.readouterr().err
    assert "queue 'tax.inbox'" in error and "inequivalent arg" in error and "holds 1 messages" in error
