"""The kit's engine under eventlet, on the real PostgreSQL."""

import os

import eventlet
from eventlet.hubs import IOClosed, trampoline
from sqlalchemy import text
from yjs_kit.db import make_engine


def test_a_socket_number_reused_after_a_silent_close_does_not_meet_the_old_listener(database_factory):
    """A green thread left waiting on a descriptor that was closed behind eventlet's back (as
    libpq closes its sockets) must not stop the next connection given that number."""
    url = database_factory()
    reader, writer = os.pipe()

    def wait_on_reader():  # as a green socket's reader waits, and is told when its socket is gone
        try:
            trampoline(reader, read=True)
        except IOClosed as closed:
            return closed

    stuck = eventlet.spawn(wait_on_reader)
    eventlet.sleep(0)  # it is listening now
    os.close(writer)
    os.close(reader)  # silently: the hub still holds the listener
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection.fileno() == reader  # the number came back
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
    assert isinstance(stuck.wait(), IOClosed)  # the forgotten waiter is told, not left forever


def test_a_statement_awaits_a_quick_answer_in_place_and_yields_past_the_bound(database_factory):
    """Within DB_WAIT_BEFORE_YIELD_MS the answer is awaited without a turn of the hub (no other
    green thread runs meanwhile); a slower answer, or a bound of 0, is awaited by yielding."""
    from psycopg2 import extensions
    from yjs_kit.db import green_waiter

    url = database_factory()
    try:
        for bound, statement, yields in ((200, "SELECT 1", False), (0, "SELECT 1", True),
                                         (5, "SELECT pg_sleep(0.05), 1", True)):
            engine = make_engine(url, wait_before_yield_ms=bound)
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))  # connected: a connection's start always yields
                    others_ran = []
                    eventlet.spawn(others_ran.append, True)  # runs at this green thread's next yield
                    assert connection.execute(text(statement)).one()[-1] == 1
                    assert bool(others_ran) is yields, (bound, statement)
            finally:
                engine.dispose()
    finally:
        extensions.set_wait_callback(green_waiter())  # the process's callback as the services have it


def test_a_statement_waiting_on_a_lock_another_green_thread_holds_yields_to_it(database_factory):
    """The in-place wait is bounded: a statement that waits on a lock held by another green thread
    of the same process yields after the bound, so the holder can go on and release it. Unbounded,
    the process would stand still until the waiter's lock_timeout failed it."""
    from psycopg2 import extensions
    from yjs_kit.db import green_waiter

    engine = make_engine(database_factory(), wait_before_yield_ms=20)
    order = []

    def holder(locked):
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(7)"))
            locked.send()
            eventlet.sleep(0.2)  # yields while it holds the lock, as a handler awaiting I/O does
            order.append("holder done")

    def waiter():
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '5s'"))
            connection.execute(text("SELECT pg_advisory_xact_lock(7)"))
            order.append("waiter locked")

    try:
        locked = eventlet.Event()
        holding = eventlet.spawn(holder, locked)
        locked.wait()
        waiting = eventlet.spawn(waiter)
        holding.wait()
        waiting.wait()
        assert order == ["holder done", "waiter locked"]
    finally:
        engine.dispose()
        extensions.set_wait_callback(green_waiter())


def test_the_broker_proxy_leaves_no_green_thread_waiting_on_a_socket_it_closed(broker_uri):
    """Connections through the proxy, one ended and one still open when the proxy closes: no
    listener is left on their numbers, which the next socket may be given."""
    from eventlet.hubs import get_hub
    from kombu import Connection
    from yjs_kit.testing import BrokerProxy

    proxy = BrokerProxy(broker_uri)
    ended, still_open = Connection(proxy.uri), Connection(proxy.uri)
    for connection in (ended, still_open):
        connection.connect()
    numbers = {sock.fileno() for sock in proxy.sockets}
    ended.release()
    eventlet.sleep(0.2)  # its pumps see the end of the stream; the others wait to read
    proxy.close()
    eventlet.sleep(0)
    listening = {fd for bucket in get_hub().listeners.values() for fd in bucket}
    still_open.collect()
    assert len(numbers) == 4 and not numbers & listening


