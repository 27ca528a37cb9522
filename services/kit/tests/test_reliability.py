"""The kit's delivery guarantees on the real broker and database: the outbox relay, the inbox,
retries that do not block, dead letters."""

import json
from collections import Counter

from kombu import Connection, Queue
from nameko.rpc import rpc
from sqlalchemy import MetaData, create_engine, insert, select
from yjs_contracts.envelope import new_event
from yjs_kit.consumer import consume_events
from yjs_kit.operations import OperatorRpc
from yjs_kit.outbox import outbox_row
from yjs_kit.tables import add_kit_tables
from yjs_kit.testing import (FAST_RETRIES_MS, database_unavailable, publish, queue_depths, wait_for, wait_for_row,
                             wait_until_consumed)
from yjs_kit.uow import Database

metadata = MetaData()
add_kit_tables(metadata)
seen: list[str] = []
tries: Counter = Counter()  # handler calls per event number, counted before the database is touched


class Probe(OperatorRpc):
    """Applies registration events once each; fails on demand."""

    name = "probe"
    db = Database(metadata)

    @consume_events(["registration.enterprise_registered"])
    def on_event(self, event):
        tries[event.data["n"]] += 1
        with self.db.unit_of_work() as uow:
            if not uow.first_time(event, "probe"):
                return
            if event.data.get("fail"):
                raise RuntimeError(f"cannot apply {event.data['fail']}")
            seen.append(event.data["n"])
            uow.announce(new_event("case.submitted", {"echo": event.data["n"]}, case_id=event.case_id, causation=event))

    @rpc
    def ping(self):
        return "pong"


def event(n, **data):
    return new_event("registration.enterprise_registered", {"n": n, **data}, case_id=f"C{n}")


def test_events_left_in_the_outbox_by_a_crash_are_published_on_start(start_service, database_factory, watch):
    url = database_factory()
    engine = create_engine(url)
    metadata.create_all(engine)
    left = [new_event("case.submitted", {"left": i}, case_id=f"L{i}") for i in range(3)]
    with engine.begin() as connection:
        connection.execute(insert(metadata.tables["kit_outbox"]), [outbox_row(e) for e in left])
    watcher = watch("case.submitted")
    start_service(Probe, database_url=url, migrate=False)
    got = watcher.wait_for(count=3)
    assert sorted(e.data["left"] for e in got) == [0, 1, 2]
    engine.dispose()
    wait_for_row(url, "SELECT count(*) AS unsent FROM kit_outbox WHERE sent_at IS NULL", lambda row: row["unsent"] == 0,
                 what="every left event marked sent")


def test_a_duplicate_is_applied_once_and_its_effect_announced_once(start_service, broker_uri, watch):
    seen.clear()
    start_service(Probe, migrate=False)
    watcher = watch("case.submitted")
    first = event(1)
    publish(broker_uri, first, first, event(2), first)
    echoes = watcher.wait_for(count=2)
    assert sorted(seen) == [1, 2] and sorted(e.data["echo"] for e in echoes) == [1, 2]
    publish(broker_uri, event(3))
    watcher.wait_for(lambda e: e.data["echo"] == 3)
    assert sorted(seen) == [1, 2, 3]


def test_a_failing_message_does_not_block_those_behind_it_and_ends_as_a_dead_letter(start_service, broker_uri, rpc):
    seen.clear()
    tries.clear()
    start_service(Probe, migrate=False, max_workers=1)
    poison = event(1, fail="poison")
    publish(broker_uri, poison, *[event(n) for n in range(2, 7)])
    wait_for(lambda: len(seen) == 5, what="the five good messages")
    [letter] = wait_for(lambda: rpc("probe").dead_letters(), what="the dead letter")
    assert letter["attempts"] == 3 and "RuntimeError: cannot apply poison" in letter["reason"]
    assert letter["queue"] == "probe.inbox" and letter["case_id"] == "C1"
    assert letter["event_id"] == str(poison.event_id) and letter["event_type"] == "registration.enterprise_registered"
    wait_until_consumed(broker_uri, "probe.inbox")
    assert tries[1] == 3 and sorted(seen) == [2, 3, 4, 5, 6]  # tried once per delay, then left alone


def test_an_unreadable_message_is_dead_lettered_at_once_with_its_reason(start_service, broker_uri, rpc):
    start_service(Probe, migrate=False)
    from yjs_kit.outbox import ConfirmingPublisher

    publisher = ConfirmingPublisher(broker_uri)
    publisher.publish_batch([("registration.events", "enterprise_registered",
                              json.dumps({"event_type": "registration.enterprise_registered", "data": {}}), "m1")])
    publisher.close()
    [letter] = wait_for(lambda: rpc("probe").dead_letters(), what="the dead letter")
    assert letter["attempts"] == 1 and letter["reason"].startswith("unreadable envelope")
    assert rpc("probe").ping() == "pong"  # the worker lives on


def test_each_retry_waits_the_next_delay_and_carries_its_attempt(start_service, broker_uri, rpc):
    # a long last delay: the message is caught waiting in the second retry queue
    start_service(Probe, migrate=False, RETRY_DELAYS_MS=[100, 60000])
    poison = event(1, fail="poison")
    publish(broker_uri, poison)
    wait_for(lambda: queue_depths(broker_uri)["probe.inbox.retry.60000ms"] or rpc("probe").dead_letters(),
             what="the message in the last retry queue, or dead-lettered")
    assert rpc("probe").dead_letters() == []
    with Connection(broker_uri) as connection:
        waiting = Queue("probe.inbox.retry.60000ms", channel=connection.default_channel, no_declare=True).get(no_ack=True)
    assert waiting.headers["x-yjs-attempts"] == 2  # the first try and the retry after 100 ms failed
    assert json.loads(waiting.body)["event_id"] == str(poison.event_id)
    assert queue_depths(broker_uri)["probe.inbox.retry.100ms"] == 0


def test_a_message_outlives_a_database_outage_and_is_applied_after_it(start_service, broker_uri, database_factory,
                                                                      rpc):
    seen.clear()
    tries.clear()
    url = database_factory()
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    start_service(Probe, database_url=url, migrate=False)
    with database_unavailable(url):
        publish(broker_uri, event(7))
        # one try, one per retry delay, and then — as the dead letter cannot be stored either —
        # the message is requeued, not acked, and tried again
        wait_for(lambda: tries[7] >= len(FAST_RETRIES_MS) + 2, timeout=20, what="a try after the last retry")
    wait_until_consumed(broker_uri, "probe.inbox")
    assert seen == [7]
    wait_for_row(url, "SELECT event_id FROM kit_inbox WHERE consumer = 'probe'", what="the event marked applied")
    assert rpc("probe").dead_letters() == []
