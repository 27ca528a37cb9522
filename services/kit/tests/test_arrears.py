"""The arrears ledger on the real PostgreSQL: amounts accumulate per USCC under a growing
revision, settling clears them, and every change is announced with its state."""

from decimal import Decimal

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Numeric, String, Table, select
from sqlalchemy.orm import Session
from yjs_contracts.events import TaxArrears
from yjs_kit.arrears import ArrearsLedger
from yjs_kit.db import make_engine
from yjs_kit.tables import add_kit_tables
from yjs_kit.uow import UnitOfWork

USCC = "91350100M000100Y43"


def _owed_after(owed: Decimal, amount: str) -> Decimal:
    if Decimal(amount) <= 0:
        raise ValueError(f"not owed: {amount}")
    return owed + Decimal(amount)


@pytest.fixture
def ledger_db(database_factory):
    metadata = MetaData()
    add_kit_tables(metadata)
    table = Table("owed", metadata, Column("uscc", String(18), primary_key=True),
                  Column("outstanding", Numeric(14, 2), nullable=False), Column("revision", Integer, nullable=False),
                  Column("note", String(200)), Column("updated_at", DateTime(timezone=True), nullable=False))
    engine = make_engine(database_factory())
    metadata.create_all(engine)
    yield ArrearsLedger(table, "owed", TaxArrears, "dept", _owed_after), engine, metadata
    engine.dispose()


def _in_unit_of_work(engine, metadata, work):
    with Session(engine) as session, session.begin():
        uow = UnitOfWork(session, metadata)
        return work(uow), uow.announced


def test_recorded_amounts_add_up_with_a_growing_revision_and_settling_clears_them(ledger_db):
    ledger, engine, metadata = ledger_db
    first, first_events = _in_unit_of_work(engine, metadata, lambda uow: ledger.record(uow, USCC, "100.5", "三月"))
    second, _ = _in_unit_of_work(engine, metadata, lambda uow: ledger.record(uow, USCC, "20"))
    assert (first.outstanding, first.revision) == (Decimal("100.50"), 1)
    assert (second.outstanding, second.revision) == (Decimal("120.50"), 2)
    assert [e.event_type for e in first_events] == ["dept.arrears_recorded"]
    assert first_events[0].data["outstanding"] == "100.50" and first_events[0].case_id is None
    with Session(engine) as session:
        assert ledger.outstanding(session, USCC) == Decimal("120.50")
        assert session.execute(select(ledger.table.c.note)).scalar_one() is None  # the latest change's note

    settled, events = _in_unit_of_work(engine, metadata, lambda uow: ledger.settle(uow, USCC, "入库"))
    assert (settled.outstanding, settled.revision) == (Decimal("0.00"), 3)
    assert [e.event_type for e in events] == ["dept.arrears_settled"]
    with Session(engine) as session:
        assert ledger.outstanding(session, USCC) == Decimal("0.00")
        assert ledger.outstanding(session, "91110108MA01B2C3D4") == Decimal("0.00")  # never recorded
        assert session.execute(select(ledger.table.c.note)).scalar_one() == "入库"


@pytest.mark.parametrize("uscc, amount", [("91350100M000100Y44", "10"), (USCC, "-1")])
def test_a_refused_uscc_or_amount_writes_and_announces_nothing(ledger_db, uscc, amount):
    ledger, engine, metadata = ledger_db
    with pytest.raises(ValueError):
        _in_unit_of_work(engine, metadata, lambda uow: ledger.record(uow, uscc, amount))
    with Session(engine) as session:
        assert session.execute(select(ledger.table)).all() == []
        assert session.execute(select(metadata.tables["kit_outbox"])).all() == []