def _plans_upserted_twice(url):
    from datetime import datetime, timezone

    from sqlalchemy import MetaData
    from sqlalchemy.orm import Session
    from yjs_kit.tables import add_kit_tables
    from yjs_kit.uow import UnitOfWork

    metadata = MetaData()
    add_kit_tables(metadata)
    engine = make_engine(url)
    metadata.create_all(engine)
    plans = metadata.tables["kit_plans"]
    try:
        rows = []
        for application in ({"name": "甲"}, {"name": "乙"}):
            with Session(engine) as session, session.begin():
                rows.append(dict(UnitOfWork(session, metadata).upserted(
                    plans, ["case_id"], case_id="C1", matter="establishment", owner=None, application=application,
                    plan=[{"step": "registration.establish"}], received_at=datetime(2026, 12, 2, tzinfo=timezone.utc),
                    correlation_id=None)))
        return rows
    finally:
        engine.dispose()


def test_an_upsert_hands_back_the_row_as_it_now_stands_typed_as_the_table(database_factory, tmp_path):
    for url in (database_factory(), f"sqlite:///{tmp_path}/kit.db"):
        first, second = _plans_upserted_twice(url)
        assert first["application"] == {"name": "甲"} and second["application"] == {"name": "乙"}
        assert second["plan"] == [{"step": "registration.establish"}] and second["revision"] == 0
        assert second["received_at"].year == 2026 and second["withdrawn_at"] is None


def test_the_prebuilt_insert_update_and_reads_write_and_read_as_the_tables_own_statements(database_factory, tmp_path):
    from datetime import datetime, timezone

    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from yjs_kit.uow import UnitOfWork

    started = datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc)
    for url, metadata, engine in _kit_databases(database_factory, tmp_path, "kit"):
        steps, facts = metadata.tables["kit_steps"], metadata.tables["kit_step_facts"]
        with Session(engine) as session, session.begin():
            uow = UnitOfWork(session, metadata)
            for step in ("b.second", "a.first"):
                uow.insert(steps, case_id="C1", step=step, status="in_progress", started_at=started,
                           finished_at=None)
            uow.insert(facts, case_id="C1", step="a.first", status="completed", outputs={"号": [1, 2]})
            assert uow.update(steps, {"case_id": "C1", "step": "a.first"}, status="completed",
                              finished_at=started) == 1
            assert uow.update(steps, {"case_id": "C2", "step": "a.first"}, status="completed") == 0
        with Session(engine) as session:
            uow = UnitOfWork(session, metadata)
            assert [r["step"] for r in uow.rows(steps, order_by="step", case_id="C1")] == ["a.first", "b.second"]
            assert uow.row(steps, case_id="C1", step="a.first")["finished_at"].replace(tzinfo=timezone.utc) == started
            assert uow.row(facts, case_id="C1", step="a.first")["outputs"] == {"号": [1, 2]}
            assert uow.row(steps, case_id="C9") is None
            # what the tables' own statements read back is the same
            assert session.execute(select(facts.c.outputs)).scalar_one() == {"号": [1, 2]}
            assert session.execute(select(steps.c.status).where(steps.c.step == "a.first")).scalar_one() == "completed"


def test_many_rows_go_in_with_few_statements_and_a_list_in_a_key_means_any_of_its_values(database_factory,
                                                                                          tmp_path):
    """insert_many sends one multi-row INSERT per few hundred rows (SQLite's parameter limit kept);
    a list among the keys of a read, update or delete matches any of its values, an empty one none."""
    from datetime import datetime, timezone

    from sqlalchemy.orm import Session
    from yjs_kit.uow import UnitOfWork

    started = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    for url, metadata, engine in _kit_databases(database_factory, tmp_path, "many"):
        steps = metadata.tables["kit_steps"]
        with Session(engine) as session, session.begin():
            uow = UnitOfWork(session, metadata)
            rows = [dict(case_id=f"C{n:03d}", step="a.first", status="in_progress", started_at=started,
                         finished_at=None) for n in range(400)]
            assert uow.insert_many(steps, rows) == 400
            assert uow.statements == 3  # 5 parameters a row: 180 rows a statement
            assert uow.insert_many(steps, rows[:2] + [dict(rows[0], step="b.second")],
                                   unless_present=("case_id", "step")) == 1
        with Session(engine) as session, session.begin():
            uow = UnitOfWork(session, metadata)
            assert len(uow.rows(steps, case_id=["C001", "C002", "C999"])) == 2
            assert uow.rows(steps, case_id=[]) == []
            assert uow.update(steps, {"case_id": "C000", "step": ("a.first", "b.second")}, status="completed") == 2
            assert {r["status"] for r in uow.rows(steps, case_id="C000")} == {"completed"}
            assert uow.delete(steps, case_id={"C003", "C004"}) == 2
            assert uow.delete(steps, case_id="C005", step="b.second") == 0
            assert uow.row(steps, case_id="C003") is None and uow.row(steps, case_id="C005")["step"] == "a.first"
            assert len(uow.rows(steps, step="a.first")) == 398


