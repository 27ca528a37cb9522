"""What the case service keeps: cases, their steps (the plan) and their append-only timeline,
and the applicants' ratings with their follow-ups."""

from sqlalchemy import (JSON, BigInteger, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text, UniqueConstraint)
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
    Column("revision", Integer, nullable=False, server_default="0"),  # of the application: one per supplement
    Column("promised_days", Float),  # the matter's promised limit end to end, in working days, 补正 excluded
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
    Column("decided_by", String(100)),  # the department's staff member, when staff decided (人工审核)
    # waiting for the applicant (补正) since then: the promised limit does not run meanwhile
    Column("paused_at", DateTime(timezone=True)),
    # past its deadline undecided, announced once (case.step_overdue) whichever replica saw it
    Column("overdue_announced_at", DateTime(timezone=True)),
    Column("materials_due", DateTime(timezone=True)),  # 容缺受理: the missing materials are due by then
    Column("promised_days", Float),  # 承诺时限 in working days, as configured when the case was submitted
    Column("legal_days", Float),  # 法定时限 in working days from the step's start, 补正 excluded
    # the department's dead letter this step waits on ("<service>:<number>"), and why
    Column("stalled_by", String(60)),
    Column("stalled_reason", Text),
    Index("ix_case_steps_deadline", "deadline"),
)

# every 补正 pause of a step, once it resumed: the limits do not run meanwhile (无感监测 excludes it)
case_pauses = Table(
    "case_pauses", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("case_id", String(40), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("step", String(60), nullable=False),
    Column("paused_at", DateTime(timezone=True), nullable=False),
    Column("resumed_at", DateTime(timezone=True), nullable=False),
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

# 好差评: one rating per case, given once it has ended
ratings = Table(
    "ratings", metadata,
    Column("case_id", String(40), ForeignKey("cases.case_id"), primary_key=True),
    Column("owner", String(100), nullable=False),
    Column("overall", Integer, nullable=False),
    Column("departments", JSON, nullable=False),
    Column("comment", String(1000)),
    Column("rated_at", DateTime(timezone=True), nullable=False),
)

# 差评督办: a bad rating (不满意 or worse) of a department is followed up by that department, due
# in some working days; the applicant confirms or rejects its answer once; an overdue or rejected
# one escalates to operators, who close it. A bad overall rating is the operators' own
# (department "overall"). The department may appeal (申诉): upheld, the rating stays in the
# record and leaves the figures.
follow_ups = Table(
    "follow_ups", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("case_id", String(40), ForeignKey("cases.case_id"), nullable=False, index=True),
    Column("department", String(40), nullable=False, server_default="overall"),
    Column("owner", String(100), nullable=False),
    Column("ratings", JSON, nullable=False),  # {department or "overall": level}
    Column("comment", String(1000)),
    Column("status", String(10), nullable=False, index=True),  # open, answered, escalated, closed
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), index=True),
    Column("response", Text),  # the department's answer (an operator's, for an overall rating)
    Column("responded_by", String(100)),
    Column("responded_at", DateTime(timezone=True)),
    Column("verdict", String(10)),  # the applicant's, once: confirmed, rejected
    Column("verdict_comment", String(1000)),
    Column("verdict_at", DateTime(timezone=True)),
    Column("escalated_at", DateTime(timezone=True)),
    Column("escalation", String(10)),  # why: overdue, rejected
    Column("resolution", Text),  # the operator's, closing an escalated one
    Column("resolved_by", String(100)),
    Column("closed_at", DateTime(timezone=True)),
    Column("appeal_status", String(10), index=True),  # pending, upheld, dismissed
    Column("appeal_reason", Text),
    Column("appealed_by", String(100)),
    Column("appealed_at", DateTime(timezone=True)),
    Column("appeal_decision", Text),
    Column("appeal_decided_by", String(100)),
    Column("appeal_decided_at", DateTime(timezone=True)),
    UniqueConstraint("case_id", "department", name="uq_follow_ups_case_department"),
)
