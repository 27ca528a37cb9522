"""Each service's own broker user, on the real broker: what it may publish and read, a service
running with it through its whole flow, and the permissions derived from the topology's names."""

import json
import re
import uuid
from collections import Counter

import amqp
import pytest
from kombu import Connection
from nameko.rpc import RpcProxy, rpc
from sqlalchemy import MetaData, select
from yjs_contracts.envelope import new_event
from yjs_kit.broker_users import (ManagementApi, Rabbitmqctl, apply_users, department_permissions,
                                  service_permissions, service_users, uri_with_user, vhost_of)
from yjs_kit.consumer import EXCHANGE_HEADER, PUBLISHER_HEADER, consume_events, find_database
from yjs_kit.operations import OperatorRpc
from yjs_kit.tables import add_kit_tables
from yjs_kit.testing import FAST_RETRIES_MS, operator_token, publish, queue_depths, rabbitmqctl, wait_for
from yjs_kit.topology import Topology, apply, inbox_queue_name, inbox_queues
from yjs_kit.uow import Database

metadata = MetaData()
add_kit_tables(metadata)
tries: Counter = Counter()
applied: list[str] = []
failing: set[str] = set()  # cases whose events fail every try while they are here


class Tax(OperatorRpc):
    """Stands for a department: consumes, fails once (or always) on demand, announces through its
    outbox, serves RPC and calls another service by RPC; operators replay its dead letters."""

    name = "tax"
    db = Database(metadata)
    registration = RpcProxy("registration")

    @consume_events(["registration.enterprise_registered", "case.submitted"])
    def on_event(self, event):
        tries[event.case_id] += 1
        if event.data.get("fail_once") and tries[event.case_id] == 1:
            raise RuntimeError("fails the first time")
        if event.case_id in failing:
            raise RuntimeError("fails until the test lets it")
        with self.db.unit_of_work() as uow:
            if not uow.first_time(event, "tax"):
                return
            applied.append(event.case_id)
            uow.announce(new_event("tax.step_updated", {"echo": event.case_id}, case_id=event.case_id, causation=event))

    @rpc
    def ask_registration(self):
        return f"registration says {self.registration.ping()}"


class Registration:
    """Consumes too, so its user may publish through the default exchange (to its retry queues)."""

    name = "registration"
    db = Database(metadata)

    @consume_events(["case.withdrawn"])
    def on_withdrawn(self, event):
        pass

    @rpc
    def ping(self):
        return "pong"


def registered(case_id: str, **data):
    return new_event("registration.enterprise_registered", {"uscc": "x", **data}, case_id=case_id)


@pytest.fixture
def own_users(broker_uri):
    """The topology of Tax and Registration applied with guest, then each service's own user
    (named after the test's vhost: users are the broker's, not the vhost's) on the vhost."""
    topology = Topology.of_services([Tax, Registration], FAST_RETRIES_MS)
    apply(broker_uri, topology)
    vhost = vhost_of(broker_uri)
    environ = {f"AMQP_PASSWORD_{s.upper()}": uuid.uuid4().hex for s in ("tax", "registration")}
    users = service_users(["tax", "registration"], topology, environ, name=lambda s: f"{vhost}-{s}")
    changed = apply_users(users, vhost, Rabbitmqctl())
    yield topology, users, {u.name.rsplit("-", 1)[1]: uri_with_user(broker_uri, u.name, u.password) for u in users}, changed
    for user in users:
        rabbitmqctl("delete_user", user.name)


