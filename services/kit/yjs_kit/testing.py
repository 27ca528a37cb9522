"""Pytest fixtures for tests against the real broker and database: a fresh RabbitMQ vhost and
fresh PostgreSQL databases per test, and services started in-process as nameko containers."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

TEST_AMQP_URI = os.environ.get("TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
TEST_POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
FAST_RETRIES_MS = [100, 300]


def rabbitmqctl(*args: str) -> None:
    for attempt in range(5):
        result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True)
        if result.returncode == 0:
            return
        time.sleep(0.5 * (attempt + 1))  # rabbitmqctl is flaky under load: its CLI node may time out
    raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}")


def fresh_vhost() -> tuple[str, str]:
    vhost = f"yjs-test-{uuid.uuid4().hex[:10]}"
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    parts = urlsplit(TEST_AMQP_URI)
    return vhost, urlunsplit(parts._replace(path="/" + vhost))


def drop_vhost(vhost: str) -> None:
    try:
        rabbitmqctl("delete_vhost", vhost)
    except RuntimeError:
        pass  # a leftover test vhost harms nothing


def _admin_engine():
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(TEST_POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def create_database(prefix: str = "yjs_test") -> str:
    from sqlalchemy import text

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    parts = urlsplit(TEST_POSTGRES_URL)
    return urlunsplit(parts._replace(path="/" + name))


def drop_database(url: str) -> None:
    from sqlalchemy import text

    name = urlsplit(url).path.lstrip("/")
    engine = _admin_engine()
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


@contextmanager
def database_unavailable(url: str) -> Iterator[None]:
    """An outage of one database, and only that one: it refuses new connections, and every
    connection to it is cut for as long as the outage lasts — one that was starting as the door
    closed gets in, and is cut too."""
    import eventlet
    from sqlalchemy import text

    name = urlsplit(url).path.lstrip("/")
    engine = _admin_engine()
    cut = text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = :n")
    lasting = True

    def keep_cutting() -> None:
        with engine.connect() as connection:
            while lasting:
                connection.execute(cut, {"n": name})
                eventlet.sleep(0.05)

    with engine.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(cut, {"n": name})
    cutter = eventlet.spawn(keep_cutting)
    try:
        yield
    finally:
        lasting = False
        cutter.wait()
        with engine.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        engine.dispose()


@pytest.fixture
def broker_uri():
    vhost, uri = fresh_vhost()
    yield uri
    drop_vhost(vhost)


@pytest.fixture
def database_factory() -> Callable[[], str]:
    created: list[str] = []

    def make() -> str:
        created.append(create_database())
        return created[-1]

    yield make
    for url in created:
        drop_database(url)


@pytest.fixture
def start_service(broker_uri, database_factory):
    """start_service(ServiceClass, database_url=None, **config) -> running container, migrated
    on its own fresh database unless one is given (replicas share one)."""
    from nameko.containers import ServiceContainer

    from .config import service_config
    from .migrations import upgrade

    containers = []

    def start(service_cls, database_url: str | None = None, migrate: bool = True, **overrides):
        name = service_cls.name
        config = service_config(name, **{"AMQP_URI": broker_uri, "METRICS_PORT": 0, "RETRY_DELAYS_MS": FAST_RETRIES_MS,
                                         "WEB_SERVER_ADDRESS": "127.0.0.1:0", **overrides})
        if getattr(service_cls, "db", None) is not None:
            config["DATABASE_URL"] = database_url or database_factory()
            if migrate:
                upgrade(name, config["DATABASE_URL"])
            else:  # a service defined in a test: its tables straight from its metadata
                from sqlalchemy import create_engine

                engine = create_engine(config["DATABASE_URL"])
                service_cls.db.metadata.create_all(engine)
                engine.dispose()
        container = ServiceContainer(service_cls, config)
        container.start()
        containers.append(container)
        return container

    yield start
    for container in reversed(containers):
        try:
            container.stop()
        except Exception:  # noqa: BLE001
            container.kill()


def wait_for(condition: Callable[[], object], timeout: float = 15.0, interval: float = 0.05, what: str = "condition"):
    """Poll until condition() is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def _vhost(amqp_uri: str) -> str:
    return unquote(urlsplit(amqp_uri).path[1:]) or "/"


