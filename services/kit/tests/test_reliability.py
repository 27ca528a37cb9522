"""The kit's delivery guarantees on the real broker and database: the outbox relay, the inbox,
retries that do not block, dead letters, provenance."""

import base64
import json
from collections import Counter
from functools import partial

import pickle
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

import amqp
import eventlet.event
import pytest
from kombu import Connection, Queue
from prometheus_client import REGISTRY
from nameko.rpc import rpc
from sqlalchemy import MetaData, create_engine, insert, select, text
from sqlalchemy import event as sql_event
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import EnterpriseRegistered, step_report
from yjs_contracts.steps import StepStatus
from yjs_kit import metrics
from yjs_kit.consumer import (EXCHANGE_HEADER, EventBatch, EventConsumer, NotYet, consume_events, final_attempt,
                               find_database, not_yet)
from yjs_kit.operations import OperatorRpc
from yjs_kit.outbox import outbox_row
from yjs_kit.tables import add_kit_tables
from yjs_kit.topology import event_exchange
from yjs_kit.testing import (FAST_RETRIES_MS, BrokerProxy, database_unavailable, operator_token, publish, queue_depths,
                             wait_for, wait_for_row, wait_until_consumed)

OPERATOR = operator_token()
from yjs_kit.uow import Database

metadata = MetaData()
add_kit_tables(metadata)
seen: list[str] = []  # what was applied, as committed
tries: Counter = Counter()  # handler calls per event number, counted before the database is touched
broken: set[str] = set()  # what the probe cannot apply until it is "fixed"
released = eventlet.event.Event()  # what an event `hold` waits for before it is applied


class Probe(OperatorRpc):
    """Applies registration events once each; fails on demand."""

    name = "probe"
    db = Database(metadata)

    @consume_events(["registration.enterprise_registered", "tax.step_updated"])
    def on_event(self, event):
        tries[event.data.get("n")] += 1
        if event.data.get("hold"):
            released.wait(timeout=20)
        if event.data.get("swallow"):  # a handler that catches what failed in its unit of work
            try:
                with self.db.unit_of_work() as uow:
                    uow.announce(new_event("case.submitted", {"echo": "rolled back"}, case_id=event.case_id))
                    raise LookupError("not there")
            except LookupError:
                pass
        with self.db.unit_of_work() as uow:
            if not uow.first_time(event, "probe"):
                return
            uow.lock(event.case_id)  # as departments do: the case id reaches the database
            if event.data.get("fail"):
                raise RuntimeError(f"cannot apply {event.data['fail']}")
            if event.data.get("not_yet"):
                not_yet(f"{event.data['not_yet']} has not arrived")
            if event.data.get("until_fixed") in broken:
                raise RuntimeError(f"not yet fixed: {event.data['until_fixed']}")
            self.db.after_commit(partial(seen.append, event.data.get("n", event.data.get("step"))))
            uow.announce(new_event("case.submitted", {"echo": event.data["n"]}, case_id=event.case_id, causation=event))

    @rpc
    def ping(self):
        return "pong"


def sent_times(engine) -> list:
    with engine.connect() as connection:  # closed here: a connection left to the garbage collector
        return connection.execute(select(metadata.tables["kit_outbox"].c.sent_at)).scalars().all()


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


def test_an_event_the_entrypoint_does_not_take_is_acked_at_once_and_counted_not_applied(start_service, broker_uri):
    """A binding made by hand routes an event the probe does not take: it never reaches the
    handler or the database, and does not hold back what the probe does take."""
    seen.clear()
    tries.clear()
    start_service(Probe, migrate=False)
    with Connection(broker_uri) as connection:
        channel = connection.channel()
        event_exchange("seal_carving").bind(channel).declare()
        channel.queue_bind("probe.inbox", "seal_carving.events", "seals_carved")
    not_taken = lambda: REGISTRY.get_sample_value("yjs_events_consumed_total", {
        "service": "probe", "event_type": "seal_carving.seals_carved", "outcome": "not_taken"}) or 0
    before = not_taken()
    stray = new_event("seal_carving.seals_carved", {"n": 41}, case_id="C41")
    publish(broker_uri, stray, stray, event(42))
    wait_until_consumed(broker_uri, "probe.inbox")
    wait_for(lambda: seen == [42], what="the event the probe takes applied")
    assert not_taken() - before == 2 and tries[41] == 0