def test_permissions_are_derived_from_the_topology_names():
    topology = Topology({"tax.inbox": frozenset({"registration.enterprise_registered"}),
                         "tax.on_notice.inbox": frozenset({"deregistration.notice_period_ended"})}, (100, 2000))
    tax = service_permissions("tax", topology)
    for inbox, types in topology.inboxes_of("tax").items():  # every entrypoint's queues
        for queue in inbox_queues(inbox, types, topology.delays_ms):
            assert re.match(tax.configure, queue.name) and re.match(tax.read, queue.name)
    assert re.match(tax.read, "deregistration.events")
    assert re.match(tax.write, "tax.events") and re.match(tax.configure, "tax.events")
    assert not re.match(tax.write, "registration.events") and not re.match(tax.configure, "registration.events")
    assert re.match(tax.read, "registration.events")  # to bind its inbox to it
    assert not re.match(tax.read, "case.events") and not re.match(tax.read, "registration.inbox")
    assert not re.match(tax.configure, "tax.inbox.retry.5000ms")  # only the delays the topology has
    assert re.match(tax.read, "rpc.reply-tax-0f5e1c2a-5a3e-4c1e-9b1f-3d2c1b0a9e8f")
    assert not re.match(tax.read, "rpc.reply-case-0f5e1c2a-5a3e-4c1e-9b1f-3d2c1b0a9e8f")
    gateway = service_permissions("gateway", topology, serves_rpc=False)
    assert not re.match(gateway.write, "amq.default") and not re.match(gateway.write, "gateway.events")
    assert re.match(gateway.write, "nameko-rpc") and not re.match(gateway.read, "rpc-gateway")
    bureau = department_permissions("tax-bureau", ["case"])
    assert re.match(bureau.read, "tax-bureau.completed") and re.match(bureau.read, "case.events")
    assert bureau.write == "^(tax\\-bureau\\..+)$"  # its queues, which it binds: no exchange at all
    assert not re.match(bureau.read, "case.inbox")


def test_applying_the_users_twice_changes_nothing(own_users, broker_uri):
    topology, users, uris, changed = own_users
    assert sorted(changed) == sorted([f"user {u.name}" for u in users] + [f"permissions of {u.name}" for u in users])
    assert apply_users(users, vhost_of(broker_uri), Rabbitmqctl()) == []


def test_another_services_exchange_and_inbox_are_refused_by_the_broker(own_users, broker_uri):
    topology, users, uris, _ = own_users
    forged = registered("C1")
    body = json.dumps(forged.model_dump(mode="json"))
    with Connection(uris["registration"]) as connection:
        channel = connection.channel()
        with pytest.raises(amqp.exceptions.AccessRefused):
            channel.basic_publish(amqp.Message(body, content_type="application/json"), exchange="tax.events",
                                  routing_key="step_updated")
            channel.basic_qos(0, 1, False)  # a round trip: the refusal closes the channel by then
        channel = connection.channel()
        with pytest.raises(amqp.exceptions.AccessRefused):
            channel.basic_get(inbox_queue_name("tax"))
        channel = connection.channel()
        with pytest.raises(amqp.exceptions.AccessRefused):
            channel.exchange_delete("tax.events")
    assert queue_depths(broker_uri)[inbox_queue_name("tax")] == 0


def test_a_service_with_its_own_user_consumes_retries_announces_and_calls(own_users, start_service, broker_uri,
                                                                         watch, rpc):
    topology, users, uris, _ = own_users
    tries.clear()
    applied.clear()
    start_service(Registration, migrate=False, AMQP_URI=uris["registration"])
    tax = start_service(Tax, migrate=False, AMQP_URI=uris["tax"])
    announced = watch("tax.step_updated")
    publish(broker_uri, registered("C1", fail_once=True))
    wait_for(lambda: applied == ["C1"], what="applied after one retry through its retry queue")
    assert tries["C1"] == 2
    [event] = announced.wait_for()
    assert event.data == {"echo": "C1"}  # published by its relay on tax.events
    assert rpc("tax").ask_registration() == "registration says pong"

    # registration may publish into tax's inbox through the default exchange (as into its own retry
    # queues), but cannot pass as tax's own retry: the header naming case.events is not believed
    with Connection(uris["registration"]) as connection:
        channel = connection.channel()
        forged = new_event("case.submitted", {"plan": []}, case_id="C2")
        channel.basic_publish(amqp.Message(json.dumps(forged.model_dump(mode="json")), content_type="application/json",
                                           application_headers={EXCHANGE_HEADER: "case.events"}),
                              exchange="", routing_key=inbox_queue_name("tax"))
    table = find_database(tax).metadata.tables["kit_dead_letters"]

    def dead_letters():
        with find_database(tax).engine.connect() as connection:
            return connection.execute(select(table.c.case_id, table.c.kind)).all()

    assert wait_for(dead_letters, what="the forged event dead-lettered") == [("C2", "provenance")]
    assert applied == ["C1"]