def queue_depths(amqp_uri: str) -> dict[str, int]:
    """Every queue of the URI's vhost and the messages it holds, ready or delivered and not yet
    acked, as the broker counts them now (rabbitmqctl asks the queues themselves; the management
    API's figures lag by seconds)."""
    for attempt in range(5):
        result = subprocess.run(["rabbitmqctl", "list_queues", "-p", _vhost(amqp_uri), "name", "messages",
                                 "--quiet", "--no-table-headers"], capture_output=True, text=True)
        if result.returncode == 0:
            return {name: int(count) for name, count in (line.rsplit(None, 1) for line in result.stdout.splitlines()
                                                          if line.strip())}
        time.sleep(0.5 * (attempt + 1))
    raise RuntimeError(f"rabbitmqctl list_queues failed: {result.stderr.strip()}")


def wait_until_consumed(amqp_uri: str, *queues: str, timeout: float = 20.0) -> None:
    """Wait until every message published (with confirms) to these queues was consumed and acked:
    each queue, and the retry queues of each (`<queue>.retry.<ms>ms`), holds nothing, ready or
    unacked. A consumer acks only after its transaction committed, so what the messages did is
    then in the database. Call it after `publish`, which returns once the broker has the messages.
    A message on its way from a retry queue back to its inbox (the broker dead-letters it when its
    delay is over) is counted in neither for a moment: after retries, wait for what the message
    does instead."""
    def quiet():
        depths = queue_depths(amqp_uri)
        missing = [q for q in queues if q not in depths]
        if missing:
            raise AssertionError(f"no such queue: {missing}")
        return all(count == 0 for name, count in depths.items()
                   if any(name == q or name.startswith(f"{q}.retry.") for q in queues))

    wait_for(quiet, timeout=timeout, interval=0.1, what=f"{', '.join(queues)} consumed and acked")


def wait_for_row(database_url: str, statement, holds: Callable[[dict], object] = lambda row: True,
                 timeout: float = 15.0, what: str = "a row"):
    """Wait until `statement` (a select, or SQL text) returns a row for which `holds(row)` is
    truthy; returns that row as a mapping. Its own engine, disposed before returning."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    if isinstance(statement, str):
        statement = text(statement)
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        def found():
            with engine.connect() as connection:
                return next((row for row in connection.execute(statement).mappings().all() if holds(row)), None)

        return wait_for(found, timeout=timeout, what=what)
    finally:
        engine.dispose()


def wait_for_lock_waiters(database_url: str, count: int, timeout: float = 15.0, what: str = "sessions waiting on a lock",
                          wait_event: str | None = None) -> None:
    """Wait until `count` sessions of this database wait on a heavyweight lock (an advisory one
    when `wait_event="advisory"`). Each look is a new transaction: PostgreSQL reads
    pg_stat_activity once per transaction, so a look repeated inside one sees nothing change."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    query = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
             + (" AND wait_event = :event" if wait_event else ""))
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        def waiting() -> bool:
            with engine.connect() as connection:
                return connection.execute(text(query), {"event": wait_event}).scalar_one() == count

        wait_for(waiting, timeout=timeout, what=what)
    finally:
        engine.dispose()


def publish(amqp_uri: str, *events) -> None:
    """Publish envelopes as their producers would (confirmed, persistent)."""
    import json

    from .outbox import ConfirmingPublisher

    publisher = ConfirmingPublisher(amqp_uri)
    try:
        publisher.publish_batch([
            (f"{e.source}.events", e.name, json.dumps(e.model_dump(mode="json"), ensure_ascii=False), str(e.event_id))
            for e in events])
    finally:
        publisher.close()


