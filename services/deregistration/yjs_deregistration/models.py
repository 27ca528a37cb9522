"""What deregistration keeps: what it has learned of enterprises from other departments, the
deregistration applications it accepted or refused, their notices and the objections to them."""

from sqlalchemy import (JSON, BigInteger, Column, Date, DateTime, ForeignKey, Index, MetaData, Numeric, String, Table,
                        Text, text)
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

# the register as registration announced it (registration.enterprise_registered / _deregistered)
enterprises = Table(
    "enterprises", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("status", String(20), nullable=False),  # registered, deregistered
    Column("learned_at", DateTime(timezone=True), nullable=False),
)


def _arrears_table(name: str) -> Table:
    """What a department announced an enterprise owes; the highest revision wins."""
    return Table(
        name, metadata,
        Column("uscc", String(18), primary_key=True),
        Column("outstanding", Numeric(18, 2), nullable=False),
        Column("revision", BigInteger, nullable=False),
        Column("as_of", DateTime(timezone=True), nullable=False),
    )


# 欠税 as tax announced it (tax.arrears_recorded / _settled)
tax_arrears = _arrears_table("tax_arrears")
# 欠缴社会保险费 as social insurance announced it (social_insurance.arrears_recorded / _settled)
contribution_arrears = _arrears_table("contribution_arrears")

# the listings in force as registration announced them (registration.listings_changed): the
# kinds only, which is all eligibility reads; the highest revision wins
listings = Table(
    "listings", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("kinds", JSON, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("as_of", DateTime(timezone=True), nullable=False),
)

deregistrations = Table(
    "deregistrations", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False),
    Column("route", String(10), nullable=False),  # simple (简易注销), general (一般注销)
    # refused, in_progress, objected, completed, rejected (the case ended otherwise)
    Column("status", String(20), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("liquidation_group", JSON, nullable=False),
    Column("liquidation_report", Text),
    Column("report_approved_on", Date),
    Column("report_submitted_at", DateTime(timezone=True)),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    # one deregistration in progress per enterprise: the index refuses a second
    Index("uq_deregistrations_running_uscc", "uscc", unique=True,
          postgresql_where=text("finished_at IS NULL"), sqlite_where=text("finished_at IS NULL")),
)

notices = Table(
    "notices", metadata,
    Column("notice_id", String(30), primary_key=True),
    # a deregistration's case, or a capital reduction's (变更登记: no deregistration row)
    Column("case_id", String(40), nullable=False, unique=True),
    Column("uscc", String(18), nullable=False),
    Column("enterprise_name", String(60), nullable=False),
    Column("route", String(10), nullable=False),  # simple, general, reduction
    Column("status", String(20), nullable=False),  # running, ended, objected, cancelled
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("liquidation_group_filed_at", DateTime(timezone=True)),
    Index("ix_notices_status_ends_at", "status", "ends_at"),
)

objections = Table(
    "objections", metadata,
    Column("objection_id", String(30), primary_key=True),
    Column("notice_id", String(30), ForeignKey("notices.notice_id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("contact", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("raised_at", DateTime(timezone=True), nullable=False),
)