class _Tally:
    """Stands in for the statements metric: what the units of work added to it."""

    def __init__(self):
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


def _kit_database(database_factory):
    """A Database (the kit's tables, its engine and sessions, no relay) on a fresh PostgreSQL
    database; the caller disposes of its engine."""
    from sqlalchemy import MetaData
    from sqlalchemy.orm import sessionmaker
    from yjs_kit.tables import add_kit_tables
    from yjs_kit.uow import Database

    metadata = MetaData()
    add_kit_tables(metadata)
    database = Database(metadata)
    database.engine = make_engine(database_factory())
    database.sessions = sessionmaker(bind=database.engine, expire_on_commit=False)
    metadata.create_all(database.engine)
    return database


def test_a_batch_is_one_transaction_of_its_own_green_thread_and_commits_or_spoils_whole(database_factory):
    """Inside Database.batch() every unit of work of that green thread is one transaction; another
    green thread (an RPC, a timer) keeps its own. An error inside a unit of work spoils the batch
    even when the handler catches it, and what follows a commit runs only when the batch commits."""
    import pytest
    from sqlalchemy import select
    from yjs_kit.uow import BatchSpoiled

    database = _kit_database(database_factory)
    metadata = database.metadata
    counters = metadata.tables["kit_counters"]

    def count(name):
        with database.engine.connect() as connection:
            return connection.execute(select(counters.c.value).where(counters.c.name == name)).scalar()

    def other_thread():  # a worker beside the batch: committed at once, whatever the batch does
        with database.unit_of_work() as uow:
            uow.next_number("beside")
        return count("beside")

    committed = []
    try:
        with database.batch():
            for _ in range(3):
                with database.unit_of_work() as uow:
                    uow.next_number("batched")
                database.after_commit(lambda: committed.append(count("batched")))
            assert eventlet.spawn(other_thread).wait() == 1
            assert count("batched") is None and committed == []  # nothing of the batch seen yet
        assert committed == [3, 3, 3]  # after the commit, once per call

        with pytest.raises(BatchSpoiled):
            with database.batch():
                with database.unit_of_work() as uow:
                    uow.next_number("batched")
                try:
                    with database.unit_of_work() as uow:
                        uow.next_number("batched")
                        raise LookupError("caught by its handler")
                except LookupError:
                    pass
                database.after_commit(lambda: committed.append("never"))
        assert count("batched") == 3 and committed == [3, 3, 3]

        with database.unit_of_work() as uow:  # outside a batch: its own transaction, as always
            uow.next_number("batched")
        database.after_commit(lambda: committed.append(count("batched")))
        assert committed == [3, 3, 3, 4]
    finally:
        database.engine.dispose()


