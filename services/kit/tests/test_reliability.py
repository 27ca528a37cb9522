"""The kit's delivery guarantees on the real broker and database: the outbox relay, the inbox,
retries that do not block, dead letters."""

import json

from nameko.rpc import rpc
from sqlalchemy import MetaData, create_engine, insert, select
from yjs_contracts.envelope import new_event
from yjs_kit.consumer import consume_events
from yjs_kit.operations import OperatorRpc
from yjs_kit.outbox import outbox_row
from yjs_kit.tables import add_kit_tables
from yjs_kit.testing import operator_token, publish, wait_for

OPERATOR = operator_token()
from yjs_kit.uow import Database

metadata = MetaData()
add_kit_tables(metadata)
seen: list[str] = []


class Probe(OperatorRpc):
    """Applies registration events once each; fails on demand."""

    name = "probe"
    db = Database(metadata)

    @consume_events(["registration.enterprise_registered"])
    def on_event(self, event):
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
    wait_for(lambda: engine.connect().execute(select(metadata.tables["kit_outbox"].c.sent_at)).scalars().all()
             and all(engine.connect().execute(select(metadata.tables["kit_outbox"].c.sent_at)).scalars()))
    engine.dispose()


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
    start_service(Probe, migrate=False, max_workers=1)
    publish(broker_uri, event(1, fail="poison"), *[event(n) for n in range(2, 7)])
    wait_for(lambda: len(seen) == 5, what="the five good messages")
    [letter] = wait_for(lambda: rpc("probe", OPERATOR).dead_letters(), what="the dead letter")
    assert letter["attempts"] == 3 and "RuntimeError: cannot apply poison" in letter["reason"]
    assert letter["queue"] == "probe.inbox" and letter["case_id"] == "C1"


def test_an_unreadable_message_is_dead_lettered_at_once_with_its_reason(start_service, broker_uri, rpc):
    start_service(Probe, migrate=False)
    from yjs_kit.outbox import ConfirmingPublisher

    publisher = ConfirmingPublisher(broker_uri)
    publisher.publish_batch([("registration.events", "enterprise_registered",
                              json.dumps({"event_type": "registration.enterprise_registered", "data": {}}), "m1")])
    publisher.close()
    [letter] = wait_for(lambda: rpc("probe", OPERATOR).dead_letters(), what="the dead letter")
    assert letter["attempts"] == 1 and letter["reason"].startswith("unreadable envelope")
    assert rpc("probe").ping() == "pong"  # the worker lives on
