"""The kit's own tables, added to each service's metadata so they live in its database. The
kit's migration branch (yjs_kit/migrations/versions) creates and changes them, once, for all."""

from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Column, DateTime, Index, Integer, LargeBinary, MetaData, PrimaryKeyConstraint, String, Table,
                        Text, text)


def kit_metadata() -> MetaData:
    """The kit's tables alone: what the kit's migration branch builds."""
    metadata = MetaData()
    add_kit_tables(metadata)
    return metadata


def add_kit_tables(metadata: MetaData) -> None:
    # outbox: events stored with the state change that caused them, published by the relay
    Table("kit_outbox", metadata,
          Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
          Column("event_id", String(36), nullable=False, unique=True),
          Column("exchange", String(100), nullable=False),
          Column("routing_key", String(100), nullable=False),
          Column("body", Text, nullable=False),
          Column("created_at", DateTime(timezone=True), nullable=False),
          Column("sent_at", DateTime(timezone=True), index=True),
          # the relay's lease on a claimed row, or when a refused row may be tried again
          Column("claimed_until", DateTime(timezone=True)),
          Column("attempts", Integer, nullable=False, server_default="0"),  # refused or returned so far
          Column("last_error", Text),
          Column("parked_at", DateTime(timezone=True)))  # refused too often: waits for an operator
    # inbox: (consumer, event_id) applied; the primary key refuses a second application
    Table("kit_inbox", metadata,
          Column("consumer", String(100), nullable=False),
          Column("event_id", String(36), nullable=False),
          Column("applied_at", DateTime(timezone=True), nullable=False, index=True),  # pruned by age
          PrimaryKeyConstraint("consumer", "event_id"))
    Table("kit_dead_letters", metadata,
          Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
          Column("queue", String(200), nullable=False),
          Column("event_type", String(100)),
          Column("event_id", String(36)),
          Column("case_id", String(40), index=True),
          Column("body", Text),  # rows stored before `payload`: the body as text
          # the body exactly as it arrived, whatever it holds; how to read it; where it came from
          Column("payload", LargeBinary),
          Column("content_type", String(100)),
          Column("exchange", String(200)),
          # the broker user that first published it: a replay is judged again by it, not by the operator's
          Column("publisher", String(100)),
          # failed (its handler, after every retry), unreadable, provenance, invalid
          Column("kind", String(20), nullable=False, server_default="failed"),
          Column("reason", Text, nullable=False),
          Column("attempts", Integer, nullable=False),
          Column("failed_at", DateTime(timezone=True), nullable=False),
          Column("replayed_at", DateTime(timezone=True)))
    Table("kit_counters", metadata,
          Column("name", String(100), primary_key=True),
          Column("value", BigInteger, nullable=False))
    # step tracking: the plans that concern this department, prerequisites' outcomes, steps started
    Table("kit_plans", metadata,
          Column("case_id", String(40), primary_key=True),
          Column("matter", String(40), nullable=False),
          # the applicant's subject: what the applicant hands in later is checked against it here
          Column("owner", String(100)),
          Column("application", JSON, nullable=False),
          Column("plan", JSON, nullable=False),
          Column("received_at", DateTime(timezone=True), nullable=False),
          # later outcomes (staff decisions) continue the case's correlation
          Column("correlation_id", String(36)),
          # the application's revision: each supplement (补正) announces a higher one
          Column("revision", Integer, nullable=False, server_default="0"),
          # withdrawn: no step of the case starts any more (it may arrive before the plan)
          Column("withdrawn_at", DateTime(timezone=True)))
    Table("kit_step_facts", metadata,
          Column("case_id", String(40), nullable=False),
          Column("step", String(60), nullable=False),
          Column("status", String(30), nullable=False),
          Column("outputs", JSON, nullable=False),
          PrimaryKeyConstraint("case_id", "step"))
    Table("kit_steps", metadata,
          Column("case_id", String(40), nullable=False),
          Column("step", String(60), nullable=False),
          Column("status", String(30), nullable=False),
          Column("started_at", DateTime(timezone=True), nullable=False),
          Column("finished_at", DateTime(timezone=True)),
          PrimaryKeyConstraint("case_id", "step"))
    # a timer's row (a notice due to end, a 容缺 acceptance past due) whose work keeps failing:
    # counted, and parked after a few tries so the rows behind it go on (an operator looks)
    Table("kit_timer_failures", metadata,
          Column("timer", String(60), nullable=False),
          Column("row_key", String(100), nullable=False),
          Column("attempts", Integer, nullable=False),
          Column("last_error", Text, nullable=False),
          Column("failed_at", DateTime(timezone=True), nullable=False),
          Column("parked_at", DateTime(timezone=True)),
          PrimaryKeyConstraint("timer", "row_key"))
    # staff review (人工审核): a step the rules sent to the department's staff, their decision and
    # who made it; a 容缺受理 keeps the materials still to come and their due date
    Table("kit_reviews", metadata,
          Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
          Column("case_id", String(40), nullable=False, index=True),
          Column("step", String(60), nullable=False),
          Column("status", String(20), nullable=False),  # waiting, decided, closed
          Column("reasons", JSON, nullable=False),
          Column("data", JSON, nullable=False),
          Column("created_at", DateTime(timezone=True), nullable=False),
          Column("decision", String(30)),  # approve, refuse, request_corrections
          Column("decision_reasons", JSON),
          Column("comment", Text),
          Column("decided_by", String(100)),
          Column("decided_at", DateTime(timezone=True)),
          Column("missing_materials", JSON),
          Column("materials_due", DateTime(timezone=True)),
          Column("materials_status", String(20)),  # pending, received, expired
          Index("ix_kit_reviews_status_id", "status", "id"),
          Index("ix_kit_reviews_materials_due", "materials_status", "materials_due"),
          # one waiting review per step, whatever is redelivered
          Index("uq_kit_reviews_waiting_step", "case_id", "step", unique=True,
                postgresql_where=text("status = 'waiting'"), sqlite_where=text("status = 'waiting'")))
