"""A service's database as a nameko dependency, and the unit of work every handler runs in:
state changes, inbox marks and announced events commit in one transaction."""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import count, groupby
from typing import Any, Callable, Iterable, Iterator

from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, Engine, MetaData, Pool, Table, TextClause, bindparam, text
from sqlalchemy import event as sql_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from yjs_contracts.envelope import Envelope

from . import metrics
from .config import DEFAULTS, switched_on
from .db import POOL_SIZE, make_engine
from .logging import about_event
from .outbox import HANDOVER_LEASE, OutboxRelay, outbox_row


# The hottest statements as SQL text, which SQLAlchemy compiles once: its dialect
# insert().on_conflict_*() constructs have no cache key and are compiled again on every call.
# Both PostgreSQL and SQLite (3.35+) speak this upsert and RETURNING.
MARK_APPLIED = text("INSERT INTO kit_inbox (consumer, event_id, applied_at) VALUES (:consumer, :event_id, :applied_at)"
                    " ON CONFLICT DO NOTHING").bindparams(bindparam("applied_at", type_=DateTime(timezone=True)))
# the mark and the case's lock in one round trip: the lock first, so a duplicate delivered to
# another replica waits for the first to commit and then finds its mark
MARK_APPLIED_LOCKED = text("WITH locked AS (SELECT pg_advisory_xact_lock(hashtext(:key)))"
                           " INSERT INTO kit_inbox (consumer, event_id, applied_at)"
                           " SELECT :consumer, :event_id, :applied_at FROM locked ON CONFLICT DO NOTHING"
                           ).bindparams(bindparam("applied_at", type_=DateTime(timezone=True)))
# a batch's marks for one consumer, and its cases' locks, in one round trip: the locks in the
# order given (sorted by case), then every event's mark; what comes back is new
MARK_APPLIED_AHEAD = text("WITH locked AS (SELECT pg_advisory_xact_lock(hashtext(t.key))"
                          " FROM unnest(CAST(:keys AS text[])) WITH ORDINALITY AS t(key, n) ORDER BY t.n)"
                          " INSERT INTO kit_inbox (consumer, event_id, applied_at)"
                          " SELECT :consumer, t.event_id, :applied_at"
                          " FROM unnest(CAST(:event_ids AS text[])) AS t(event_id), (SELECT count(*) FROM locked) AS l"
                          " ON CONFLICT DO NOTHING RETURNING event_id"
                          ).bindparams(bindparam("applied_at", type_=DateTime(timezone=True)))
NEXT_NUMBER = text("INSERT INTO kit_counters (name, value) VALUES (:name, 1)"
                   " ON CONFLICT (name) DO UPDATE SET value = kit_counters.value + 1 RETURNING value")
NEXT_NUMBERS = text("INSERT INTO kit_counters (name, value) VALUES (:name, :count)"
                    " ON CONFLICT (name) DO UPDATE SET value = kit_counters.value + :count RETURNING value")