def test_a_failing_message_does_not_block_those_behind_it_and_ends_as_a_dead_letter(start_service, broker_uri, rpc):
    seen.clear()
    tries.clear()
    start_service(Probe, migrate=False, max_workers=1)
    poison = event(1, fail="poison")
    publish(broker_uri, poison, *[event(n) for n in range(2, 7)])
    wait_for(lambda: len(seen) == 5, what="the five good messages")
    [letter] = wait_for(lambda: rpc("probe", OPERATOR).dead_letters(), what="the dead letter")
    assert letter["attempts"] == 3 and "RuntimeError: cannot apply poison" in letter["reason"]
    assert letter["queue"] == "probe.inbox" and letter["case_id"] == "C1"
    assert letter["event_id"] == str(poison.event_id) and letter["event_type"] == "registration.enterprise_registered"
    wait_until_consumed(broker_uri, "probe.inbox")
    # tried once per delay, then left alone (and once more where it first came in a batch)
    assert tries[1] in (3, 4) and sorted(seen) == [2, 3, 4, 5, 6]


def consumer_of(container) -> EventConsumer:
    return next(e for e in container.entrypoints if isinstance(e, EventConsumer))


def batches(outcome: str) -> float:
    return metrics.EVENT_BATCHES.labels("probe", outcome)._value.get()


def held_while_more_arrive(container, broker_uri, *events):
    """The one worker holds an event while `events` arrive and wait: they make one batch."""
    global released
    released = eventlet.event.Event()
    hold = event(100, hold=True)
    publish(broker_uri, hold)
    wait_for(lambda: tries[100] == 1, what="the held event in the worker")
    publish(broker_uri, *events)
    waiting = consumer_of(container).waiting
    # the first in the dispatcher's hand, waiting for the worker; the others in the queue
    wait_for(lambda: waiting.qsize() == len(events) - 1, what="the events waiting behind it")
    released.send()


def test_events_that_wait_together_are_applied_in_one_transaction_and_acked_after_it(start_service, broker_uri,
                                                                                     watch):
    seen.clear()
    tries.clear()
    container = start_service(Probe, migrate=False, max_workers=1)
    watcher = watch("case.submitted")
    committed = batches("committed")
    first = event(1)
    held_while_more_arrive(container, broker_uri, first, *[event(n) for n in range(2, 9)], first)
    wait_until_consumed(broker_uri, "probe.inbox")
    assert sorted(seen) == [1, 2, 3, 4, 5, 6, 7, 8, 100]  # the duplicate of 1 refused by the inbox
    assert batches("committed") == committed + 1 and tries[1] == 2 and all(tries[n] == 1 for n in range(2, 9))
    watcher.wait_for(count=9)
    eventlet.sleep(0.5)  # time for an echo that should not be there
    assert sorted(e.data["echo"] for e in watcher.drain()) == [1, 2, 3, 4, 5, 6, 7, 8, 100]


def test_a_batch_applies_its_events_in_the_order_they_arrived_whatever_their_cases(start_service, broker_uri):
    """One case's event may be what another's needs (an enterprise registered, then a licence
    asked for it): a batch keeps the order of arrival across cases, not only within one."""
    seen.clear()
    tries.clear()
    container = start_service(Probe, migrate=False, max_workers=1)
    committed = batches("committed")
    held_while_more_arrive(container, broker_uri, event(9), event(3), event(7), event(5))
    wait_until_consumed(broker_uri, "probe.inbox")
    assert batches("committed") == committed + 1 and seen == [100, 9, 3, 7, 5]


def test_under_load_a_batch_waits_briefly_for_more_and_an_event_alone_is_not_held(start_service, broker_uri):
    seen.clear()
    tries.clear()
    linger = 2.5
    container = start_service(Probe, migrate=False, max_workers=1, EVENT_LINGER_MS=linger * 1000)
    committed = batches("committed")
    held_while_more_arrive(container, broker_uri, event(2), event(3))  # a batch of two: under load
    wait_for(lambda: batches("committed") == committed + 1, what="the batch of two")
    publish(broker_uri, event(4))
    eventlet.sleep(0.3)  # long after the dispatcher took 4, well within the linger
    publish(broker_uri, event(5))
    wait_for(lambda: 5 in seen, what="the event that came later")
    assert batches("committed") == committed + 2 and tries[4] == tries[5] == 1  # 4 waited for 5
    publish(broker_uri, event(6))  # still under load: it waits the linger out, then goes alone
    wait_for(lambda: 6 in seen, timeout=linger + 5, what="the event after the batch")
    publish(broker_uri, event(7))  # the last one came alone: no load, no wait
    wait_for(lambda: 7 in seen, timeout=linger / 2, what="an event alone, at once")
    assert batches("committed") == committed + 2 and sorted(seen) == [2, 3, 4, 5, 6, 7, 100]