class EventWatcher:
    """A queue of its own bound to some events, as any outside consumer would bind one."""

    def __init__(self, amqp_uri: str, *event_types: str):
        from kombu import Connection, Queue

        from .topology import event_exchange

        self.connection = Connection(amqp_uri)
        self.queue = Queue(f"watcher-{uuid.uuid4().hex[:8]}", exclusive=True, auto_delete=True)
        from kombu import binding

        self.queue.bindings = {binding(event_exchange(t.split(".", 1)[0]), routing_key=t.split(".", 1)[1])
                               for t in event_types}
        self.bound = self.queue(self.connection.default_channel)
        self.bound.declare()
        self.seen: list = []

    def drain(self) -> list:
        from yjs_contracts.envelope import Envelope

        while True:
            message = self.bound.get(no_ack=True)
            if message is None:
                return self.seen
            self.seen.append(Envelope.model_validate(message.decode()))

    def wait_for(self, predicate: Callable = lambda e: True, timeout: float = 15.0, count: int = 1) -> list:
        return wait_for(lambda: (lambda found: found if len(found) >= count else None)(
            [e for e in self.drain() if predicate(e)]), timeout=timeout, what="events")

    def close(self) -> None:
        self.connection.release()


@pytest.fixture
def watch(broker_uri):
    watchers = []

    def make(*event_types: str) -> EventWatcher:
        watchers.append(EventWatcher(broker_uri, *event_types))
        return watchers[-1]

    yield make
    for watcher in watchers:
        watcher.close()


def http_port(container) -> int:
    """The port a container's web server listens on (configured as 127.0.0.1:0 in tests)."""
    from nameko.web.server import WebServer

    server = next(e for e in container.subextensions if isinstance(e, WebServer))
    return server._sock.getsockname()[1]


def operator_token() -> str:
    """An operator's bearer token, signed with the development key the test services use."""
    from .auth import mint
    from .config import DEV_JWT_SECRET

    return mint(DEV_JWT_SECRET, "test-operator", "operator")


def staff_token(department: str, subject: str) -> str:
    from .auth import mint
    from .config import DEV_JWT_SECRET

    return mint(DEV_JWT_SECRET, subject, "department", department)


class StaffRpc:
    """A department's staff over RPC, as the gateway calls for them: reviews as one of them,
    decide as the named one (each call carries that person's token)."""

    def __init__(self, rpc, department: str):
        self._rpc, self.department = rpc, department

    def reviews(self, *args, **kwargs):
        return self._rpc(self.department, staff_token(self.department, f"{self.department}-staff")).reviews(
            *args, **kwargs)

    def decide(self, review_id: str, decision: dict, actor: str):
        return self._rpc(self.department, staff_token(self.department, actor)).decide(review_id, decision)


def applicant_token(subject: str) -> str:
    from .auth import mint
    from .config import DEV_JWT_SECRET

    return mint(DEV_JWT_SECRET, subject, "applicant")


class CaseRpc:
    """The case service over RPC as the gateway calls it: each call carries the token of the
    person it acts for — the applicant named by `owner`, else an operator."""

    ACTS_FOR_OWNER = {"submit": 0, "list_cases": 0, "supplement": 1, "withdraw": 1, "rate": 1, "judge_follow_up": 1}
    #: called by a department's staff, the department first
    STAFF_CALLS = frozenset({"department_follow_ups", "answer_follow_up", "appeal_rating"})

    def __init__(self, rpc):
        self._rpc = rpc

    def __getattr__(self, method: str):
        def call(*args, **kwargs):
            if method in self.ACTS_FOR_OWNER:
                token = applicant_token(args[self.ACTS_FOR_OWNER[method]])
            elif method == "get_case" and (len(args) > 1 or kwargs.get("owner")):
                token = applicant_token(args[1] if len(args) > 1 else kwargs["owner"])
            elif method in self.STAFF_CALLS:
                token = staff_token(args[0], f"{args[0]}-staff")
            elif method == "respond_to_follow_up":  # (follow_up_id, response, operator)
                from .auth import mint
                from .config import DEV_JWT_SECRET

                token, args = mint(DEV_JWT_SECRET, args[2], "operator"), args[:2]
            else:
                token = operator_token()
            return getattr(self._rpc("case", token), method)(*args, **kwargs)
        return call


