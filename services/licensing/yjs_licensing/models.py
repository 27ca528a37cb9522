"""What licensing keeps: the enterprises it has heard of from registration, the catalogue
edition of each case it decides, and every permit it issued."""

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Index, MetaData, String, Table
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

# fed by registration's events, never by registration's database
enterprises = Table(
    "enterprises", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("status", String(20), nullable=False),  # registered, deregistered, revoked (撤销登记)
    Column("case_id", String(40)),
    Column("registered_at", DateTime(timezone=True)),
    Column("deregistered_at", DateTime(timezone=True)),
)

# one row per case with a licensing step: the edition it was planned with and, once decided,
# the step's outputs as they now stand (restated when a permit is revoked)
applications = Table(
    "applications", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("matter", String(40), nullable=False),
    Column("catalogue_version", String(20), nullable=False),
    Column("uscc", String(18), index=True),
    Column("outputs", JSON),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("signer", JSON),  # who signed the case's commitments (case.submitted's verified applicant)
)

permits = Table(
    "permits", metadata,
    Column("permit_number", String(20), primary_key=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("comprehensive", Boolean, nullable=False),
    Column("industry", String(40)),
    Column("items", JSON, nullable=False),
    Column("parts", JSON, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date),
    Column("check_due", Date),  # 告知承诺: the post-issuance check
    Column("check_status", String(20), nullable=False),  # none, scheduled, verified, found_false, not_rectified
    Column("status", String(20), nullable=False, index=True),  # valid, revoked (撤销), cancelled (注销)
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revocation_reason", String(1000)),
    Column("revoked_by", String(200)),
    # 许可变更: the enterprise name and address the permit was last reissued under (None: as issued)
    Column("enterprise_name", String(60)),
    Column("address", String(200)),
    Column("amended_at", DateTime(timezone=True)),
)

# 许可变更: each permit a change case reissued or cancelled, and the permit as it was before,
# so an undone change restores it
permit_amendments = Table(
    "permit_amendments", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("permit_number", String(20), primary_key=True),
    Column("action", String(20), nullable=False),  # amend, cancel
    Column("before", JSON, nullable=False),
    Column("amended_at", DateTime(timezone=True), nullable=False),
)

# 告知承诺's post-issuance checks (事后核查): one per commitment permit, due on its check date
# (or COMMITMENT_CHECK_PERIOD_SECONDS after issue), worked by the department's staff
commitment_checks = Table(
    "commitment_checks", metadata,
    Column("check_id", String(20), primary_key=True),
    Column("department", String(40), nullable=False),
    Column("permit_number", String(20), nullable=False, unique=True),
    Column("case_id", String(40), nullable=False),
    Column("uscc", String(18), nullable=False, index=True),
    Column("signer", JSON),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("overdue_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # open, rectifying, verified, revoked
    Column("result", String(20)),  # the last result recorded: verified, rectify, false_commitment, not_rectified
    Column("reasons", JSON, nullable=False),
    Column("rectify_by", DateTime(timezone=True)),
    Column("checked_by", String(200)),
    Column("checked_at", DateTime(timezone=True)),
    Index("ix_commitment_checks_queue", "department", "status", "due_at"),
)

# the credit record as registration announced it (registration.credit_recorded): who may not
# use 告知承诺 until when, by enterprise and by the person who signed
commitment_bars = Table(
    "commitment_bars", metadata,
    Column("record_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("id_number", String(18), index=True),
    Column("permit_number", String(20), nullable=False),
    Column("finding", String(1000), nullable=False),
    Column("barred_until", DateTime(timezone=True), nullable=False),
)