def test_a_batch_with_a_failing_event_is_rolled_back_and_applied_one_event_at_a_time(start_service, broker_uri,
                                                                                       rpc, watch):
    seen.clear()
    tries.clear()
    container = start_service(Probe, migrate=False, max_workers=1)
    watcher = watch("case.submitted")
    split = batches("split")
    poison = event(4, fail="poison")
    held_while_more_arrive(container, broker_uri, event(2), event(3, swallow=True), poison, event(5), event(6))
    [letter] = wait_for(lambda: rpc("probe", OPERATOR).dead_letters(), what="the dead letter")
    wait_until_consumed(broker_uri, "probe.inbox")
    assert letter["event_id"] == str(poison.event_id) and letter["attempts"] == len(FAST_RETRIES_MS) + 1
    # each good event applied once: the batch's work was rolled back, then each was applied alone
    assert sorted(seen) == [2, 3, 5, 6, 100] and batches("split") == split + 1
    # in the batch, in the order they came, up to the poison (C4); the batch ends there
    assert [tries[n] for n in (2, 3, 5, 6)] == [2, 2, 1, 1]
    watcher.wait_for(count=5)
    eventlet.sleep(0.5)  # time for an echo that should not be there: "rolled back", a second one
    assert sorted(str(e.data["echo"]) for e in watcher.drain()) == ["100", "2", "3", "5", "6"]


def test_events_waiting_when_a_service_stops_go_back_to_the_broker_and_are_applied_after_it(start_service,
                                                                                            broker_uri):
    seen.clear()
    tries.clear()
    container = start_service(Probe, migrate=False, max_workers=1)
    global released
    released = eventlet.event.Event()
    publish(broker_uri, event(100, hold=True))
    wait_for(lambda: tries[100] == 1, what="the held event in the worker")
    publish(broker_uri, *[event(n) for n in range(2, 6)])
    waiting = consumer_of(container).waiting
    wait_for(lambda: waiting.qsize() == 3, what="the events waiting behind it")
    stopping = eventlet.spawn(container.stop)  # waits for the held worker
    eventlet.sleep(0.2)
    released.send()
    stopping.wait()
    assert sorted(seen) == [100] and all(tries[n] == 0 for n in range(2, 6))  # none applied, none acked
    start_service(Probe, database_url=container.config["DATABASE_URL"], migrate=False)
    wait_until_consumed(broker_uri, "probe.inbox")
    assert sorted(seen) == [2, 3, 4, 5, 100]


def test_done_messages_are_acked_in_one_frame_once_every_earlier_one_is_done(start_service, broker_uri,
                                                                             monkeypatch):
    """A message applied while one delivered before it is still being applied stays unacked on
    the broker until that one is done too; then one `basic.ack multiple` acks them all. More than
    RawQueueConsumer.ACKS_HELD waiting so are acked each on its own."""
    from yjs_kit.consumer import RawQueueConsumer

    global released
    seen.clear()
    tries.clear()
    acks = []
    basic_ack = amqp.Channel.basic_ack

    def recorded(channel, delivery_tag, multiple=False, **kwargs):
        acks.append((delivery_tag, multiple))
        return basic_ack(channel, delivery_tag, multiple, **kwargs)

    monkeypatch.setattr(amqp.Channel, "basic_ack", recorded)
    monkeypatch.setattr(RawQueueConsumer, "ACKS_HELD", 3)
    start_service(Probe, migrate=False, max_workers=2, EVENT_WORKERS=2)
    for more in ([2], [3, 4, 5, 6, 7]):
        released = eventlet.event.Event()
        tag = len(acks) and max(tag for tag, _ in acks)
        publish(broker_uri, event(100 + tag, hold=True))
        wait_for(lambda: tries[100 + tag] == 1, what="the held event in one worker")
        publish(broker_uri, *[event(n) for n in more])
        wait_for(lambda: set(more) <= set(seen), what="the others applied by the other worker")
        eventlet.sleep(0.3)
        if more == [2]:  # committed, and waiting for the held one delivered before it
            assert acks == [] and queue_depths(broker_uri)["probe.inbox"] == 2
        else:  # five done behind the held one: whenever more than three wait, they are acked alone
            alone = acks[1:]
            assert len(alone) >= 2 and all(not multiple and tag + 2 <= t <= tag + 6 for t, multiple in alone)
            assert queue_depths(broker_uri)["probe.inbox"] == 1 + 5 - len(alone) <= 1 + 3
        released.send()
        wait_until_consumed(broker_uri, "probe.inbox")
        # the held one done: it and the done ones still waiting behind it, in one frame
        behind = [t for t in range(tag + 2, tag + 2 + len(more)) if (t, False) not in acks]
        assert acks[-1] == (max(behind, default=tag + 1), True)
    assert sorted(seen) == [2, 3, 4, 5, 6, 7, 100, 102]


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