@pytest.fixture
def rpc(broker_uri):
    """rpc("case").get_case(...) against the test vhost; rpc("case", token=…) calls as the
    token's holder (the gateway passes the caller's token the same way)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from .caller import CALLER_CONTEXT

    proxies, clusters = {}, {}

    def cluster_for(token):
        if token not in clusters:
            context = {CALLER_CONTEXT: token} if token else None
            proxies[token] = ClusterRpcProxy({"AMQP_URI": broker_uri}, timeout=15, context_data=context)
            clusters[token] = proxies[token].start()
        return clusters[token]

    yield lambda service, token=None: getattr(cluster_for(token), service)
    for proxy in proxies.values():
        proxy.stop()


def case_submitted(case_id: str, application: dict, matter: str = "establishment", owner: str = "alice", **extra):
    """case.submitted as the case service announces it: the application's plan, with deadlines."""
    from datetime import datetime, timezone

    from yjs_contracts.envelope import new_event
    from yjs_contracts.events import CaseSubmitted
    from yjs_contracts.plans import plan_for, with_deadlines

    now = datetime.now(timezone.utc)
    plan = with_deadlines(matter, plan_for(matter, application), now)
    return new_event("case.submitted", CaseSubmitted(matter=matter, owner=owner, application=application, plan=plan,
                                                     submitted_at=now, **extra), case_id=case_id)


class BrokerProxy:
    """A loopback TCP proxy between one client and the broker, for tests that need a broker
    which takes messages but does not answer: `hold()` keeps back everything the broker sends
    (confirms, heartbeats, handshakes) while the client's bytes still reach it; `release()` lets
    it flow again. Nothing outside the test's own connections is affected."""

    def __init__(self, amqp_uri: str):
        import threading

        import eventlet

        parts = urlsplit(amqp_uri)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5672)
        self.server = eventlet.listen(("127.0.0.1", 0))
        port = self.server.getsockname()[1]
        credentials = f"{parts.username}:{parts.password}@" if parts.username else ""
        self.uri = urlunsplit(parts._replace(netloc=f"{credentials}127.0.0.1:{port}"))
        self.flowing = threading.Event()  # green under eventlet's monkey patching
        self.flowing.set()
        self.sockets: list = []
        self.pumps: list = []
        self.accepter = eventlet.spawn(self._accept)

    def _accept(self) -> None:
        import eventlet

        while True:
            client, _ = self.server.accept()
            upstream = eventlet.connect(self.target)
            self.sockets += [client, upstream]
            self.pumps += [eventlet.spawn(self._pump, client, upstream, False),
                           eventlet.spawn(self._pump, upstream, client, True)]

    def _pump(self, source, sink, from_broker: bool) -> None:
        import socket

        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if from_broker:
                    self.flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # shut down, not close: the other pump, waiting on one of these, wakes to an end
            # of stream; a socket closed under a waiting green thread would leave it waiting on
            # a number the next socket may be given ("Second simultaneous read")
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def hold(self) -> None:
        self.flowing.clear()

    def release(self) -> None:
        self.flowing.set()

    def close(self) -> None:
        self.accepter.kill()
        self.release()
        for pump in self.pumps:
            pump.kill()  # its wait ends before its socket does
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
        self.server.close()


@pytest.fixture
def broker_proxy(broker_uri):
    proxy = BrokerProxy(broker_uri)
    yield proxy
    proxy.close()


def step_undone(case_id: str, step: str, code: str = "materials_not_supplied", message: str = "容缺材料未按期补齐"):
    """A department's step announced undone, as the tracker announces it: rejected, `undoes`."""
    from yjs_contracts.api import Reason
    from yjs_contracts.envelope import new_event
    from yjs_contracts.events import StepReport, event_type_for
    from yjs_contracts.steps import StepStatus

    report = StepReport(step=step, status=StepStatus.rejected, undoes=True, reasons=[Reason(code=code, message=message)])
    return new_event(event_type_for(report), report, case_id=case_id)