def test_the_management_api_reads_and_writes_the_same_definitions(monkeypatch):
    calls = []

    class Answer:
        def raise_for_status(self):
            pass

        def json(self):
            return {"users": [], "permissions": []}

    api = ManagementApi("http://admin:s%40cret@rabbitmq:15672/")
    monkeypatch.setattr(api.session, "get", lambda url, **kw: calls.append(("GET", url)) or Answer())
    monkeypatch.setattr(api.session, "post", lambda url, json, **kw: calls.append(("POST", url, json)) or Answer())
    topology = Topology({}, ())
    [user] = service_users(["gateway"], topology, {"AMQP_PASSWORD_GATEWAY": "pw"})
    apply_users([user], "/", api)
    assert api.session.auth == ("admin", "s@cret")
    assert calls[0] == ("GET", "http://rabbitmq:15672/api/definitions")
    assert calls[1][1] == "http://rabbitmq:15672/api/definitions"
    assert calls[1][2]["permissions"] == [{"user": "yjs-gateway", "vhost": "/", "configure": user.permissions.configure,
                                           "write": user.permissions.write, "read": user.permissions.read}]


def test_passwords_come_from_the_environment_or_a_file_and_production_has_no_default(tmp_path):
    from yjs_kit.broker_users import MissingPassword, broker_password

    secret = tmp_path / "password"
    secret.write_text("from-a-file\n")
    assert broker_password("seal_carving", {"AMQP_PASSWORD_SEAL_CARVING": "s3"}) == "s3"
    assert broker_password("seal_carving", {"AMQP_PASSWORD_SEAL_CARVING_FILE": str(secret)}) == "from-a-file"
    assert broker_password("seal_carving", {}) == "yjs-local-seal_carving"
    with pytest.raises(MissingPassword, match="AMQP_PASSWORD_SEAL_CARVING"):
        broker_password("seal_carving", {"YJS_ENV": "production"})
    assert uri_with_user("amqp://guest:guest@rabbitmq:5672/yjs", "yjs-tax", "p@ss/word") == \
        "amqp://yjs-tax:p%40ss%2Fword@rabbitmq:5672/yjs"


def test_with_a_user_per_service_only_the_producers_user_is_believed(own_users, start_service, broker_uri, rpc):
    """guest may publish on any exchange; with BROKER_USERS its events are dead-lettered as
    `provenance`, and the first publisher survives a retry and a replay."""
    topology, users, uris, _ = own_users
    tries.clear()
    applied.clear()
    failing.clear()
    vhost = vhost_of(broker_uri)
    strict = {"BROKER_USERS": True, "BROKER_USER_PREFIX": f"{vhost}-"}
    start_service(Registration, migrate=False, AMQP_URI=uris["registration"], **strict)
    tax = start_service(Tax, migrate=False, AMQP_URI=uris["tax"], **strict)
    database = find_database(tax)
    table = database.metadata.tables["kit_dead_letters"]

    def dead_letters():
        with database.engine.connect() as connection:
            return connection.execute(select(table.c.id, table.c.case_id, table.c.kind, table.c.publisher,
                                             table.c.replayed_at).order_by(table.c.id)).all()

    # guest's forgery, as its relay would publish it (user_id guest) and with no user_id at all
    publish(broker_uri, registered("F1"))
    forged = registered("F2")
    with Connection(broker_uri) as connection:
        connection.channel().basic_publish(
            amqp.Message(json.dumps(forged.model_dump(mode="json")), content_type="application/json"),
            exchange="registration.events", routing_key="enterprise_registered")
    stored = wait_for(lambda: (lambda rows: rows if len(rows) == 2 else None)(dead_letters()),
                      what="both forgeries dead-lettered")
    assert sorted((r.case_id, r.kind, r.publisher) for r in stored) == [("F1", "provenance", "guest"),
                                                                         ("F2", "provenance", None)]
    # nor may guest name registration's user: the broker refuses it
    with Connection(broker_uri) as connection:
        channel = connection.channel()
        with pytest.raises(amqp.exceptions.PreconditionFailed):
            channel.basic_publish(amqp.Message(json.dumps(forged.model_dump(mode="json")),
                                               content_type="application/json", user_id=f"{vhost}-registration"),
                                  exchange="registration.events", routing_key="enterprise_registered")
            channel.basic_qos(0, 1, False)  # a round trip: the refusal closes the channel by then

    # registration's own event, retried through tax's retry queue, still counts as registration's
    publish(uris["registration"], registered("R1", fail_once=True))
    wait_for(lambda: "R1" in applied, what="applied after one retry")
    assert tries["R1"] == 2

    # a replay goes out as tax's own user: it is judged by the first publisher, not by tax
    failing.add("R2")
    publish(uris["registration"], registered("R2"))
    wait_for(lambda: any(r.case_id == "R2" for r in dead_letters()), timeout=20, what="R2 dead-lettered")
    failing.clear()
    operator = rpc("tax", operator_token())
    listed = {d["case_id"]: d for d in operator.dead_letters()}
    assert listed["R2"]["publisher"] == f"{vhost}-registration" and listed["R2"]["kind"] == "failed"
    assert listed["F1"]["publisher"] == "guest"
    for case_id in ("R2", "F1"):
        operator.replay_dead_letter(int(listed[case_id]["dead_letter_id"].split(":")[1]))
    wait_for(lambda: "R2" in applied, what="the replayed event of registration applied")
    again = wait_for(lambda: [r for r in dead_letters() if r.case_id == "F1" and r.replayed_at is None],
                     what="guest's forgery dead-lettered again")
    assert [(r.kind, r.publisher) for r in again] == [("provenance", "guest")]
    assert sorted(applied) == ["R1", "R2"]
    outbox = database.metadata.tables["kit_outbox"]
    with database.engine.connect() as connection:
        announced = connection.execute(select(outbox.c.routing_key, outbox.c.body)
                                       .where(outbox.c.routing_key == "event_dead_lettered")).all()
    # R2's failure stalled its case; the forgeries said nothing believable of theirs
    assert [json.loads(r.body)["case_id"] for r in announced] == ["R2"]