def test_each_retry_waits_the_next_delay_and_carries_its_attempt(start_service, broker_uri, rpc):
    # a long last delay: the message is caught waiting in the second retry queue
    start_service(Probe, migrate=False, RETRY_DELAYS_MS=[100, 60000])
    poison = event(1, fail="poison")
    publish(broker_uri, poison)
    wait_for(lambda: queue_depths(broker_uri)["probe.inbox.retry.60000ms"] or rpc("probe", OPERATOR).dead_letters(),
             what="the message in the last retry queue, or dead-lettered")
    assert rpc("probe", OPERATOR).dead_letters() == []
    with Connection(broker_uri) as connection:
        waiting = Queue("probe.inbox.retry.60000ms", channel=connection.default_channel, no_declare=True).get(no_ack=True)
    assert waiting.headers["x-yjs-attempts"] == 2  # the first try and the retry after 100 ms failed
    assert json.loads(waiting.body)["event_id"] == str(poison.event_id)
    assert queue_depths(broker_uri)["probe.inbox.retry.100ms"] == 0


def test_what_has_not_arrived_yet_is_waited_for_through_the_retries_and_decided_on_the_last_attempt(
        start_service, broker_uri, rpc):
    """A handler raising NotYet is tried again after each retry delay, as after a failure; on
    the event's last attempt `final_attempt()` says so, and the handler decides then: the event
    is applied, not dead-lettered. Outside a consumer (an RPC, a test) every attempt is the last."""
    seen.clear()
    tries.clear()
    assert final_attempt()
    start_service(Probe, migrate=False)
    publish(broker_uri, event(51, not_yet="the registration"))
    wait_for(lambda: seen == [51], timeout=30, what="the event applied on its last attempt")
    assert tries[51] == len(FAST_RETRIES_MS) + 1
    assert rpc("probe", OPERATOR).dead_letters() == []


def test_in_a_batch_each_event_is_told_whether_it_is_its_own_last_attempt():
    """A batch may hold an event on its last attempt beside others with retries left: each is
    told its own, so only that one decides what has not arrived, and the others wait for it."""
    told, waited = [], []

    def handle(e):
        told.append((e.data["n"], final_attempt()))
        try:
            not_yet("the registration")
        except NotYet:
            waited.append(e.data["n"])

    EventBatch("probe", None, [event(61), event(62), event(63)], [False, True, False]).apply(handle)
    assert told == [(61, False), (62, True), (63, False)]
    assert waited == [61, 63]
    assert final_attempt()  # outside the batch, every attempt is the last again


def test_a_message_outlives_a_database_outage_and_is_applied_after_it(start_service, broker_uri, database_factory,
                                                                      rpc):
    seen.clear()
    tries.clear()
    url = database_factory()
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    start_service(Probe, database_url=url, migrate=False)
    waiting = lambda: REGISTRY.get_sample_value("yjs_events_consumed_total", {
        "service": "probe", "event_type": "registration.enterprise_registered", "outcome": "waiting"}) or 0
    before = waiting()
    with database_unavailable(url):
        publish(broker_uri, event(7))
        # one try, one per retry delay, and then — as the dead letter cannot be stored either —
        # the message waits on the broker, and is tried again, and waits again. The outage ends
        # only once that second try has ended so: ended any sooner, the try would find the
        # database back when it stores its dead letter, and be dead-lettered (as it should)
        wait_for(lambda: tries[7] >= len(FAST_RETRIES_MS) + 2 and waiting() - before >= 2, timeout=60,
                 what="a try after the last retry, waiting on the broker again")
    # the message goes round through a retry queue, and while the broker moves it back to the
    # inbox (dead-lettering) neither queue counts it: the outcome is waited for, not the queues
    wait_for(lambda: seen == [7], timeout=30, what="the event applied once the database is back")
    wait_until_consumed(broker_uri, "probe.inbox")
    assert seen == [7]
    wait_for_row(url, "SELECT event_id FROM kit_inbox WHERE consumer = 'probe'", what="the event marked applied")
    assert rpc("probe", OPERATOR).dead_letters() == []