def enterprise_registered(case_id: str, n: int, application: dict):
    """registration.establish completed for a sample establishment: the n-th USCC of 330402."""
    from datetime import datetime, timezone

    from yjs_contracts.codes import make_uscc
    from yjs_contracts.envelope import new_event
    from yjs_contracts.events import EnterpriseRegistered, step_report
    from yjs_contracts.steps import StepStatus

    outputs = EnterpriseRegistered(uscc=make_uscc("330402", n), licence_number=f"330402{n:09d}",
                                   enterprise_name=application["enterprise"]["name"],
                                   registered_at=datetime.now(timezone.utc))
    return new_event("registration.enterprise_registered",
                     step_report("registration.establish", StepStatus.completed, outputs), case_id=case_id)


def deregistration_accepted(case_id: str, uscc: str):
    """deregistration.accept completed: the enterprise `uscc` may close by the simple route."""
    from datetime import datetime, timezone

    from yjs_contracts.envelope import new_event
    from yjs_contracts.events import step_report
    from yjs_contracts.steps import StepStatus

    outputs = {"uscc": uscc, "enterprise_name": "嘉兴企业有限公司", "route": "simple",
               "accepted_at": datetime.now(timezone.utc).isoformat()}
    return new_event("deregistration.application_accepted",
                     step_report("deregistration.accept", StepStatus.completed, outputs), case_id=case_id)


def example_of(model, known: dict):
    """The plainest valid instance of an output model: `known` values where it names them, None where
    a field may be None, else an empty or zero value of the field's type (now for a time)."""
    import typing
    from datetime import date, datetime, timezone
    from decimal import Decimal
    from enum import Enum

    from pydantic import BaseModel

    def plain(annotation):
        args = typing.get_args(annotation)
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            return plain(args[0])
        if type(None) in args:
            return None
        if origin is typing.Literal:
            return args[0]
        if origin in (list, tuple, set):
            return []
        if origin is dict:
            return {}
        if isinstance(annotation, type):
            if issubclass(annotation, BaseModel):
                return example_of(annotation, {})
            if issubclass(annotation, Enum):
                return next(iter(annotation)).value
            for kind, value in ((bool, False), (int, 0), (Decimal, "0.00"), (str, ""), (datetime, None), (date, None)):
                if issubclass(annotation, kind):
                    if value is None:  # a moment or a day: now
                        now = datetime.now(timezone.utc)
                        return (now if kind is datetime else now.date()).isoformat()
                    return value
        raise TypeError(f"no plain value for {annotation!r}")

    return {name: known[name] if name in known else plain(field.annotation)
            for name, field in model.model_fields.items() if name in known or field.is_required()}


def prerequisites_completed(case_id: str, matter: str, application: dict, step: str,
                            outputs: dict[str, dict] | None = None) -> list:
    """The completion of every step `step` waits for in this application's plan, in plan order, as
    their departments announce them: `outputs[prerequisite]` where the test gives them, else the
    plainest outputs its contract accepts (with the application's `uscc`) — a performer reads only
    the facts it needs, so a department's test does not change when the plan gives its step one
    more prerequisite."""
    from yjs_contracts.envelope import new_event
    from yjs_contracts.events import STEP_OUTPUTS, step_report
    from yjs_contracts.plans import plan_for
    from yjs_contracts.steps import STEP_KINDS, StepStatus

    outputs = outputs or {}
    known = {"uscc": application["uscc"]} if "uscc" in application else {}
    [planned] = [p for p in plan_for(matter, application) if p.step == step]
    return [new_event(STEP_KINDS[before].completed_event, step_report(
                before, StepStatus.completed, outputs[before] if before in outputs
                else example_of(STEP_OUTPUTS[before], known)), case_id=case_id)
            for before in planned.after]