def test_a_batch_takes_its_cases_locks_sorted_by_case_id_whatever_order_its_events_came_in(database_factory):
    """Its events are applied in the order they came, but two batches with the same cases must not
    wait on each other crosswise: the locks go sorted. Seen from outside: while case Z's lock is
    held elsewhere, a batch whose events came Z first, then A, already holds A and waits for Z."""
    from sqlalchemy import text
    from yjs_contracts.envelope import new_event
    from yjs_kit.testing import wait_for_lock_waiters
    from yjs_kit.uow import LOCK

    database = _kit_database(database_factory)
    url = database.engine.url.render_as_string(hide_password=False)
    came = [new_event("case.submitted", {}, case_id=case) for case in ("Z", "A")]

    def apply_batch():
        with database.batch(came):
            with database.unit_of_work() as uow:
                return [uow.first_time(e, "steps", lock=e.case_id, alike=lambda _: True) for e in came]

    try:
        with database.engine.connect() as holder, database.engine.connect() as onlooker:
            holder.execute(LOCK, {"key": "Z"})
            batch = eventlet.spawn(apply_batch)
            wait_for_lock_waiters(url, 1, wait_event="advisory", what="the batch waiting for Z")
            free = text("SELECT pg_try_advisory_xact_lock(hashtext(:key))")
            assert onlooker.execute(free, {"key": "A"}).scalar() is False  # the batch took A first
            onlooker.rollback()
            holder.rollback()  # Z released: the batch goes on
            assert batch.wait() == [True, True]
    finally:
        database.engine.dispose()


def test_a_batch_marks_its_alike_events_ahead_in_one_statement_and_still_refuses_duplicates(database_factory):
    """In a batch, the first `first_time` of a consumer marks that event and every alike one after
    it, with their cases' locks, in one statement; the others answer from it. An event applied
    before, or delivered twice in the batch, is new once; an event not alike takes its own
    statement; an event first asked after a later one was marked is marked then, without marking
    the others again; a rolled-back batch keeps no mark."""
    import pytest
    from sqlalchemy import select
    from yjs_contracts.envelope import new_event

    database = _kit_database(database_factory)
    metadata = database.metadata
    statements = database.statements_sent = _Tally()
    trips = database.round_trips_made = _Tally()
    inbox = metadata.tables["kit_inbox"]

    def marks():
        with database.engine.connect() as connection:
            return sorted(connection.execute(select(inbox.c.consumer, inbox.c.event_id)).all())

    def alike(event):
        return event.event_type == "case.submitted"

    early, a, b, c = (new_event("case.submitted", {"n": n}, case_id=case) for n, case in
                      enumerate(["A1", "A1", "A2", "A3"]))
    other = new_event("case.withdrawn", {}, case_id="A2")
    try:
        with database.unit_of_work() as uow:
            assert uow.first_time(early, "steps", lock="A1")  # applied before, alone
            assert statements.value == 0  # added to the metric once, when the unit of work ends
        assert statements.value == 1
        statements.value = 0
        batch = [early, a, other, b, a, c]  # `a` delivered twice
        with database.batch(batch):
            with database.unit_of_work() as uow:
                answers = [uow.first_time(e, "steps", lock=e.case_id, alike=alike) for e in batch[:2]]
                assert uow.statements == 1  # early, a, b, a and c marked at once
                answers.append(uow.first_time(other, "steps", lock="A2"))
                answers += [uow.first_time(e, "steps", lock=e.case_id, alike=alike) for e in batch[3:]]
        assert answers == [False, True, True, True, False, True]
        assert statements.value == 2  # and one for the event not alike
        assert trips.value == 3  # each sent alone, and the one before the batch
        assert marks() == sorted(("steps", str(e.event_id)) for e in (early, a, other, b, c))

        late, later = (new_event("case.submitted", {"n": n}, case_id=case) for n, case in [(7, "A7"), (8, "A8")])
        statements.value = 0
        with database.batch([late, later]):
            with database.unit_of_work() as uow:
                # `later` asked first (its handler ran before): `late` is marked on its own after it
                assert uow.first_time(later, "steps", lock="A8", alike=alike)
                assert uow.first_time(late, "steps", lock="A7", alike=alike)
                assert not uow.first_time(later, "steps", lock="A8", alike=alike)
        assert statements.value == 2

        failed = new_event("case.submitted", {}, case_id="A9")
        with pytest.raises(LookupError):
            with database.batch([failed]):
                with database.unit_of_work() as uow:
                    assert uow.first_time(failed, "steps", lock="A9", alike=alike)
                    raise LookupError("the batch fails")
        assert len(marks()) == 7 and ("steps", str(failed.event_id)) not in marks()
    finally:
        database.engine.dispose()