def publish_raw(amqp_uri, body: bytes, content_type, exchange="registration.events",
                routing_key="enterprise_registered", headers=None):
    """A message as any AMQP client could publish it, whatever it holds."""
    with Connection(amqp_uri) as connection:
        channel = connection.channel()
        channel.basic_publish(amqp.Message(body, content_type=content_type, delivery_mode=2,
                                           application_headers=headers or {}),
                              exchange=exchange, routing_key=routing_key)


def envelope_json(e) -> bytes:
    return json.dumps(e.model_dump(mode="json")).encode()


def raw_body(letter) -> bytes:
    return base64.b64decode(letter["body"]) if letter["body_encoding"] == "base64" else letter["body"].encode()


def test_unreadable_messages_of_every_kind_are_dead_lettered_with_their_raw_body(start_service, broker_uri, rpc):
    seen.clear()
    start_service(Probe, migrate=False)
    unreadable = {
        b'{"event_type": "registration.enterprise_registered", "data": ': "application/json",  # cut short
        envelope_json(event(90)): "text/plain",  # a readable envelope, but not declared as JSON
        pickle.dumps({"event_type": "registration.enterprise_registered"}): "application/x-python-serialize",
        b"\xff\xfe\x00 not utf-8": "application/json",
        b'["an", "array"]': "application/json",
        b"": None,
    }
    for body, content_type in unreadable.items():
        publish_raw(broker_uri, body, content_type)
    publish(broker_uri, event(1))  # and the queue goes on
    letters = wait_for(lambda: (lambda found: found if len(found) == len(unreadable) else None)(
        rpc("probe", OPERATOR).dead_letters()), what="every unreadable message as a dead letter")
    assert sorted(raw_body(letter) for letter in letters) == sorted(unreadable)
    assert {letter["kind"] for letter in letters} == {"unreadable"}
    assert all(letter["attempts"] == 1 and letter["reason"].startswith("unreadable") for letter in letters)
    pickled = next(letter for letter in letters if letter["content_type"] == "application/x-python-serialize")
    assert pickled["body_encoding"] == "base64" and "x-python-serialize" in pickled["reason"]
    wait_for(lambda: seen == [1], what="the readable message")


def test_a_message_the_database_cannot_store_ends_as_a_storable_dead_letter(start_service, broker_uri, rpc):
    seen.clear()
    start_service(Probe, migrate=False)
    poisoned = new_event("registration.enterprise_registered", {"n": 7}, case_id="C\x00NUL")
    publish(broker_uri, poisoned)
    [letter] = wait_for(lambda: rpc("probe", OPERATOR).dead_letters(), what="the dead letter")
    assert letter["kind"] == "failed" and letter["attempts"] == 3 and letter["case_id"] == "CNUL"
    assert "NUL" in letter["reason"] and json.loads(letter["body"])["case_id"] == "C\x00NUL"
    publish(broker_uri, event(8))
    wait_for(lambda: seen == [8], what="the next message")


def test_a_dead_letter_the_database_cannot_take_waits_on_the_broker(start_service, database_factory, broker_uri):
    url = database_factory()
    start_service(Probe, database_url=url, migrate=False, DEAD_LETTER_STORE_TRIES=3)
    engine = create_engine(url)
    with engine.begin() as connection:  # dead letters cannot be stored: as good as a database that is down
        connection.execute(text("ALTER TABLE kit_dead_letters RENAME TO kit_dead_letters_away"))
    engine.dispose()
    publish_raw(broker_uri, b"not json", "application/json")
    with Connection(broker_uri) as connection:
        parked = Queue("probe.inbox.dead", durable=True).bind(connection.channel())
        # after three rounds through the longest retry queue
        message = wait_for(lambda: parked.get(no_ack=True), what="the message parked on the broker")
        assert message.body == b"not json" and message.headers["x-yjs-store-failures"] == 3
        assert message.headers[EXCHANGE_HEADER] == "registration.events"


def registered(case_id, uscc):
    outputs = EnterpriseRegistered.model_construct(uscc=uscc, licence_number="330402000000001",
                                                   enterprise_name="嘉兴一号有限公司",
                                                   registered_at=datetime.now(timezone.utc)).model_dump(mode="json")
    report = {"step": "registration.establish", "status": "completed", "outputs": outputs}
    return new_event("registration.enterprise_registered", report, case_id=case_id)