@lru_cache(maxsize=None)
def upsert_statement(table: Table, keys: tuple[str, ...], columns: tuple[str, ...], update: bool,
                     returning: bool = False) -> TextClause:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET` every other column (or `DO NOTHING`), as text
    built once per shape for the same reason as above; each parameter keeps its column's type, so
    JSON and time zones are written as the table's own insert would write them. `returning`: the
    row as it now stands comes back, typed as the table's columns."""
    names = ", ".join(columns)
    values = ", ".join(f":{c}" for c in columns)
    changed = [c for c in columns if c not in keys]
    action = f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in changed)}" if update and changed else "DO NOTHING"
    statement = text(f"INSERT INTO {table.name} ({names}) VALUES ({values}) ON CONFLICT ({', '.join(keys)}) {action}"
                     + (f" RETURNING {', '.join(table.c.keys())}" if returning else "")
                     ).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))
    return statement.columns(*table.c) if returning else statement


@lru_cache(maxsize=None)
def insert_statement(table: Table, columns: tuple[str, ...]) -> TextClause:
    """`INSERT INTO table (columns) VALUES (…)` as text built once per shape: a Core insert
    with `.values(**row)` computes its cache key from every value on each call."""
    return text(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(f':{c}' for c in columns)})"
                ).bindparams(*(bindparam(c, type_=table.c[c].type) for c in columns))


def _shape(where: dict) -> tuple[tuple[str, int | None], ...]:
    """The keys of a `where`, each with the length of its list of values (`IN`), or None (`=`):
    what a statement built once for it depends on."""
    return tuple((k, len(v) if isinstance(v, (list, tuple, set, frozenset)) else None) for k, v in where.items())


def _where(table: Table, shape: tuple[tuple[str, int | None], ...], prefix: str = "") -> tuple[str, list]:
    """`WHERE k = :k AND j IN (:j__0, :j__1)` for a shape, and its typed parameters."""
    conditions, params = [], []
    for key, count in shape:
        type_ = table.c[key].type
        if count is None:
            conditions.append(f"{key} = :{prefix}{key}")
            params.append(bindparam(f"{prefix}{key}", type_=type_))
        else:
            names = [f"{prefix}{key}__{i}" for i in range(count)]
            conditions.append(f"{key} IN ({', '.join(f':{n}' for n in names)})" if names else "1 = 0")
            params.extend(bindparam(n, type_=type_) for n in names)
    return " AND ".join(conditions), params


def _where_params(where: dict, prefix: str = "") -> dict:
    params = {}
    for key, value in where.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            params.update((f"{prefix}{key}__{i}", item) for i, item in enumerate(sorted(value) if isinstance(
                value, (set, frozenset)) else value))
        else:
            params[f"{prefix}{key}"] = value
    return params


@lru_cache(maxsize=None)
def update_statement(table: Table, shape: tuple[tuple[str, int | None], ...], columns: tuple[str, ...]) -> TextClause:
    """`UPDATE table SET columns WHERE keys`, built once per shape (the keys' parameters are
    named `key_<column>`, so a key column may be set too)."""
    condition, params = _where(table, shape, "key_")
    return text(f"UPDATE {table.name} SET {', '.join(f'{c} = :{c}' for c in columns)} WHERE {condition}").bindparams(
        *(bindparam(c, type_=table.c[c].type) for c in columns), *params)


@lru_cache(maxsize=None)
def delete_statement(table: Table, shape: tuple[tuple[str, int | None], ...]) -> TextClause:
    """`DELETE FROM table WHERE keys`, built once per shape."""
    condition, params = _where(table, shape)
    return text(f"DELETE FROM {table.name} WHERE {condition}").bindparams(*params)


@lru_cache(maxsize=None)
def rows_statement(table: Table, shape: tuple[tuple[str, int | None], ...], order_by: str | None = None) -> TextClause:
    """`SELECT * FROM table WHERE keys [ORDER BY]`, built once, its columns typed as the table's."""
    condition, params = _where(table, shape)
    return text(f"SELECT {', '.join(table.c.keys())} FROM {table.name} WHERE {condition}"
                + (f" ORDER BY {order_by}" if order_by else "")).bindparams(*params).columns(*table.c)


# a statement's parameters at most: SQLite before 3.32 allows 999
_MOST_PARAMETERS = 900


@lru_cache(maxsize=1024)
def insert_rows_statement(table: Table, columns: tuple[str, ...], rows: int,
                          unless_present: tuple[str, ...] = ()) -> TextClause:
    """`INSERT INTO table (columns) VALUES (…), (…)` for `rows` rows, built once per shape (row
    i's parameters are `r<i>_<column>`); `unless_present`: `ON CONFLICT (those) DO NOTHING`."""
    values = ", ".join("(" + ", ".join(f":r{i}_{c}" for c in columns) + ")" for i in range(rows))
    conflict = f" ON CONFLICT ({', '.join(unless_present)}) DO NOTHING" if unless_present else ""
    return text(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values}{conflict}").bindparams(
        *(bindparam(f"r{i}_{c}", type_=table.c[c].type) for i in range(rows) for c in columns))


LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


@dataclass(frozen=True)
class _ServerPrepared:
    """A statement PostgreSQL keeps parsed and planned for the session (`PREPARE`), by name: the
    driver then sends only `EXECUTE name (values)`, and the server skips parsing and, once it
    has settled on a generic plan, planning."""

    name: str
    prepare: str  # PREPARE name AS …, the parameters numbered ($1, $2 …)
    execute: str  # EXECUTE name (%(a)s, …), for the driver to fill in


@dataclass(frozen=True)
class _Prepared:
    """A statement built once, compiled once for a dialect: the SQL the driver takes, and how
    each parameter goes in and each column comes out (the columns' types, as SQLAlchemy's own
    execution would convert them)."""

    sql: str
    binds: tuple[tuple[str, Callable | None], ...]
    order: tuple[str, ...] | None  # the parameters in order, for a positional driver (SQLite's)
    server: _ServerPrepared | None = None  # PostgreSQL's (psycopg2's pyformat)
    # a named driver's: only the parameters whose type converts them (JSON, say) are copied
    converted: tuple[tuple[str, Callable], ...] = ()


_PYFORMAT = re.compile(r"%%|%\(([^)]+)\)s")
_server_names = count(1)


def _server_prepared(sql: str) -> _ServerPrepared:
    numbers: dict[str, int] = {}

    def numbered(match: re.Match) -> str:
        if match.group(1) is None:
            return "%"  # a literal %, which the driver would have unescaped
        return f"${numbers.setdefault(match.group(1), len(numbers) + 1)}"

    body = _PYFORMAT.sub(numbered, sql)
    name = f"yjs_{next(_server_names)}"
    values = ", ".join(f"%({bind})s" for bind in numbers)
    return _ServerPrepared(name, f"PREPARE {name} AS {body}", f"EXECUTE {name} ({values})" if values else f"EXECUTE {name}")


@lru_cache(maxsize=None)
def _prepared(statement, dialect) -> _Prepared:
    compiled = statement.compile(dialect=dialect)
    binds = tuple((name, bind.type.dialect_impl(dialect).bind_processor(dialect))
                  for name, bind in compiled.binds.items())
    server = _server_prepared(compiled.string) if dialect.name == "postgresql" and dialect.paramstyle == "pyformat" else None
    return _Prepared(compiled.string, binds, tuple(compiled.positiontup) if compiled.positional else None, server,
                     tuple((name, processor) for name, processor in binds if processor is not None))


_row_shapes: dict[tuple[Any, Any], tuple[list[str], tuple[tuple[str, Callable], ...]]] = {}


def _row_shape(statement, dialect, description) -> tuple[list[str], tuple[tuple[str, Callable], ...]]:
    """The names of the statement's columns and how each typed one is read, worked out from the
    first rows the driver described (a column's type code decides, for some types, e.g.
    PostgreSQL's numerics): a statement built once always returns the same columns."""
    shape = _row_shapes.get((statement, dialect))
    if shape is None:
        types = {column.name: column.type for column in getattr(statement, "selected_columns", ())}
        names, processors = [column[0] for column in description], []
        for column in description:
            name, type_code = column[0], column[1]
            if name in types:
                processor = types[name].dialect_impl(dialect).result_processor(dialect, type_code)
                if processor is not None:
                    processors.append((name, processor))
        shape = _row_shapes[(statement, dialect)] = (names, tuple(processors))
    return shape


class UnitOfWork:
    """One transaction. `announce` stores an event in the outbox; `first_time` marks an event
    applied (the inbox) and says whether it already was."""

    def __init__(self, session: Session, metadata: MetaData, server_prepared: bool = True):
        self.session = session
        self.tables = metadata.tables
        # statements sent on the direct path (the engine counts the rest): added to the metric
        # once, when the unit of work ends, not under the metric's lock for every statement
        self.statements = 0
        self.round_trips = 0  # of those, sent to the server: several sent together count once
        self.server_prepared = server_prepared  # the direct path's statements PREPAREd on PostgreSQL
        self._connection = None  # the session's connection in this transaction, for the direct path
        self.announced: list[Envelope] = []
        self.handed_over: list[dict] = []  # the outbox rows, for this process's relay after the commit
        self._appended: list[tuple[Table, tuple[str, ...], dict]] = []  # rows inserted together just before the commit
        self._unsent: list[bytes] = []  # writes sent with the next statement (`write`), as the driver sends them
        self.batch_events: list[Envelope] = []  # the events of the batch this transaction applies, in order
        self._marked_ahead: dict[str, tuple[set[str], set[str]]] = {}  # consumer -> (events marked, of them new)
        session.info[_UNIT_OF_WORK] = self  # whoever commits the session, what was appended goes in

    @property
    def postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def execute(self, statement, params: dict):
        """Run one of the statements built once (SQL text, its parameters typed) straight on the
        driver's cursor in this transaction: SQLAlchemy's execution path (an execution context,
        a result object, the session's state checks) costs several times the driver's own work
        for the small statements a handler sends. Conversions are the types' own, and a driver
        error goes through the engine's handling: wrapped as SQLAlchemy's, a lost connection
        invalidated. The writes waiting to be sent (`write`) go first, in the same round trip.
        Returns the cursor, whose rows and rowcount are read at once."""
        connection, sql, args = self._bound(statement, params)
        cursor = connection.connection.dbapi_connection.cursor()
        self.statements += 1
        self.round_trips += 1
        try:
            if self._unsent:  # one simple query: run in order, the cursor holding the last one's result
                sql, args = b"; ".join([*self._unsent, cursor.mogrify(sql, args)]), None
                self._unsent.clear()
            cursor.execute(sql, args)
        except BaseException as error:
            connection._handle_dbapi_exception(error, sql, args, cursor, None)  # raises
        return cursor

    def _bound(self, statement, params: dict) -> tuple[Any, str, Any]:
        """This transaction's connection, and the statement's SQL and parameters as the driver
        takes them (on PostgreSQL, `EXECUTE` of the statement PREPAREd once on the connection)."""
        connection = self._connection
        if connection is None:
            connection = self._connection = self.session.connection()
        dialect = connection.dialect
        prepared = _prepared(statement, dialect)
        if prepared.order is None:  # named: the caller's own mapping, with what converts replaced
            args = {**params, **{name: convert(params[name]) for name, convert in prepared.converted}} \
                if prepared.converted else params
        else:
            values = {name: params[name] if processor is None else processor(params[name])
                      for name, processor in prepared.binds}
            args = tuple(values[name] for name in prepared.order)
        if not (self.server_prepared and prepared.server is not None):
            return connection, prepared.sql, args
        # the connection's own: PREPARE outlives a rollback, and a new connection has none
        known = connection.connection.info.setdefault(_SERVER_PREPARED, set())
        if prepared.server.name not in known:  # once a connection: not counted as the work's
            cursor = connection.connection.dbapi_connection.cursor()
            try:
                cursor.execute(prepared.server.prepare)
            except BaseException as error:
                connection._handle_dbapi_exception(error, prepared.server.prepare, None, cursor, None)
            cursor.close()
            known.add(prepared.server.name)
        return connection, prepared.server.execute, args

    def write(self, statement, params: dict) -> None:
        """A write whose outcome nothing in this transaction asks for (no rows, no count): on
        PostgreSQL it is sent with the next statement of this transaction, or with the rows
        appended at the commit, in the same round trip; elsewhere at once. It fails where that
        statement fails, inside the same unit of work, so a failure still rolls back all of it."""
        if not self.postgres:
            self._rowcount(statement, params)
            return
        connection, sql, args = self._bound(statement, params)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            self._unsent.append(cursor.mogrify(sql, args))
        finally:
            cursor.close()
        self.statements += 1
        # SQLAlchemy's own statements on this connection send them first (_send_unsent_first)
        connection.connection.info[_UNSENT] = self

    def send_unsent(self) -> None:
        """Send the writes waiting (`write`) now, in one round trip."""
        if self._unsent:
            self.round_trips += 1
            _send_together(self._connection, self._unsent)

    def fetch(self, statement, params: dict) -> list[dict]:
        """The rows of a statement built once (see `execute`), as dicts, its columns converted."""
        cursor = self.execute(statement, params)
        names, processors = _row_shape(statement, self._connection.dialect, cursor.description)
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
        cursor.close()
        if processors:
            for row in rows:
                for name, processor in processors:
                    row[name] = processor(row[name])
        return rows

    def _rowcount(self, statement, params: dict) -> int:
        cursor = self.execute(statement, params)
        count = cursor.rowcount
        cursor.close()
        return count

    def snapshot(self) -> None:
        """Read everything in this unit of work as of one moment (a record is read with several
        statements, and must not straddle another commit). Call before the first statement."""
        if self.postgres:
            self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    def announce(self, event: Envelope) -> None:
        """Stored in the outbox, leased to this process's relay, which is handed the row at
        commit and publishes it without reading it back; if this process dies first, the lease
        runs out and any relay publishes it."""
        row = outbox_row(event)
        row["claimed_until"] = row["created_at"] + HANDOVER_LEASE
        self.append(self.tables["kit_outbox"], **row)
        self.announced.append(event)
        self.handed_over.append(row)

    def first_time(self, event: Envelope, consumer: str, lock: str | None = None,
                   alike: Callable[[Envelope], bool] | None = None) -> bool:
        """Records (consumer, event_id); the primary key, not a read, refuses a duplicate, so
        two replicas handling the same redelivered event cannot both pass. With `lock`, also
        takes `lock(lock)` (before the mark), whether or not the event is new.

        In a batch, `alike` says which of its events this consumer marks with their case as the
        lock: the first call marks this one and every alike one after it in one statement, taking
        their cases' locks in the order of the case ids, and the calls for those answer from what it
        returned. An event marked so whose handler never asks leaves a mark that nothing reads."""
        event_id = str(event.event_id)
        if alike is not None and lock == event.case_id and lock is not None and self.batch_events and self.postgres:
            marked, new = self._marked_ahead.setdefault(consumer, (set(), set()))
            if event_id not in marked:
                self._mark_ahead(event, consumer, alike, marked, new)
            if event_id in new:
                new.discard(event_id)  # the same event twice in a batch: only its first delivery is new
                return True
            return False
        values = {"consumer": consumer, "event_id": event_id, "applied_at": datetime.now(timezone.utc)}
        if lock is not None and self.postgres:
            return self._rowcount(MARK_APPLIED_LOCKED, {**values, "key": lock}) == 1
        return self._rowcount(MARK_APPLIED, values) == 1

    def _mark_ahead(self, event: Envelope, consumer: str, alike: Callable[[Envelope], bool],
                    marked: set[str], new: set[str]) -> None:
        """Marks `event` and the alike events after it not marked yet (a mark made twice would
        read as a duplicate), adding them to `marked` and the new ones to `new`."""
        position = next((i for i, e in enumerate(self.batch_events) if e is event), len(self.batch_events))
        ahead = [event] + [e for e in self.batch_events[position + 1:]
                           if e.case_id is not None and str(e.event_id) not in marked and alike(e)]
        event_ids = [str(e.event_id) for e in ahead]
        # the locks in one order for every batch (sorted), however its events are ordered
        keys = sorted({e.case_id for e in ahead})
        new.update(row["event_id"] for row in self.fetch(MARK_APPLIED_AHEAD, {
            "keys": keys, "consumer": consumer, "event_ids": event_ids, "applied_at": datetime.now(timezone.utc)}))
        marked.update(event_ids)

    def upsert(self, table: Table, keys: list[str], *, update: bool = True, **values) -> int:
        """Insert a row, or on a conflict on `keys` update its other columns (`update=False`:
        leave it as it is). Returns how many rows were written."""
        return self._rowcount(upsert_statement(table, tuple(keys), tuple(values), update), values)

    def upsert_later(self, table: Table, keys: list[str], *, update: bool = True, **values) -> None:
        """`upsert`, when nothing asks how many rows were written: sent as `write` sends it."""
        self.write(upsert_statement(table, tuple(keys), tuple(values), update), values)

    def insert(self, table: Table, **values) -> None:
        """Insert a row, sent as `write` sends it: a conflict fails the unit of work."""
        self.write(insert_statement(table, tuple(values)), values)

    def append(self, table: Table, unless_present: tuple[str, ...] = (), **values) -> None:
        """Insert a row that nothing reads before the commit (an outbox event, a line of a
        timeline): the rows appended to a table go in one statement just before the commit, a
        batch's too, whoever commits. A read in this transaction that could see them calls
        `flush` first. `unless_present`: the unique columns of a row kept only once (a
        redelivered report), which is then left as it is."""
        if not self._appended:
            self.session.connection()  # a transaction now: its rollback, begun or not, forgets the rows
        self._appended.append((table, unless_present, values))

    def flush(self) -> None:
        """Insert what was appended, in one statement per table (and set of columns), in order;
        on PostgreSQL all of them, and the writes waiting (`write`), in one round trip."""
        appended, self._appended = self._appended, []
        for _, group in groupby(appended, key=lambda row: (row[0].name, row[1], tuple(row[2]))):
            rows = list(group)
            self.insert_many(rows[0][0], [values for _, _, values in rows], unless_present=rows[0][1], later=True)
        self.send_unsent()

    def insert_many(self, table: Table, rows: list[dict], unless_present: tuple[str, ...] = (),
                    later: bool = False) -> int | None:
        """Rows with the same columns in one `INSERT … VALUES (…), (…)` (several, for very many);
        `unless_present`: a row whose unique columns are taken is left out. Returns how many went
        in; `later`: nothing asks, and they are sent as `write` sends (None)."""
        if not rows:
            return 0
        columns = tuple(rows[0])
        size = max(1, _MOST_PARAMETERS // len(columns))
        inserted = 0
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            statement = insert_rows_statement(table, columns, len(chunk), tuple(unless_present))
            params = {f"r{i}_{c}": row[c] for i, row in enumerate(chunk) for c in columns}
            if later:
                self.write(statement, params)
            else:
                inserted += self._rowcount(statement, params)
        return None if later else inserted

    def delete(self, table: Table, **where) -> int:
        """Delete the rows whose columns equal `where`'s (a list: any of its values); returns how many."""
        return self._rowcount(delete_statement(table, _shape(where)), _where_params(where))

    def update(self, table: Table, where: dict, **values) -> int:
        """Set `values` on the rows whose columns equal `where`'s (a list: any of its values);
        returns how many."""
        return self._rowcount(update_statement(table, _shape(where), tuple(values)),
                              {**values, **_where_params(where, "key_")})

    def update_later(self, table: Table, where: dict, **values) -> None:
        """`update`, when nothing asks how many rows: sent as `write` sends it."""
        self.write(update_statement(table, _shape(where), tuple(values)), {**values, **_where_params(where, "key_")})

    def row(self, table: Table, **keys):
        """The first row whose columns equal `keys` (a mapping), or None."""
        return next(iter(self.rows(table, **keys)), None)

    def rows(self, table: Table, order_by: str | None = None, **keys) -> list:
        """The rows whose columns equal `keys` (a list: any of its values), as mappings, ordered by
        the column `order_by`."""
        return self.fetch(rows_statement(table, _shape(keys), order_by), _where_params(keys))

    def upserted(self, table: Table, keys: list[str], **values):
        """`upsert` that updates, and returns the whole row as it now stands (one statement:
        no read after the write)."""
        statement = upsert_statement(table, tuple(keys), tuple(values), True, returning=True)
        [row] = self.fetch(statement, values)
        return row

    def next_numbers(self, name: str, count: int) -> list[int]:
        """`count` consecutive values of a named counter, in one statement: what `count` calls
        of next_number would give."""
        if count <= 0:
            return []
        [row] = self.fetch(NEXT_NUMBERS, {"name": name, "count": count})
        last = row["value"]
        return list(range(last - count + 1, last + 1))

    def lock(self, key: str) -> None:
        """Serialise work on one key (a case) across replicas until commit. SQLite's
        BEGIN IMMEDIATE already serialises every writer."""
        if self.postgres:
            self.fetch(LOCK, {"key": key})

    def next_number(self, name: str) -> int:
        """The next value of a named counter; rolled back with the transaction, so a retried
        handler issues the same number again and no number is skipped."""
        [row] = self.fetch(NEXT_NUMBER, {"name": name})
        return row["value"]


_UNIT_OF_WORK = "yjs_unit_of_work"
_UNSENT = "yjs_unsent"  # in a pooled connection's info: the unit of work whose writes may wait
_SERVER_PREPARED = "yjs_server_prepared"  # in a pooled connection's info: the statements PREPAREd on it


@sql_event.listens_for(Session, "before_commit")
def _insert_appended(session: Session) -> None:
    uow = session.info.get(_UNIT_OF_WORK)
    if uow is not None:
        uow.flush()


def _send_together(connection, unsent: list[bytes]) -> None:
    """Writes waiting (`write`), sent now in one round trip, through the engine's error handling."""
    sql = b"; ".join(unsent)
    unsent.clear()
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql)
    except BaseException as error:
        connection._handle_dbapi_exception(error, sql, None, cursor, None)  # raises
    cursor.close()


@sql_event.listens_for(Engine, "before_cursor_execute")
def _send_unsent_first(connection, _cursor, _statement, _parameters, _context, _executemany) -> None:
    """A statement SQLAlchemy runs on a connection whose unit of work has writes waiting comes
    after them, as it would have had they been sent at once."""
    waiting = connection.info.get(_UNSENT)
    if waiting is not None:
        waiting.send_unsent()


@sql_event.listens_for(Pool, "reset")
def _forget_unsent_on_return(_dbapi_connection, record, _reset_state) -> None:
    """A connection back in the pool carries no other unit of work's writes to its next user."""
    waiting = record.info.pop(_UNSENT, None)
    if waiting is not None:
        waiting._unsent.clear()


@sql_event.listens_for(Session, "after_soft_rollback")  # every rollback, begun or not
def _forget_appended(session: Session, _previous) -> None:
    uow = session.info.get(_UNIT_OF_WORK)
    if uow is not None:
        uow._appended.clear()
        uow._unsent.clear()  # never sent: the rollback forgets them with the rest
        uow._marked_ahead.clear()
        uow._connection = None


@sql_event.listens_for(Session, "after_commit")
def _forget_connection(session: Session) -> None:
    uow = session.info.get(_UNIT_OF_WORK)
    if uow is not None:
        uow._connection = None  # the next transaction may have another


class BatchSpoiled(Exception):
    """A unit of work inside a batch failed: the batch is rolled back and its events are applied
    one at a time, as if the batch had never been."""


@dataclass
class _Batch:
    uow: UnitOfWork
    spoiled: BaseException | None = None
    after_commit: list[Callable[[], None]] = field(default_factory=list)


# the batch the current green thread applies, if any (each green thread has its own context)
_BATCH: ContextVar[_Batch | None] = ContextVar("yjs_batch", default=None)


class Database(DependencyProvider):
    """`self.db.unit_of_work()` in a service; one engine, one outbox relay per process."""

    def __init__(self, metadata: MetaData):
        self.metadata = metadata
        self.engine = None
        self.relay = None
        self.statements_sent = self.round_trips_made = None  # the metrics' children for this service, once set up
        self.server_prepared = True  # only PostgreSQL's statements are ever prepared

    def setup(self):
        config = self.container.config
        self.engine = make_engine(config["DATABASE_URL"], config.get("DB_POOL_SIZE", POOL_SIZE),
                                  int(config.get("DB_WAIT_BEFORE_YIELD_MS", DEFAULTS["DB_WAIT_BEFORE_YIELD_MS"])))
        self.server_prepared = bool(config.get("DB_PREPARED_STATEMENTS", switched_on(DEFAULTS["DB_PREPARED_STATEMENTS"])))
        statements = self.statements_sent = metrics.DB_STATEMENTS.labels(self.container.service_name)
        round_trips = self.round_trips_made = metrics.DB_ROUND_TRIPS.labels(self.container.service_name)
        # what a case costs: the direct path's statements and round trips (`_count`), the
        # engine's statements (each its own round trip) and every commit

        def engine_statement(*_):
            statements.inc()
            round_trips.inc()

        sql_event.listen(self.engine, "before_cursor_execute", engine_statement)
        sql_event.listen(self.engine, "commit", lambda *_: round_trips.inc())
        self.sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.relay = OutboxRelay(
            self.container.service_name, self.engine, self.metadata, config["AMQP_URI"],
            confirm_timeout=float(config.get("OUTBOX_CONFIRM_TIMEOUT", DEFAULTS["OUTBOX_CONFIRM_TIMEOUT"])),
            max_attempts=int(config.get("OUTBOX_MAX_ATTEMPTS", DEFAULTS["OUTBOX_MAX_ATTEMPTS"])),
            sent_retention=timedelta(hours=float(config.get("OUTBOX_RETENTION_HOURS", DEFAULTS["OUTBOX_RETENTION_HOURS"]))),
            inbox_retention=timedelta(hours=float(config.get("INBOX_RETENTION_HOURS", DEFAULTS["INBOX_RETENTION_HOURS"]))),
            heartbeat=float(config.get("HEARTBEAT", DEFAULTS["AMQP_HEARTBEAT"])))

    def start(self):
        self.relay.start()

    def stop(self):
        self.relay.stop()
        self.engine.dispose()

    def kill(self):
        self.stop()

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """One transaction; inside `batch()`, the batch's. A unit of work that fails there, even
        if its caller catches the error, spoils the batch: nothing of it is committed, and each
        event is applied again on its own, where the failure rolls back only its own work."""
        batch = _BATCH.get()
        if batch is not None:
            try:
                yield batch.uow
            except BaseException as error:
                batch.spoiled = error
                raise
            return
        session = self.sessions()
        uow = UnitOfWork(session, self.metadata, self.server_prepared)
        try:
            yield uow
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
            self._count(uow)
        if uow.handed_over:
            self.relay.hand_over(uow.handed_over)

    @contextmanager
    def batch(self, events: Iterable[Envelope] = ()) -> Iterator[None]:
        """Every unit of work in this green thread until the end of the block is one transaction,
        committed at the end (BatchSpoiled when one of them failed). `events`: those the batch
        applies, in order (see `first_time`)."""
        session = self.sessions()
        batch = _Batch(UnitOfWork(session, self.metadata, self.server_prepared))
        batch.uow.batch_events = list(events)
        token = _BATCH.set(batch)
        try:
            yield
            if batch.spoiled is not None:
                raise BatchSpoiled(repr(batch.spoiled)) from batch.spoiled
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            _BATCH.reset(token)
            session.close()
            self._count(batch.uow)
        if batch.uow.handed_over:
            self.relay.hand_over(batch.uow.handed_over)
        for callback in batch.after_commit:
            callback()

    def _count(self, uow: UnitOfWork) -> None:
        if uow.statements and self.statements_sent is not None:
            self.statements_sent.inc(uow.statements)
        if uow.round_trips and self.round_trips_made is not None:
            self.round_trips_made.inc(uow.round_trips)

    @staticmethod
    def after_commit(callback: Callable[[], None]) -> None:
        """Run `callback` once what was done is committed: now, outside a batch (call it after
        the unit of work), or when the batch commits; never if it rolls back."""
        batch = _BATCH.get()
        if batch is None:
            callback()
        else:
            batch.after_commit.append(callback)

    def get_dependency(self, worker_ctx):
        return self

    def worker_setup(self, worker_ctx):
        event = worker_ctx.args[0] if worker_ctx.args and isinstance(worker_ctx.args[0], Envelope) else None
        about_event(event)