def test_appended_rows_go_in_at_the_commit_in_one_statement_per_table_and_a_kept_one_is_left(database_factory,
                                                                                           tmp_path):
    """What a unit of work appends (outbox events, timeline lines, reports) is inserted just before
    whoever commits its session, one statement per table, in the order appended; a row appended
    `unless_present` that is already there is left as it was; a rollback keeps none of it."""
    from datetime import datetime, timezone

    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from yjs_contracts.envelope import new_event
    from yjs_kit.uow import UnitOfWork

    now = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    for url, metadata, engine in _kit_databases(database_factory, tmp_path, "appended"):
        outbox, inbox = metadata.tables["kit_outbox"], metadata.tables["kit_inbox"]
        with Session(engine) as session, session.begin():
            UnitOfWork(session, metadata).append(inbox, ("consumer", "event_id"), consumer="c", event_id="E1",
                                                 applied_at=now)
        events = [new_event("case.submitted", {"n": n}, case_id=f"A{n}") for n in range(5)]
        with Session(engine) as session, session.begin():
            uow = UnitOfWork(session, metadata)
            for announced in events:
                uow.announce(announced)
            for n in (1, 2, 2):  # E1 is there already, and E2 comes twice
                uow.append(inbox, ("consumer", "event_id"), consumer="c", event_id=f"E{n}",
                           applied_at=now.replace(hour=10))
            assert session.execute(select(outbox.c.id)).all() == []  # not before the commit
        assert uow.statements == 2  # one per table
        with Session(engine) as session:
            assert session.execute(select(outbox.c.event_id).order_by(outbox.c.id)).scalars().all() == [
                str(e.event_id) for e in events]
            kept = dict(session.execute(select(inbox.c.event_id, inbox.c.applied_at)).all())
            assert sorted(kept) == ["E1", "E2"] and kept["E1"].replace(tzinfo=timezone.utc) == now
        with Session(engine) as session:
            uow = UnitOfWork(session, metadata)
            uow.announce(new_event("case.submitted", {"n": 9}, case_id="A9"))
            session.rollback()
            session.commit()  # nothing appended survives the rollback
        with Session(engine) as session:
            assert len(session.execute(select(outbox.c.id)).all()) == 5


def test_statements_sent_straight_to_the_driver_read_write_and_fail_as_through_the_engine(database_factory, tmp_path):
    """The unit of work's own statements skip SQLAlchemy's execution path: each is counted; typed
    columns (JSON, time zones, floats) come back as the engine would give them; a constraint's
    refusal is SQLAlchemy's IntegrityError; a connection lost under it is invalidated, and the
    next unit of work gets a good one."""
    from datetime import datetime, timezone

    import pytest
    from sqlalchemy import create_engine, select
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool
    from yjs_kit.uow import UnitOfWork

    now = datetime(2026, 12, 3, 9, 30, 15, 123456, tzinfo=timezone.utc)
    for url, metadata, engine in _kit_databases(database_factory, tmp_path, "direct"):
        plans = metadata.tables["kit_plans"]
        with Session(engine) as session, session.begin():
            uow = UnitOfWork(session, metadata)
            stored = uow.upserted(plans, ["case_id"], case_id="C1", matter="establishment", owner=None,
                                  application={"名称": "甲", "n": [1.5, None]}, plan=[{"step": "a"}],
                                  received_at=now, correlation_id="x")
            assert uow.next_numbers("seal", 3) == [1, 2, 3] and uow.next_number("seal") == 4
        assert uow.statements == 3
        assert stored["application"] == {"名称": "甲", "n": [1.5, None]} and stored["revision"] == 0
        assert stored["received_at"].replace(tzinfo=timezone.utc) == now and stored["withdrawn_at"] is None
        with Session(engine) as session:
            through_engine = dict(session.execute(select(plans)).mappings().one())
            assert UnitOfWork(session, metadata).row(plans, case_id="C1") == through_engine
        with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
            UnitOfWork(session, metadata).insert(plans, case_id="C1", matter="m", application={}, plan=[],
                                                 received_at=now)
        if engine.dialect.name != "postgresql":
            continue
        killer = create_engine(url, poolclass=NullPool)
        with Session(engine) as session:
            uow = UnitOfWork(session, metadata)
            pid = uow.fetch(text("SELECT pg_backend_pid() AS pid"), {})[0]["pid"]
            with killer.connect() as connection:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(OperationalError) as lost:
                uow.row(plans, case_id="C1")
            assert lost.value.connection_invalidated
        killer.dispose()
        with Session(engine) as session:
            assert UnitOfWork(session, metadata).row(plans, case_id="C1")["matter"] == "establishment"