def test_events_whose_provenance_does_not_hold_are_dead_lettered_and_change_nothing(start_service, broker_uri, rpc):
    seen.clear()
    start_service(Probe, migrate=False)
    forged = event(1).model_copy(update={"producer": "tax"})  # on registration.events, but says tax sent it
    foreign_step = new_event("tax.step_updated", step_report("licensing.issue", StepStatus.cancelled), case_id="C2")
    bad_uscc = registered("C3", "913304020000000000")
    publish(broker_uri, forged, foreign_step, bad_uscc)
    # straight into the inbox through the default exchange, claiming where it came from in no header
    publish_raw(broker_uri, envelope_json(event(4)), "application/json", exchange="", routing_key="probe.inbox")
    # on another producer's exchange
    publish_raw(broker_uri, envelope_json(event(5)), "application/json", exchange="tax.events",
                routing_key="enterprise_registered")
    letters = wait_for(lambda: (lambda found: found if len(found) == 4 else None)(rpc("probe", OPERATOR).dead_letters()),
                       what="four dead letters")
    by_case = {letter["case_id"]: letter for letter in letters}
    for case_id in ("C1", "C2", "C4"):
        assert by_case[case_id]["kind"] == "provenance" and by_case[case_id]["reason"].startswith("provenance")
    assert by_case["C3"]["kind"] == "invalid" and "统一社会信用代码校验码" in by_case["C3"]["reason"]
    good = registered("C6", make_uscc("330402", 6))
    publish(broker_uri, good)
    wait_for(lambda: seen == ["registration.establish"], what="the genuine report")
    # tax.events has no binding to the probe's queue for enterprise_registered: the fifth never arrives
    assert len(rpc("probe", OPERATOR).dead_letters()) == 4


def test_a_retried_or_replayed_event_is_still_judged_by_where_it_first_arrived(start_service, broker_uri, rpc):
    seen.clear()
    broken.add("feature")
    start_service(Probe, migrate=False)
    publish(broker_uri, event(1, until_fixed="feature"))
    [letter] = wait_for(lambda: rpc("probe", OPERATOR).dead_letters(), what="the dead letter")
    assert letter["kind"] == "failed" and letter["attempts"] == 3  # retried through the default exchange
    broken.discard("feature")
    rpc("probe", OPERATOR).replay_dead_letter(int(letter["dead_letter_id"].split(":")[1]))
    wait_for(lambda: seen == [1], what="the replayed event applied")
    assert rpc("probe", OPERATOR).dead_letters() == []


class Relayer(OperatorRpc):
    """Only an outbox, whose relay reaches the broker through the test's proxy."""

    name = "relayer"
    db = Database(metadata)


def store_in_outbox(url, events) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(insert(metadata.tables["kit_outbox"]), [outbox_row(e) for e in events])
    engine.dispose()


def test_a_broker_that_stops_confirming_neither_kills_the_relay_nor_loses_or_repeats_an_event(
        broker_proxy, start_service, database_factory, rpc):  # the proxy outlives the services using it
    seen.clear()
    start_service(Probe, migrate=False)  # consumes straight from the broker, through its inbox
    url = database_factory()
    relay = find_database(start_service(Relayer, database_url=url, migrate=False, AMQP_URI=broker_proxy.uri,
                                        OUTBOX_CONFIRM_TIMEOUT=1.0)).relay
    store_in_outbox(url, [event(n) for n in range(1, 4)])
    relay.wake()
    wait_for(lambda: sorted(seen) == [1, 2, 3], what="the first events")
    broker_proxy.hold()  # the broker takes what the relay sends and answers nothing
    store_in_outbox(url, [event(n) for n in range(4, 8)])
    relay.wake()
    wait_for(lambda: relay.measure()["oldest_unsent_seconds"] > 3, what="the relay to wait for confirms in vain")
    assert relay.alive and relay.measure()["backlog"] == 4
    broker_proxy.release()
    wait_for(lambda: relay.measure()["backlog"] == 0, what="the backlog published after the broker recovered")
    wait_for(lambda: sorted(seen) == list(range(1, 8)), what="every event applied")
    assert len(seen) == 7  # each applied exactly once, however often it crossed the broker
    assert relay.alive and relay.restarts == 0
    health = rpc("relayer").health()
    assert health["relay"] == "alive" and health["backlog"] == 0 and health["oldest_unsent_seconds"] == 0


