"""What registration keeps: the register of enterprises (and so of names taken), and the names
reserved by establishments still being decided."""

from sqlalchemy import Column, Date, DateTime, Index, MetaData, Numeric, String, Table, text
from yjs_kit.tables import add_kit_tables

metadata = MetaData()
add_kit_tables(metadata)

enterprises = Table(
    "enterprises", metadata,
    Column("uscc", String(18), primary_key=True),
    Column("name", String(60), nullable=False),
    Column("licence_number", String(20), nullable=False, unique=True),
    Column("case_id", String(40), nullable=False, index=True),
    Column("type", String(40), nullable=False),
    Column("division_code", String(6), nullable=False),
    Column("registered_capital", Numeric(18, 2), nullable=False),
    Column("legal_representative", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("established_on", Date, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("deregistered_at", DateTime(timezone=True)),
    Column("deregistration_case_id", String(40)),
    # one name per register among enterprises still registered: the index refuses a second,
    # and a deregistered enterprise's name is free again
    Index("uq_enterprises_registered_name", "name", unique=True,
          postgresql_where=text("status = 'registered'"), sqlite_where=text("status = 'registered'")),
)

# 名称预留: a name an establishment waiting for a registrar (or for the applicant's corrections)
# holds, so no other application takes it meanwhile; released when the case is decided, refused
# or withdrawn. The key refuses a second holder.
name_reservations = Table(
    "name_reservations", metadata,
    Column("name", String(60), primary_key=True),
    Column("case_id", String(40), nullable=False, unique=True),
    Column("reserved_at", DateTime(timezone=True), nullable=False),
)