def _kit_databases(database_factory, tmp_path, name: str):
    """The kit's tables on PostgreSQL and on SQLite: (url, metadata, engine) for each, disposed after."""
    from sqlalchemy import MetaData
    from yjs_kit.tables import add_kit_tables

    for url in (database_factory(), f"sqlite:///{tmp_path}/{name}.db"):
        metadata = MetaData()
        add_kit_tables(metadata)
        engine = make_engine(url)
        metadata.create_all(engine)
        try:
            yield url, metadata, engine
        finally:
            engine.dispose()


def test_on_postgresql_the_direct_paths_statements_are_prepared_once_a_connection(database_factory, tmp_path):
    """PostgreSQL keeps each statement the unit of work sends parsed (PREPARE), once per connection:
    it outlives a rollback, a new connection prepares its own, a literal % stays a %, and with the
    setting off nothing is prepared."""
    from sqlalchemy.orm import Session
    from yjs_kit.uow import UnitOfWork

    like = text("SELECT count(*) AS n FROM kit_counters WHERE name LIKE 'seal%' AND value >= :least")
    prepared_here = text("SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'yjs%'")
    for url, metadata, engine in _kit_databases(database_factory, tmp_path, "prepared"):
        if engine.dialect.name != "postgresql":
            continue
        with Session(engine) as session:
            uow = UnitOfWork(session, metadata)
            assert uow.next_numbers("seal.2026", 2) == [1, 2]
            session.rollback()  # the numbers go back; the statement stays prepared
            assert uow.next_numbers("seal.2026", 2) == [1, 2] and uow.next_number("tax.2026") == 1
            assert uow.fetch(like, {"least": 2})[0]["n"] == 1
            statements = session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
            assert len(statements) == 3 and uow.fetch(prepared_here, {})[0]["n"] == 4  # and prepared_here
            assert any("'seal%'" in statement and "$1" in statement for statement in statements)
            session.commit()
        engine.dispose()  # a new connection: the statements are prepared again there
        with Session(engine) as session:
            uow = UnitOfWork(session, metadata)
            assert uow.next_numbers("seal.2026", 1) == [3]
            assert uow.fetch(prepared_here, {})[0]["n"] == 2
        with Session(engine) as session:
            uow = UnitOfWork(session, metadata, server_prepared=False)
            assert uow.fetch(like, {"least": 1})[0]["n"] == 1
            assert session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one() == 2