def test_an_event_no_queue_takes_is_retried_then_parked_without_holding_back_the_rest(
        start_service, database_factory, rpc, watch):
    seen.clear()
    start_service(Probe, migrate=False)
    url = database_factory()
    start_service(Relayer, database_url=url, migrate=False, OUTBOX_MAX_ATTEMPTS=2)
    nobody = new_event("case.completed", {"n": 0}, case_id="C0")  # no queue is bound to it yet
    store_in_outbox(url, [nobody, *[event(n) for n in range(1, 4)]])
    wait_for(lambda: sorted(seen) == [1, 2, 3], what="the events behind it")
    wait_for(lambda: rpc("relayer").health()["parked"] == 1, what="the returned event parked after two tries")
    engine = create_engine(url)
    with engine.connect() as connection:
        row = connection.execute(select(metadata.tables["kit_outbox"]).where(
            metadata.tables["kit_outbox"].c.event_id == str(nobody.event_id))).mappings().one()
    engine.dispose()
    assert row["attempts"] == 2 and row["sent_at"] is None and row["last_error"].startswith("returned: NO_ROUTE")
    watcher = watch("case.completed")  # someone binds it, and an operator lets it go again
    assert rpc("relayer", OPERATOR).release_parked_events()["released"] == 1
    assert [e.event_id for e in watcher.wait_for()] == [nobody.event_id]
    wait_for(lambda: (lambda h: h["backlog"] == h["parked"] == 0 and h["relay"] == "alive")(rpc("relayer").health()),
             what="nothing left to publish")


def test_sent_events_and_old_inbox_marks_are_pruned(start_service, database_factory, broker_uri, watch):
    seen.clear()
    watcher = watch("case.submitted")  # the probe's echo has a queue to go to
    url = database_factory()
    container = start_service(Probe, database_url=url, migrate=False, OUTBOX_RETENTION_HOURS=0, INBOX_RETENTION_HOURS=0)
    publish(broker_uri, event(1))
    wait_for(lambda: seen == [1], what="the event applied")
    relay = find_database(container).relay
    engine = create_engine(url)
    outbox, inbox = metadata.tables["kit_outbox"], metadata.tables["kit_inbox"]
    watcher.wait_for(count=1)  # the echo was published; the relay's own pruning may already have removed its row
    wait_for(lambda: all(sent_times(engine)), what="nothing left unsent")
    relay.prune()
    with engine.connect() as connection:
        assert connection.execute(select(outbox)).all() == [] and connection.execute(select(inbox)).all() == []
    engine.dispose()


def unreachable(amqp_uri: str) -> str:
    """The same broker URL on a port nothing listens on: a cluster node that is down."""
    parts = urlsplit(amqp_uri)
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:1"))


def test_a_service_given_several_brokers_consumes_retries_and_answers_through_one_that_is_up(
        start_service, broker_uri, rpc):
    seen.clear()
    tries.clear()
    broken.add("failover")
    # the first broker is down: consumers, the retry publisher and RPC all go to the second
    start_service(Probe, migrate=False, AMQP_URI=f"{unreachable(broker_uri)};{broker_uri}")
    publish(broker_uri, event(1, until_fixed="failover"))
    wait_for(lambda: tries[1] >= 2, what="a retry, republished through the broker that is up")
    broken.discard("failover")
    wait_for(lambda: seen == [1], what="the event applied after its retries")
    assert rpc("probe").ping() == "pong"


@pytest.fixture
def another_broker_proxy(broker_uri):
    proxy = BrokerProxy(broker_uri)
    yield proxy
    proxy.close()


def test_a_relay_whose_broker_stops_answering_publishes_the_unconfirmed_through_the_next(
        broker_proxy, another_broker_proxy, start_service, database_factory):  # the proxies outlive the services
    seen.clear()
    tries.clear()
    first, second = broker_proxy, another_broker_proxy  # two nodes of one cluster
    start_service(Probe, migrate=False)
    url = database_factory()
    relay = find_database(start_service(Relayer, database_url=url, migrate=False,
                                        AMQP_URI=f"{first.uri};{second.uri}", OUTBOX_CONFIRM_TIMEOUT=1.0)).relay
    store_in_outbox(url, [event(n) for n in range(1, 4)])
    relay.wake()
    wait_for(lambda: sorted(seen) == [1, 2, 3], what="the first events, through the first broker")
    first.hold()  # paused: it takes what is sent and never answers
    store_in_outbox(url, [event(n) for n in range(4, 8)])
    relay.wake()
    wait_for(lambda: relay.measure()["backlog"] == 0, timeout=30, what="the unconfirmed published again")
    wait_for(lambda: sorted(seen) == list(range(1, 8)), what="every event applied")
    assert len(seen) == 7  # the broker got 4-7 twice (unconfirmed, then again): applied once each
    assert relay.publisher._first_broker == 1  # the next connection, too, goes to the broker that answers
    assert relay.alive
    first.release()


