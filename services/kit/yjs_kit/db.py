"""Engines for a service's own database: a SQLite file for a local run, PostgreSQL in tests
and production."""

from __future__ import annotations

import os
import time
from typing import Callable

import eventlet.patcher
import pydantic_core
from eventlet.hubs import notify_opened, trampoline
from psycopg2 import OperationalError, extensions
from sqlalchemy import Engine, create_engine, event, text

from .config import DEFAULTS

# how long a statement waits for PostgreSQL's answer in place before yielding (DB_WAIT_BEFORE_YIELD_MS)
WAIT_BEFORE_YIELD_MS = int(DEFAULTS["DB_WAIT_BEFORE_YIELD_MS"])
_blocking_select = eventlet.patcher.original("select")  # a real poll(): it blocks, as meant


# a connection for every worker (MAX_WORKERS), the outbox relay and the timers
POOL_SIZE = int(DEFAULTS["MAX_WORKERS"]) + 2


def make_engine(url: str, pool_size: int = POOL_SIZE, wait_before_yield_ms: int = WAIT_BEFORE_YIELD_MS) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        # one connection: SQLite has one writer anyway, and queuing here beats "database is locked"
        # JSON columns written and read as on PostgreSQL: one document, whichever database holds it
        engine = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=60,
                               connect_args={"timeout": 30, "check_same_thread": False},
                               json_serializer=json_text, json_deserializer=pydantic_core.from_json)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # let BEGIN below be ours
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if _monkey_patched():
        # psycopg2 has one wait callback for the whole process: the last engine made sets it
        extensions.set_wait_callback(green_waiter(wait_before_yield_ms))
    # no pre-ping: it costs a round trip per checkout; a connection that died fails its
    # handler, which is retried on a fresh one. The pool is sized for every user of a process
    # (config.py): the overflow is for a rare burst beyond, and is closed when it comes back.
    return create_engine(url, pool_size=pool_size, max_overflow=4, pool_timeout=30, pool_recycle=1800,
                         json_serializer=json_text, json_deserializer=pydantic_core.from_json)


def json_text(value) -> str:
    """A JSON column's text, written by pydantic's serializer: several times faster than the
    json module's for the documents a case carries, UTF-8 as it is. A time, a UUID or a set is
    written as pydantic writes it (a string, a list) where json would refuse it; any other
    object is refused with json's TypeError."""
    try:
        return pydantic_core.to_json(value, fallback=_unwritable).decode("utf-8")
    except pydantic_core.PydanticSerializationError as error:
        raise TypeError(str(error)) from None


def _unwritable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _monkey_patched() -> bool:
    return eventlet.patcher.is_monkey_patched("socket")


def green_waiter(wait_before_yield_ms: int = WAIT_BEFORE_YIELD_MS) -> Callable:
    """psycopg2's wait callback under eventlet: wait on the server by yielding to other green
    threads (as psycogreen's does), and tell the hub of each socket libpq opens while it
    connects. libpq closes and opens its sockets behind eventlet's back, so a number reused
    from a socket that went silently would meet a stale listener ("Second simultaneous
    read"); a number just returned by the OS cannot be anyone else's, so its old listeners go.

    An answer is first awaited in place, for at most `wait_before_yield_ms`, and only then by
    yielding: most statements are answered well within it, and one blocking poll costs far less
    than handing the socket to the hub and back (two epoll_ctl calls, two switches, a turn of the
    hub). The bound keeps it safe: a statement waiting on a lock that another green thread of
    this process holds yields after the bound, and that thread can go on and release it."""

    def green_wait(conn, timeout=-1):
        connecting = conn.status not in (extensions.STATUS_READY, extensions.STATUS_BEGIN,
                                         extensions.STATUS_PREPARED)
        announced = None
        in_place_until = None  # the statement's bound, set at its first wait
        while True:
            state = conn.poll()
            if state == extensions.POLL_OK:
                return
            fileno = conn.fileno()
            if connecting and fileno != announced:
                notify_opened(fileno)
                announced = fileno
            if state == extensions.POLL_READ:
                if wait_before_yield_ms > 0 and not connecting:
                    now = time.monotonic()
                    if in_place_until is None:
                        in_place_until = now + wait_before_yield_ms / 1000
                    if now < in_place_until and _readable_within(fileno, (in_place_until - now) * 1000):
                        continue
                trampoline(fileno, read=True)
            elif state == extensions.POLL_WRITE:
                trampoline(fileno, write=True)
            else:
                raise OperationalError(f"Bad result from poll: {state!r}")

    return green_wait


def _readable_within(fileno: int, ms: float) -> bool:
    poller = _blocking_select.poll()
    poller.register(fileno, _blocking_select.POLLIN)
    return bool(poller.poll(ms))


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
