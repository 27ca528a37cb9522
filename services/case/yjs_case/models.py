"""What the case service keeps: cases, their steps (the plan) and their append-only timeline."""

from sqlalchemy import (JSON, BigInteger, Column, DateTime, ForeignKey, Integer, MetaData, String, Table,
                        UniqueConstraint)
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

cases = Table(
    "cases", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("matter", String(40), nullable=False),
    Column("status", String(30), nullable=False),
    Column("application", JSON, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False, index=True),
    Column("finished_at", DateTime(timezone=True)),
    Column("outputs", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("idempotency_key", String(200)),
    Column("request_hash", String(64), nullable=False),
    UniqueConstraint("owner", "idempotency_key", name="uq_cases_owner_idempotency_key"),
)

case_steps = Table(
    "case_steps", metadata,
    Column("case_id", String(40), ForeignKey("cases.case_id"), primary_key=True),
    Column("step", String(60), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("department", String(40), nullable=False, index=True),
    Column("status", String(30), nullable=False, index=True),
    Column("after", JSON, nullable=False),
    Column("deadline", DateTime(timezone=True)),
    Column("outputs", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("started_at", DateTime(timezone=True)),  # when everything it waits for was done
    Column("finished_at", DateTime(timezone=True)),
)

case_timeline = Table(
    "case_timeline", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("case_id", String(40), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("summary", String(1000), nullable=False),
)