def test_an_rpc_answer_goes_out_through_the_next_broker_when_the_first_hangs(
        broker_proxy, start_service, broker_uri, rpc):
    """A paused node takes connections and never answers; nameko's reply publisher must not spend
    its whole attempt on it, or the reply fails and the error stops the service."""
    from nameko import constants
    from yjs_kit.brokers import configure_nameko

    seen.clear()
    broker_proxy.hold()  # the first node: paused from the start
    several = f"{broker_proxy.uri};{broker_uri}"
    from nameko.amqp.publish import Publisher

    # nameko's modules hold these very dicts
    saved = dict(constants.DEFAULT_TRANSPORT_OPTIONS), dict(Publisher.transport_options)
    try:
        configure_nameko(several)  # as yjs-serve does
        container = start_service(Probe, migrate=False, AMQP_URI=several)
        assert rpc("probe").ping() == "pong"
        assert rpc("probe").ping() == "pong"  # and again, on the publisher's pooled connection
        assert not container._died.ready()
    finally:
        for options, before in zip((constants.DEFAULT_TRANSPORT_OPTIONS, Publisher.transport_options), saved):
            options.clear()
            options.update(before)
        broker_proxy.release()


def test_events_a_unit_of_work_commits_are_handed_to_its_relay_and_never_read_back(
        start_service, database_factory, watch):
    url = database_factory()
    database = find_database(start_service(Relayer, database_url=url, migrate=False))
    claimed: list[str] = []
    claim = database.relay._claim
    database.relay._claim = lambda: (lambda rows: claimed.extend(r.event_id for r in rows) or rows)(claim())
    watcher = watch("case.submitted")
    events = [new_event("case.submitted", {"n": n}, case_id=f"H{n}") for n in range(3)]
    with database.unit_of_work() as uow:
        for announced in events:
            uow.announce(announced)
    assert [e.event_id for e in watcher.wait_for(count=3)] == [e.event_id for e in events]
    engine = create_engine(url)
    wait_for(lambda: all(sent_times(engine)), what="marked sent")
    engine.dispose()
    assert claimed == []  # published from memory: no claim read them back


def test_what_the_broker_confirmed_is_marked_sent_together_and_never_published_again_meanwhile(
        start_service, database_factory, watch):
    url = database_factory()
    database = find_database(start_service(Relayer, database_url=url, migrate=False))
    marks, published = [], []
    sql_event.listen(database.engine, "before_cursor_execute", lambda _c, _cur, statement, *_: marks.append(
        statement) if statement.startswith("UPDATE kit_outbox SET sent_at") else None)
    publish_batch = database.relay.publisher.publish_batch
    database.relay.publisher.publish_batch = lambda messages, **kw: published.append(len(messages)) or publish_batch(
        messages, **kw)
    watcher = watch("case.submitted")
    events = [new_event("case.submitted", {"n": n}, case_id=f"M{n}") for n in range(8)]
    for announced in events:  # commits apart: each published in a batch of its own
        with database.unit_of_work() as uow:
            uow.announce(announced)
        eventlet.sleep(0.05)
    assert [e.event_id for e in watcher.wait_for(count=8)] == [e.event_id for e in events]
    engine = create_engine(url)
    wait_for(lambda: all(sent_times(engine)), what="marked sent")
    engine.dispose()
    assert len(published) >= 6  # published as they came…
    assert 1 <= len(marks) <= 2  # …and marked sent by the second, not once per publish
    eventlet.sleep(1.5)
    assert len(watcher.drain()) == 8  # a confirmed row is never published again while it waits for its mark


def test_events_handed_to_a_relay_that_died_are_published_by_another_once_their_lease_ends(
        start_service, database_factory, watch):
    url = database_factory()
    engine = create_engine(url)
    metadata.create_all(engine)
    orphans = [new_event("case.submitted", {"orphan": n}, case_id=f"O{n}") for n in range(2)]
    lease_ends = datetime.now(timezone.utc) + timedelta(seconds=3)
    with engine.begin() as connection:  # committed and leased by a process that died before publishing
        connection.execute(insert(metadata.tables["kit_outbox"]),
                           [{**outbox_row(e), "claimed_until": lease_ends} for e in orphans])
    engine.dispose()
    watcher = watch("case.submitted")
    start_service(Relayer, database_url=url, migrate=False)
    got = watcher.wait_for(count=2, timeout=20)
    assert datetime.now(timezone.utc) >= lease_ends  # not while the lease held: its holder may still publish
    assert sorted(str(e.event_id) for e in got) == sorted(str(e.event_id) for e in orphans)
