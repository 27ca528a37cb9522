"""The kit's own tables, added to each service's metadata so they live in its database and
migrate with it."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text


def add_kit_tables(metadata: MetaData) -> None:
    # outbox: events stored with the state change that caused them, published by the relay
    Table("kit_outbox", metadata,
          Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
          Column("event_id", String(36), nullable=False, unique=True),
          Column("exchange", String(100), nullable=False),
          Column("routing_key", String(100), nullable=False),
          Column("body", Text, nullable=False),
          Column("created_at", DateTime(timezone=True), nullable=False),
          Column("sent_at", DateTime(timezone=True), index=True))
    # inbox: (consumer, event_id) applied; the primary key refuses a second application
    Table("kit_inbox", metadata,
          Column("consumer", String(100), nullable=False),
          Column("event_id", String(36), nullable=False),
          Column("applied_at", DateTime(timezone=True), nullable=False),
          PrimaryKeyConstraint("consumer", "event_id"))
    Table("kit_dead_letters", metadata,
          Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
          Column("queue", String(200), nullable=False),
          Column("event_type", String(100)),
          Column("event_id", String(36)),
          Column("case_id", String(40), index=True),
          Column("body", Text, nullable=False),
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
          Column("application", JSON, nullable=False),
          Column("plan", JSON, nullable=False),
          Column("received_at", DateTime(timezone=True), nullable=False))
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
