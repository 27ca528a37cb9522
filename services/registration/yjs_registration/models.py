"""What registration keeps: the register of enterprises (and so of names taken), and the names
reserved by establishments still being decided."""

from sqlalchemy import JSON, Column, Date, DateTime, Index, MetaData, Numeric, String, Table, text
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

enterprises = Table(
    "enterprises", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("name_key", String(60), nullable=False),  # rules.name_key: the name as names are compared
    Column("licence_number", String(20), nullable=False, unique=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("division_code", String(6), nullable=False),
    Column("registered_capital", Numeric(18, 2), nullable=False),
    Column("legal_representative", String(50), nullable=False),
    Column("domicile", JSON),  # {"address", "division_code"}
    Column("business_scope", JSON),
    # the full lists as registered, so a change is checked against the enterprise after it
    Column("shareholders", JSON),
    Column("officers", JSON),
    Column("changed_at", DateTime(timezone=True)),  # the last 变更登记
    Column("status", String(20), nullable=False),
    Column("established_on", Date, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("deregistered_at", DateTime(timezone=True)),
    Column("deregistration_case_id", String(40)),
    # one name per register among enterprises still registered: the index refuses a second (one
    # that differs only in punctuation or 有限公司/有限责任公司 too), and a deregistered
    # enterprise's name is free again
    Index("uq_enterprises_registered_name", "name_key", unique=True,
          postgresql_where=text("status = 'registered'"), sqlite_where=text("status = 'registered'")),
)

# 名称预留: a name an establishment waiting for a registrar (or for the applicant's corrections)
# holds, so no other application takes it meanwhile; released when the case is decided, refused
# or withdrawn. The key refuses a second holder.
name_reservations = Table(
    "name_reservations", metadata,
    Column("name", String(60), primary_key=True),
    Column("name_key", String(60), nullable=False, unique=True),
    Column("case_id", String(40), nullable=False, unique=True),
    Column("reserved_at", DateTime(timezone=True), nullable=False),
)

# Who acts for an enterprise: its principals as registered (the legal representative; the
# natural-person investors for the matters that need them), kept from the establishment on.
principals = Table(
    "principals", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("role", String(30), primary_key=True),  # legal_representative, investor
    Column("id_number", String(18), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
)

# 授权经办: the people the legal representative authorised, per matter, until a date (at most a
# year); withdrawn at any time. Rows are never deleted: the record says who was authorised when.
agents = Table(
    "agents", metadata,
    Column("agent_id", String(20), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    Column("id_number", String(18), nullable=False),
    Column("matters", JSON, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("appointed_by", String(18), nullable=False),  # the legal representative's ID number
    Column("appointed_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Index("ix_agents_person", "uscc", "id_number"),
)

# 经营异常名录, 严重违法失信名单, 股权冻结 …: what the register lists an enterprise on, by whose
# decision, when and why. A removal keeps the row (the record says what was listed when); the
# listings in force are announced whole with a growing revision (registration.listings_changed).
listings = Table(
    "listings", metadata,
    Column("listing_id", String(20), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("authority", String(50), nullable=False),
    Column("decided_on", Date, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("listed_by", String(100), nullable=False),  # the staff member's subject
    Column("listed_at", DateTime(timezone=True), nullable=False),
    Column("removed_by", String(100)),
    Column("removed_at", DateTime(timezone=True)),
)

# Which enterprise each case is about: from the establishment that registered it, from a later
# matter's application, or from any department report that names the USCC.
enterprise_cases = Table(
    "enterprise_cases", metadata,
    Column("case_id", String(40), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("matter", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Every department's reports, as they came: the enterprise record (seals, taxpayer, accounts,
# permits, history) is read from them through enterprise_cases, so their order does not matter.
department_reports = Table(
    "department_reports", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("event_type", String(80), nullable=False),
    Column("step", String(60), nullable=False),
    Column("status", String(30), nullable=False),
    Column("outputs", JSON, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
)

# 信用记录: promises found false (虚假承诺) at a 告知承诺 permit's post-issuance check, whichever
# department found them, with the enterprise and the person who signed; each bars 告知承诺 in
# every department until `barred_until` (registration.credit_recorded tells them)
credit_records = Table(
    "credit_records", metadata,
    Column("record_id", String(20), primary_key=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("permit_number", String(20), nullable=False, unique=True),
    Column("case_id", String(40)),
    Column("signer_name", String(50)),
    Column("signer_id_number", String(18), index=True),
    Column("finding", String(1000), nullable=False),
    Column("found_by", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("barred_until", DateTime(timezone=True), nullable=False),
)