def test_a_publisher_header_is_believed_only_from_the_services_own_user(own_users, start_service, broker_uri):
    """registration may publish into tax's inbox through the default exchange, but naming
    registration as the first publisher of a case event does not pass."""
    topology, users, uris, _ = own_users
    applied.clear()
    vhost = vhost_of(broker_uri)
    tax = start_service(Tax, migrate=False, AMQP_URI=uris["tax"], BROKER_USERS=True,
                        BROKER_USER_PREFIX=f"{vhost}-")
    forged = new_event("case.submitted", {"plan": []}, case_id="H1")
    with Connection(uris["registration"]) as connection:
        connection.channel().basic_publish(
            amqp.Message(json.dumps(forged.model_dump(mode="json")), content_type="application/json",
                         user_id=f"{vhost}-registration",
                         application_headers={EXCHANGE_HEADER: "case.events", PUBLISHER_HEADER: f"{vhost}-case"}),
            exchange="", routing_key=inbox_queue_name("tax"))
    table = find_database(tax).metadata.tables["kit_dead_letters"]

    def dead_letters():
        with find_database(tax).engine.connect() as connection:
            return connection.execute(select(table.c.case_id, table.c.kind, table.c.exchange, table.c.publisher)).all()

    assert wait_for(dead_letters, what="the forged event dead-lettered") == [
        ("H1", "provenance", None, f"{vhost}-registration")]
    assert applied == []


def test_an_export_that_meets_the_brokers_own_race_is_asked_again(tmp_path):
    """While other clients create and delete vhosts, rabbitmqctl can print an Erlang error term
    (`{:badrpc, ...}`) with exit status 0 instead of the definitions: the export asks again."""
    answered = tmp_path / "answered"
    stand_in = tmp_path / "rabbitmqctl"
    stand_in.write_text(
        "#!/bin/sh\n"
        f"if [ ! -e {answered} ]; then touch {answered}; "
        "echo '{:badrpc, {:EXIT, {:badarg, [{:maps, :from_list, [true], []}]}}}'; exit 0; fi\n"
        'exec rabbitmqctl "$@"\n')
    stand_in.chmod(0o755)
    exported = Rabbitmqctl(command=(str(stand_in),)).export()
    assert answered.exists() and "users" in exported and "vhosts" in exported