def test_writes_nobody_reads_ride_with_the_next_statement_and_fail_or_vanish_with_their_unit_of_work(
        database_factory, tmp_path):
    """On PostgreSQL a write whose outcome nothing asks for (`write`, `insert`, `update_later`,
    `upsert_later`) waits, and goes to the server in one round trip with the next statement: a
    read of the unit of work, SQLAlchemy's own statement, or the commit. What is read after it
    sees it; its failure fails that unit of work, which keeps none of it; a rollback forgets it,
    so the connection's next transaction never sends it. On SQLite each is sent at once."""
    from datetime import datetime, timezone

    import psycopg2.extensions
    import pytest
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm import Session
    from yjs_kit.uow import UnitOfWork

    now = datetime(2026, 12, 3, 9, 30, tzinfo=timezone.utc)
    for url, metadata, engine in _kit_databases(database_factory, tmp_path, "later"):
        plans, facts = metadata.tables["kit_plans"], metadata.tables["kit_step_facts"]
        postgres = engine.dialect.name == "postgresql"
        sent = []  # what the driver was handed to run, PREPAREs left out

        class Counting(psycopg2.extensions.cursor):
            def execute(self, query, vars=None):
                text_sent = query.decode() if isinstance(query, bytes) else query
                if not text_sent.startswith("PREPARE"):
                    sent.append(text_sent)
                return super().execute(query, vars)

        def plan(case_id: str) -> dict:
            return dict(case_id=case_id, matter="establishment", application={"名称": "甲"}, plan=[],
                        received_at=now, correlation_id="x")

        with Session(engine) as session, session.begin():
            uow = UnitOfWork(session, metadata)
            if postgres:
                session.connection().connection.dbapi_connection.cursor_factory = Counting
            uow.insert(plans, **plan("C1"))
            uow.update_later(plans, {"case_id": "C1"}, matter="change")
            uow.upsert_later(facts, ["case_id", "step"], case_id="C1", step="a", status="completed", outputs={"n": 1})
            assert sent == []  # nothing yet
            assert uow.row(plans, case_id="C1")["matter"] == "change"  # the read sees what went before it…
            if postgres:
                assert len(sent) == 1 and sent[0].count("; ") == 3  # …sent with it, in one round trip
            uow.upsert_later(facts, ["case_id", "step"], case_id="C1", step="a", status="rejected", outputs={})
            assert session.execute(select(facts.c.status)).scalars().all() == ["rejected"]  # SQLAlchemy's too
            uow.insert(plans, **plan("C2"))
            if postgres:
                assert len(sent) == 3
        if postgres:
            assert len(sent) == 4  # the last write went at the commit
        # six statements of its own; on PostgreSQL in three round trips (SQLAlchemy's read is the engine's)
        assert (uow.statements, uow.round_trips) == ((6, 3) if postgres else (6, 6))
        with Session(engine) as session:
            assert session.execute(select(plans.c.case_id).order_by(plans.c.case_id)).scalars().all() == ["C1", "C2"]

        # a write that fails, fails its unit of work, wherever it is sent
        with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
            uow = UnitOfWork(session, metadata)
            uow.insert(plans, **plan("C3"))
            uow.insert(plans, **plan("C1"))  # taken
            uow.row(plans, case_id="C3")
        with Session(engine) as session:
            assert session.execute(select(plans.c.case_id).where(plans.c.case_id == "C3")).all() == []

        # a rollback forgets what waits: the connection's next transaction does not send it
        with Session(engine) as session:
            uow = UnitOfWork(session, metadata)
            uow.insert(plans, **plan("C4"))
            session.rollback()
            assert session.execute(select(plans.c.case_id).where(plans.c.case_id == "C4")).all() == []
            session.commit()
        with Session(engine) as session:
            assert session.execute(select(plans.c.case_id).where(plans.c.case_id == "C4")).all() == []


def test_a_json_column_is_written_utf8_as_it_is_and_an_object_json_cannot_write_is_refused():
    import pytest
    from yjs_kit.db import json_text

    assert json_text({"名称": "甲", "n": [1.5, None, True]}) == '{"名称":"甲","n":[1.5,null,true]}'
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_text({"a": object()})


def test_a_json_column_holds_the_same_document_on_postgresql_and_sqlite(database_factory, tmp_path):
    """Both engines write JSON columns with pydantic-core's serializer and read them with its
    parser: Chinese text kept as it is, and a time or a UUID written as pydantic writes it, where
    the json module would refuse them on one database and not the other."""
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import String, select
    from sqlalchemy.orm import Session
    from yjs_kit.uow import UnitOfWork

    at, key = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc), uuid.UUID(int=7)
    documents, texts = [], []
    for url, metadata, engine in _kit_databases(database_factory, tmp_path, "json"):
        plans = metadata.tables["kit_plans"]
        with Session(engine) as session, session.begin():
            UnitOfWork(session, metadata).insert(plans, case_id="C1", matter="m", plan=[], received_at=at,
                                                 application={"名称": "甲", "at": at, "key": key})
        with Session(engine) as session:
            documents.append(UnitOfWork(session, metadata).row(plans, case_id="C1")["application"])
            texts.append(session.execute(select(plans.c.application.cast(String))).scalar_one())
    assert documents[0] == documents[1] == {"名称": "甲", "at": "2026-12-05T09:00:00Z", "key": str(key)}
    assert all("甲" in text for text in texts)  # not \\u7532 on either

